"""One-off runs: a few ranged runs over the days with hits, then each window; nothing kept of a finished run."""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path

import pandas as pd
import yaml
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from pipelines.resources import resources_from_file
from pipelines.runner import RANGE_END_TAG, RANGE_START_TAG, RunTarget, Span, run_span

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"

D = dt.date


def test_windows_step_back_from_the_last_day_and_skip_empty_ones() -> None:
    span = Span(frozenset({D(2013, 2, 5), D(2013, 10, 27), D(2013, 10, 28)}))

    ends = span.window_ends(14)

    assert ends[-1] == D(2013, 10, 28)
    assert len(ends) == 2  # the October window and the one holding 5 February
    start = ends[0] - dt.timedelta(days=13)
    assert start <= D(2013, 2, 5) <= ends[0]


def test_back_to_back_windows_cover_a_busy_span() -> None:
    days = frozenset(D(2026, 10, 5) + dt.timedelta(days=n) for n in range(42))
    assert Span(days).window_ends(14) == [D(2026, 10, 18), D(2026, 11, 1), D(2026, 11, 15)]


def test_consecutive_days_share_a_run_up_to_a_week_and_a_budget_of_hits() -> None:
    days = [D(2026, 10, 1) + dt.timedelta(days=n) for n in range(10)] + [D(2026, 10, 20)]
    hits = dict.fromkeys(days, 10) | {D(2026, 10, 9): 1_000}

    runs = Span(frozenset(days), hits).day_runs(max_days=7, max_hits=500)

    assert runs == [
        (D(2026, 10, 1), D(2026, 10, 7)),  # a week
        (D(2026, 10, 8), D(2026, 10, 8)),  # the next day would pass the budget
        (D(2026, 10, 9), D(2026, 10, 9)),  # a day over the budget still runs, alone
        (D(2026, 10, 10), D(2026, 10, 10)),
        (D(2026, 10, 20), D(2026, 10, 20)),  # a gap starts a new run
    ]


def _settings_file(tmp_path: Path) -> Path:
    """Settings reading ``hits/*.log`` and ``maxmind`` under ``tmp_path``, writing there too."""
    build_demo_database(tmp_path / "maxmind")
    (tmp_path / "settings.yaml").write_text(
        yaml.safe_dump(
            {
                "partitions_start": "2026-11-01",
                "sources": [{"paths": ["hits/*.log"]}],
                "maxmind": {"directory": "maxmind"},
                "taxonomy": str(CONFIG_DIR / "taxonomy.yaml"),
                "target_accounts": str(CONFIG_DIR / "target_accounts.csv"),
                "warehouse_file": "warehouse.db",
                "spool_directory": "spool",
                "report": {"directory": "reports"},
                "privacy": {"allow_demo_salt": True},
            }
        )
    )
    return tmp_path / "settings.yaml"


def _run_span(settings_file: Path, instance: DagsterInstance):
    span = Span(resources_from_file(settings_file)["hit_sources"].days())
    return run_span(instance, RunTarget(str(settings_file)), span, window_days=14)


def test_a_run_leaves_none_of_its_frames_in_memory(tmp_path, monkeypatch) -> None:
    """Each day must fit in memory on its own: nothing of a finished run may stay alive."""
    log = write_sample_hits(tmp_path / "hits" / "access.log", start=D(2026, 11, 2), days=2)
    settings_file = _settings_file(tmp_path)
    monkeypatch.delenv("VISITOR_INTENT_DATABASE_URL", raising=False)

    with DagsterInstance.get() as instance:
        result = _run_span(settings_file, instance)
        runs = [instance.get_run_by_id(run_id) for run_id in result.run_ids]

    # Both days in one run, through the persistent instance; then the window.
    assert [run.job_name for run in runs] == ["daily_hits_job", "report_window_job"]
    assert (runs[0].tags[RANGE_START_TAG], runs[0].tags[RANGE_END_TAG]) == ("2026-11-02", "2026-11-03")
    assert all(run.status == DagsterRunStatus.SUCCESS for run in runs)
    assert result.reports

    gc.collect()
    left = [
        frame
        for frame in gc.get_objects()
        if isinstance(frame, pd.DataFrame)
        and "source_file" in frame.columns
        and (frame["source_file"] == str(log)).any()
    ]
    assert left == []


def test_runs_show_under_the_code_locations_jobs(tmp_path, monkeypatch) -> None:
    """The UI lists a job's runs on its page by the job's name and its location's label."""
    write_sample_hits(tmp_path / "hits" / "access.log", start=D(2026, 11, 2), days=1)
    settings_file = _settings_file(tmp_path)
    monkeypatch.delenv("VISITOR_INTENT_DATABASE_URL", raising=False)

    with DagsterInstance.get() as instance:
        result = _run_span(settings_file, instance)
        label = {".dagster/repository": "__repository__@visitor-intent"}
        listed = {
            job: {run.run_id for run in instance.get_runs(filters=RunsFilter(job_name=job, tags=label))}
            for job in ("daily_hits_job", "report_window_job")
        }
        [daily_run_id, window_run_id] = result.run_ids

    assert daily_run_id in listed["daily_hits_job"] and window_run_id in listed["report_window_job"]
