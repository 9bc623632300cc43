"""Run the pipeline over a span of days: the daily job in a few ranged runs, then each report window.

Every run goes through the persistent Dagster instance with ``execute_job`` on a
reconstructable job, labelled with the code location, so it shows in the run list, under
its job, and with its partitions, materialisations and checks in the asset catalogue. A
run covers several
consecutive days (the daily assets handle each of its days on its own), cut so that the
frames a run holds until it ends stay bounded; report windows run one per window.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckSeverity,
    DagsterInstance,
    DagsterRunStatus,
    MarkdownMetadataValue,
    RunsFilter,
    build_reconstructable_job,
    execute_job,
)

from connectors.processes import process_alive
from pipelines.partitions import DAYS_PER_RUN

# The run tags Dagster reads a run's partitions from: one day, or a range of consecutive days.
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG, RANGE_END_TAG = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
# The code location's name wherever it is loaded: pyproject's [tool.dagster] (`dagster dev`),
# the Helm chart's user deployment (a Kubernetes name: no underscores), workspace files, and
# and the label of the runs below.
CODE_LOCATION_NAME = "visitor-intent"
# The tag by which the UI lists a job's runs on the job's page: "<repository>@<location>".
# `execute_job` runs in this process, with no code location to take it from, so it is set here.
# (The Timeline only draws runs launched through a code location: the UI, schedules, sensors
# and backfills.)
REPOSITORY_LABEL_TAG = ".dagster/repository"
REPOSITORY_LABEL = f"__repository__@{CODE_LOCATION_NAME}"
# Which `visitor-intent` process ran a run (host:pid), so that a later one can tell it died.
CLI_PROCESS_TAG = "visitor-intent/cli-process"
# A run keeps its days' frames until it ends (a busy day's clean hits at about 70 bytes a hit):
# runs of this many hits (or of one busier day) put the replay bench's 11 days (1M hits) in 4
# runs instead of 10, about 4 s less, for about 30 MiB more peak RSS.
HITS_PER_RUN = 300_000

# The run's events are in the instance (the UI shows them) and a failure reaches the command
# as an exception: the console gets nothing, so that a user's mistake stays one line.
_QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
_IN_PROGRESS = [DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]


@dataclass(frozen=True)
class Span:
    """The UTC days that have hits (a log may span months with only a few busy days), and their hit counts."""

    days: frozenset[dt.date]
    hits: Mapping[dt.date, int] = field(default_factory=dict)

    @property
    def first_day(self) -> dt.date:
        return min(self.days)

    @property
    def last_day(self) -> dt.date:
        return max(self.days)

    def day_runs(self, max_days: int = DAYS_PER_RUN, max_hits: int = HITS_PER_RUN) -> list[tuple[dt.date, dt.date]]:
        """First and last day of each daily run: consecutive days, at most ``max_days`` of them
        and, unless a day is alone, at most ``max_hits`` hits."""
        runs: list[list[dt.date]] = []
        for day in sorted(self.days):
            current = runs[-1] if runs else []
            fits = (
                current
                and day - current[-1] == dt.timedelta(days=1)
                and len(current) < max_days
                and sum(self.hits.get(d, 0) for d in current) + self.hits.get(day, 0) <= max_hits
            )
            if fits:
                current.append(day)
            else:
                runs.append([day])
        return [(run[0], run[-1]) for run in runs]

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


@dataclass(frozen=True)
class RunTarget:
    """What `visitor-intent run` runs: a settings file, a workspace, the command's overrides.

    Plain values: Dagster records them with each run to rebuild its job (``run_job``).
    """

    settings_file: str
    workspace: str | None = None
    overrides: Mapping[str, str | list[str]] = field(default_factory=dict)

    def job(self, name: str):
        return build_reconstructable_job(
            "pipelines.definitions",
            "run_job",
            reconstructable_args=(name, self.settings_file),
            reconstructable_kwargs={"workspace": self.workspace, **self.overrides},
        )


@dataclass(frozen=True)
class CheckOutcome:
    """An asset check that failed or warned, for the one-line summary after a run."""

    asset: str
    check: str
    partition: str | None
    severity: str
    metadata: Mapping[str, Any]

    def line(self) -> str:
        where = f"{self.asset} [{self.partition}]" if self.partition else self.asset
        figures = ", ".join(f"{name} {_plain(value)}" for name, value in self.metadata.items())
        return f"{self.severity} {self.check} on {where}: {figures}"


@dataclass
class SpanResult:
    run_ids: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)


def run_span(
    instance: DagsterInstance,
    target: RunTarget,
    span: Span,
    window_days: int,
    *,
    crm: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> SpanResult:
    """Materialise every day of the span and its report windows (and deliver them to the CRM)."""
    result = SpanResult()
    day_runs = span.day_runs()
    for number, (first, last) in enumerate(day_runs, 1):
        _execute(instance, target.job("daily_hits_job"), day_tags(first, last), result)
        progress(f"days {number}/{len(day_runs)} done (up to {last})")
    windows = span.window_ends(window_days)
    for number, end in enumerate(windows, 1):
        _execute(instance, target.job("report_window_job"), {PARTITION_TAG: end.isoformat()}, result)
        if crm:
            _execute(instance, target.job("crm_delivery_job"), {PARTITION_TAG: end.isoformat()}, result)
        progress(f"report windows {number}/{len(windows)} done (ending {end})")
    return result


def fail_abandoned_runs(instance: DagsterInstance) -> list[str]:
    """Mark failed the runs a `visitor-intent` process on this machine started and died in (killed).

    Such runs would stay "started" for ever: no daemon watches a process it did not launch.
    Returns their run ids.
    """
    host = socket.gethostname()
    abandoned = []
    for run in instance.get_runs(filters=RunsFilter(statuses=_IN_PROGRESS)):
        owner_host, _, pid = run.tags.get(CLI_PROCESS_TAG, "").rpartition(":")
        if owner_host == host and pid.isdigit() and not process_alive(int(pid)):
            instance.report_run_failed(run, f"the visitor-intent process that ran it (pid {pid}) ended mid-run")
            abandoned.append(run.run_id)
    return abandoned


def _execute(instance: DagsterInstance, job, tags: dict[str, str], result: SpanResult) -> None:
    tags = {**tags, REPOSITORY_LABEL_TAG: REPOSITORY_LABEL, CLI_PROCESS_TAG: f"{socket.gethostname()}:{os.getpid()}"}
    with execute_job(job, instance, run_config=_QUIET, tags=tags, raise_on_error=True) as run:
        result.run_ids.append(run.run_id)
        for materialization in run.asset_materializations_for_node("account_reports"):
            result.reports.append(str(materialization.metadata["summary"].value).removeprefix("file://"))
        result.checks.extend(_outcome(check) for check in run.get_asset_check_evaluations() if not check.passed)


def _outcome(evaluation: AssetCheckEvaluation) -> CheckOutcome:
    severity = "WARN" if evaluation.severity == AssetCheckSeverity.WARN else "FAILED"
    return CheckOutcome(
        asset=evaluation.asset_key.to_user_string(),
        check=evaluation.check_name,
        partition=evaluation.partition,
        severity=severity,
        # Tables are for the UI; the one-line summary takes figures and words.
        metadata={
            name: value.value
            for name, value in evaluation.metadata.items()
            if not isinstance(value, MarkdownMetadataValue)
        },
    )


def day_tags(first: dt.date, last: dt.date) -> dict[str, str]:
    """The tags of a run of the days ``first`` to ``last``: its partition, or its range of partitions."""
    if first == last:
        return {PARTITION_TAG: first.isoformat()}
    return {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}


def _plain(value: Any) -> str:
    """A metadata value on one line (a markdown table is squeezed into its rows)."""
    return " ".join(str(value).split())[:300]
