"""Run the pipeline in-process over a span of days: the daily job per day, then report windows."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterInstance, Definitions, ExecuteInProcessResult

_QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass(frozen=True)
class Span:
    """The UTC days that have hits (a log may span months with only a few busy days)."""

    days: frozenset[dt.date]

    @property
    def first_day(self) -> dt.date:
        return min(self.days)

    @property
    def last_day(self) -> dt.date:
        return max(self.days)

    def window_ends(self, window_days: int) -> list[dt.date]:
        """End days of back-to-back windows from the last day, keeping those that hold hits."""
        ends = []
        end = self.last_day
        while end >= self.first_day:
            start = end - dt.timedelta(days=window_days - 1)
            if any(start <= day <= end for day in self.days):
                ends.append(end)
            end -= dt.timedelta(days=window_days)
        return sorted(ends)


def instance() -> DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set up (runs then show in the UI), else a throwaway one."""
    home = os.environ.get("DAGSTER_HOME")
    if home and Path(home, "dagster.yaml").exists():
        return DagsterInstance.get()
    return DagsterInstance.ephemeral()


def run_span(defs: Definitions, span: Span, window_days: int) -> list[str]:
    """Materialise every day of the span and its report windows; returns the report locations."""
    run_instance = instance()

    def execute(job_name: str, day: dt.date) -> ExecuteInProcessResult:
        result = defs.resolve_job_def(job_name).execute_in_process(
            partition_key=day.isoformat(), instance=run_instance, run_config=_QUIET
        )
        # execute_in_process keeps every output for `output_for_node`, and Dagster 1.13 leaves
        # the last step's context (and with it those outputs) in a module global until the
        # next run: without this, a day of hits would still be held at the next day's peak.
        result._output_capture.clear()  # noqa: SLF001 - no public way to turn the capture off
        return result

    for day in sorted(span.days):
        execute("daily_hits_job", day)
    crm_configured = "crm_delivery_job" in {job.name for job in defs.resolve_all_job_defs()}
    locations = []
    for end in span.window_ends(window_days):
        result = execute("report_window_job", end)
        for materialization in result.asset_materializations_for_node("account_reports"):
            locations.append(str(materialization.metadata["summary"].value).removeprefix("file://"))
        if crm_configured:
            execute("crm_delivery_job", end)
    return locations
