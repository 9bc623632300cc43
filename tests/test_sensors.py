"""Sensors: a new log file is spooled by a run, then its days built once; a newer MaxMind build re-resolves recent days."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from dagster import RunRequest, SkipReason, build_sensor_context, materialize

from connectors.config_files import DEFAULT_SETTINGS_FILE
from demo.mmdb import build_demo_database
from enrichment.settings import QualitySettings
from pipelines.assets.ingestion import build_ingestion_assets
from pipelines.partitions import daily_partitions
from pipelines.resources import HitSourcesResource, MaxMindResource
from pipelines.runner import RANGE_END_TAG, RANGE_START_TAG
from pipelines.schedules import build_jobs, build_spool_job
from pipelines.sensors import build_maxmind_update_sensor, build_new_logs_sensor
from pipelines.settings_resource import SettingsResource

LINE = '64.124.10.7 - - [{day}/Oct/2026:10:00:00 +0000] "GET /pricing HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"\n'
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _hit_sources(folder: Path) -> HitSourcesResource:
    return HitSourcesResource(settings=_settings(folder, hits=[str(folder / "*.log")]))


def _settings(folder: Path, **overrides: str | list[str]) -> SettingsResource:
    """The shipped settings with the spool in ``folder`` and ``overrides``."""
    return SettingsResource(settings_file=str(DEFAULT_SETTINGS_FILE), workspace=str(folder), **overrides)


def _evaluate(folder: Path, cursor: str | None) -> tuple[list[RunRequest], str | None]:
    sensor = build_new_logs_sensor(build_spool_job(), build_jobs()[0])
    with build_sensor_context(cursor=cursor, resources={"hit_sources": _hit_sources(folder)}) as context:
        return list(sensor(context)), context.cursor


def _spool_run(folder: Path) -> None:
    """What the requested spool run does: materialise `spooled_logs`."""
    spooled_logs = build_ingestion_assets(daily_partitions(dt.date(2026, 10, 1)), QualitySettings())[0]
    assert materialize([spooled_logs], resources={"hit_sources": _hit_sources(folder)}).success


def test_a_new_file_is_spooled_by_a_run_then_its_days_are_built_once(tmp_path: Path) -> None:
    (tmp_path / "access.log").write_text(LINE.format(day="05") + LINE.format(day="05") + LINE.format(day="06"))

    first, cursor = _evaluate(tmp_path, None)
    while_spooling, cursor = _evaluate(tmp_path, cursor)
    _spool_run(tmp_path)
    spooled, cursor = _evaluate(tmp_path, cursor)
    again, cursor = _evaluate(tmp_path, cursor)

    assert [r.job_name for r in first] == ["spool_logs_job"]
    assert [r.run_key for r in while_spooling] == [first[0].run_key]  # the same run: Dagster launches it once
    assert [r.job_name for r in spooled] == ["daily_hits_job"]  # both days in one run
    assert (spooled[0].tags[RANGE_START_TAG], spooled[0].tags[RANGE_END_TAG]) == ("2026-10-05", "2026-10-06")
    assert again == []


def test_a_rewritten_file_is_spooled_and_built_again(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(LINE.format(day="05"))
    _, cursor = _evaluate(tmp_path, None)
    _spool_run(tmp_path)
    built, cursor = _evaluate(tmp_path, cursor)

    log.write_text(LINE.format(day="05") + LINE.format(day="07"))
    os.utime(log, (log.stat().st_atime, log.stat().st_mtime + 60))
    changed, cursor = _evaluate(tmp_path, cursor)
    _spool_run(tmp_path)
    rebuilt, _ = _evaluate(tmp_path, cursor)

    assert [r.partition_key for r in built] == ["2026-10-05"]
    assert [r.job_name for r in changed] == ["spool_logs_job"]
    assert sorted(r.partition_key for r in rebuilt) == ["2026-10-05", "2026-10-07"]  # not consecutive: two runs


def test_a_tick_only_looks_so_a_huge_log_never_times_it_out(tmp_path: Path) -> None:
    """The sensor runs in a process of its own, as under the daemon; parsing 64 GiB would take many minutes."""
    (tmp_path / "access.log").write_text(LINE.format(day="05"))
    with (tmp_path / "huge.log").open("wb") as huge:
        huge.truncate(64 * 2**30)  # sparse: no disk used
    script = (
        "import json, sys; from pathlib import Path; from tests.test_sensors import _evaluate; "
        "requests, _ = _evaluate(Path(sys.argv[1]), None); "
        "print(json.dumps([[r.job_name, r.run_key] for r in requests]))"
    )

    evaluated = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )

    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    [[job, run_key]] = json.loads(evaluated.stdout)
    assert job == "spool_logs_job" and run_key.startswith("spool-")
    assert not (tmp_path / "spool").exists()  # nothing parsed


def test_a_newer_maxmind_build_reprocesses_recent_days(tmp_path: Path) -> None:
    build_demo_database(tmp_path)
    sensor = build_maxmind_update_sensor(build_jobs()[0], reprocess_days=3)
    resources = {"maxmind": MaxMindResource(settings=_settings(tmp_path, maxmind_dir=str(tmp_path)))}

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
