"""Schedules: hits every night; a report window every N weeks."""

import datetime as dt

from dagster import (
    AssetSelection,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    build_schedule_from_partitioned_job,
    define_asset_job,
    schedule,
)

DAILY_GROUPS = ("ingestion", "resolution", "tagging", "matching")
SPOOLED_LOGS = "spooled_logs"  # in the ingestion group, but not daily: it spools every file
# Weeks are counted from a fixed Monday so "every 2 weeks" doesn't jump at a new year.
_FIRST_MONDAY = dt.date(2024, 1, 1)


def build_jobs():
    """The nightly job for one day of hits and the job that builds one report window."""
    daily = define_asset_job(
        "daily_hits_job",
        selection=AssetSelection.groups(*DAILY_GROUPS) - AssetSelection.assets(SPOOLED_LOGS),
        description="Ingest, clean, resolve, tag and match days of hits (one, or a range).",
    )
    report = define_asset_job(
        "report_window_job",
        selection=AssetSelection.groups("reporting"),
        description="Build the report window that ends on the partition day and deliver it.",
    )
    return daily, report


def build_spool_job():
    """Parse new and changed log files into the spool (what the new-logs sensor requests first)."""
    return define_asset_job(
        "spool_logs_job",
        selection=AssetSelection.assets(SPOOLED_LOGS),
        description="Parse every new or changed log file of the sources into the spool.",
    )


def build_retention_schedule() -> ScheduleDefinition:
    """Every night at 03:00 UTC, cut raw IPs past the retention limit."""
    job = define_asset_job("privacy_job", selection=AssetSelection.groups("privacy"))
    return ScheduleDefinition(
        name="raw_ip_retention_schedule", job=job, cron_schedule="0 3 * * *", execution_timezone="UTC"
    )


def build_crm_job():
    """CRM delivery runs on its own, one at a time (the `visitor-intent/crm` run limit)."""
    return define_asset_job(
        "crm_delivery_job",
        selection=AssetSelection.groups("delivery"),
        tags={"visitor-intent/crm": "delivery"},
        description="Deliver one report window to the CRM.",
    )


def build_schedules(daily_job, report_job, every_weeks: int) -> list[ScheduleDefinition]:
    """Yesterday's hits every night; the window ending on Sunday every ``every_weeks`` weeks."""
    daily = build_schedule_from_partitioned_job(daily_job, hour_of_day=1, minute_of_hour=30)

    @schedule(job=report_job, cron_schedule="0 6 * * 1", execution_timezone="UTC")
    def report_window_schedule(context: ScheduleEvaluationContext):
        """Every N weeks on Monday morning, report the window that ended on Sunday."""
        monday = context.scheduled_execution_time.date()
        if ((monday - _FIRST_MONDAY).days // 7) % every_weeks:
            return SkipReason(f"reports run every {every_weeks} weeks; not this week")
        window_end = (monday - dt.timedelta(days=1)).isoformat()
        return RunRequest(run_key=f"report-{window_end}", partition_key=window_end)

    return [daily, report_window_schedule]
