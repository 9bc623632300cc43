"""Run the pipeline in-process over a span of days: the daily job per day, then report windows."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterInstance, Definitions

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
    daily = defs.resolve_job_def("daily_hits_job")
    for day in sorted(span.days):
        daily.execute_in_process(partition_key=day.isoformat(), instance=run_instance, run_config=_QUIET)
    report_job = defs.resolve_job_def("report_window_job")
    jobs = {job.name: job for job in defs.resolve_all_job_defs()}
    crm_job = jobs.get("crm_delivery_job")  # only when a CRM is configured
    locations = []
    for end in span.window_ends(window_days):
        result = report_job.execute_in_process(partition_key=end.isoformat(), instance=run_instance, run_config=_QUIET)
        for materialization in result.asset_materializations_for_node("account_reports"):
            locations.append(str(materialization.metadata["summary"].value).removeprefix("file://"))
        if crm_job is not None:
            crm_job.execute_in_process(partition_key=end.isoformat(), instance=run_instance, run_config=_QUIET)
    return locations
