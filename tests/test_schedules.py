"""The report schedule builds a window every N weeks, keyed by the Sunday it ends on."""

from __future__ import annotations

import datetime as dt

import pytest
from dagster import RunRequest, SkipReason, build_schedule_context

from pipelines.partitions import window_bounds
from pipelines.schedules import build_jobs, build_schedules


def _report_schedule(every_weeks: int):
    daily_job, report_job = build_jobs()
    return {s.name: s for s in build_schedules(daily_job, report_job, every_weeks)}["report_window_schedule"]


def _evaluate(schedule, when: dt.datetime):
    return schedule(build_schedule_context(scheduled_execution_time=when))


@pytest.mark.parametrize("every_weeks", [2, 3, 4])
def test_one_report_every_n_weeks_for_the_window_ending_on_sunday(every_weeks: int) -> None:
    schedule = _report_schedule(every_weeks)
    mondays = [dt.datetime(2026, 9, 7, 6, tzinfo=dt.UTC) + dt.timedelta(weeks=n) for n in range(12)]

    results = [_evaluate(schedule, monday) for monday in mondays]
    requests = [r for r in results if isinstance(r, RunRequest)]

    assert len(requests) == 12 // every_weeks
    assert all(isinstance(r, SkipReason) for r in results if not isinstance(r, RunRequest))
    for request in requests:
        assert dt.date.fromisoformat(request.partition_key).weekday() == 6  # Sunday


def test_a_window_covers_exactly_its_days() -> None:
    assert window_bounds("2026-11-15", 14) == (dt.date(2026, 11, 2), dt.date(2026, 11, 15))
    assert window_bounds("2026-11-15", 28) == (dt.date(2026, 10, 19), dt.date(2026, 11, 15))
