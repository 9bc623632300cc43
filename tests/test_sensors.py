"""Sensors: new log files are ingested once, day by day; a newer MaxMind build re-resolves recent days."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from dagster import SkipReason, build_sensor_context

from demo.mmdb import build_demo_database
from pipelines.resources import HitSource, HitSourcesResource, MaxMindResource
from pipelines.schedules import build_jobs
from pipelines.sensors import build_maxmind_update_sensor, build_new_logs_sensor

LINE = '64.124.10.7 - - [{day}/Oct/2026:10:00:00 +0000] "GET /pricing HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"\n'


def _evaluate(folder: Path, cursor: str | None):
    sensor = build_new_logs_sensor(build_jobs()[0])
    context = build_sensor_context(
        cursor=cursor,
        resources={
            "hit_sources": HitSourcesResource(
                sources=[HitSource(paths=[str(folder / "*.log")])], spool_directory=str(folder / "spool")
            )
        },
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


def test_a_newer_maxmind_build_reprocesses_recent_days(tmp_path: Path) -> None:
    build_demo_database(tmp_path)
    sensor = build_maxmind_update_sensor(build_jobs()[0], reprocess_days=3)
    resources = {"maxmind": MaxMindResource(directory=str(tmp_path))}

    def evaluate(cursor: str | None) -> tuple[object, str]:
        with build_sensor_context(cursor=cursor, resources=resources) as context:
            return sensor(context), context.cursor

    first, recorded = evaluate(None)
    unchanged, _ = evaluate(recorded)
    week_older = {edition: epoch - 7 * 86400 for edition, epoch in json.loads(recorded).items()}
    updated, _ = evaluate(json.dumps(week_older))

    assert isinstance(first, SkipReason) and isinstance(unchanged, SkipReason)
    today = dt.datetime.now(dt.UTC).date()
    assert [r.partition_key for r in updated] == [(today - dt.timedelta(days=n)).isoformat() for n in (3, 2, 1)]
