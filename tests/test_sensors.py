"""The landing-folder sensor ingests each new log file once, day by day."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import build_sensor_context

from pipelines.resources import HitSource, HitSourcesResource
from pipelines.schedules import build_jobs
from pipelines.sensors import build_new_logs_sensor

LINE = '64.124.10.7 - - [{day}/Oct/2026:10:00:00 +0000] "GET /pricing HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"\n'


def _evaluate(folder: Path, cursor: str | None):
    sensor = build_new_logs_sensor(build_jobs()[0])
    context = build_sensor_context(
        cursor=cursor, resources={"hit_sources": HitSourcesResource(sources=[HitSource(paths=[str(folder / "*.log")])])}
    )
    requests = list(sensor(context))
    return requests, context.cursor


def test_a_new_file_is_ingested_once_for_each_of_its_days(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(LINE.format(day="05") + LINE.format(day="05") + LINE.format(day="06"))

    first, cursor = _evaluate(tmp_path, None)
    again, cursor = _evaluate(tmp_path, cursor)

    assert sorted(r.partition_key for r in first) == ["2026-10-05", "2026-10-06"]
    assert len({r.run_key for r in first}) == 2
    assert again == []


def test_a_rewritten_file_is_ingested_again(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(LINE.format(day="05"))
    _, cursor = _evaluate(tmp_path, None)

    log.write_text(LINE.format(day="05") + LINE.format(day="07"))
    os.utime(log, (log.stat().st_atime, log.stat().st_mtime + 60))
    requests, _ = _evaluate(tmp_path, cursor)

    assert sorted(r.partition_key for r in requests) == ["2026-10-05", "2026-10-07"]
