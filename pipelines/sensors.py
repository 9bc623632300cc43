"""Sensors: ingest new log files as they land, re-resolve after a MaxMind update, deliver new windows to the CRM."""

import datetime as dt
import json

from dagster import (
    AssetKey,
    DefaultSensorStatus,
    EventLogEntry,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    asset_sensor,
    sensor,
)

from pipelines.resources import HitSourcesResource, MaxMindResource


def build_crm_delivery_sensor(crm_job) -> SensorDefinition:
    @asset_sensor(asset_key=AssetKey("account_activity"), job=crm_job)
    def crm_delivery_sensor(context: SensorEvaluationContext, asset_event: EventLogEntry):
        """When a report window's activity is (re)built, deliver that window to the CRM."""
        partition = asset_event.dagster_event.partition
        yield RunRequest(run_key=f"crm-{partition}-{asset_event.storage_id}", partition_key=partition)

    return crm_delivery_sensor


def build_new_logs_sensor(daily_job) -> SensorDefinition:
    @sensor(job=daily_job, minimum_interval_seconds=300, default_status=DefaultSensorStatus.STOPPED)
    def new_log_files_sensor(context: SensorEvaluationContext, hit_sources: HitSourcesResource):
        """Ingest each new or rewritten log file in the sources' folders exactly once.

        The run key names the file, its modification time and the day, so a file is
        ingested again only when it changes, and each of its days once.
        """
        seen: dict[str, float] = json.loads(context.cursor) if context.cursor else {}
        for path in hit_sources.all_files():
            modified = path.stat().st_mtime
            if seen.get(str(path)) == modified:
                continue
            for day in sorted(hit_sources.days(only=path)):
                yield RunRequest(run_key=f"{path}:{modified}:{day}", partition_key=day.isoformat())
            seen[str(path)] = modified
        context.update_cursor(json.dumps(seen))

    return new_log_files_sensor


def build_maxmind_update_sensor(daily_job, reprocess_days: int) -> SensorDefinition:
    @sensor(job=daily_job, minimum_interval_seconds=3600, default_status=DefaultSensorStatus.STOPPED)
    def maxmind_update_sensor(context: SensorEvaluationContext, maxmind: MaxMindResource):
        """When geoipupdate brings a newer MaxMind build, re-resolve the recent days with it.

        The first evaluation only records the builds in use. Afterwards a newer build of any
        edition requests the last ``reprocess_days`` daily partitions again (a backfill that
        replaces their companies, matches and counts).
        """
        builds = maxmind.opened.build_epochs
        known: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
        newer = {edition: epoch for edition, epoch in builds.items() if known and epoch > known.get(edition, 0)}
        context.update_cursor(json.dumps(builds))
        if not newer:
            return SkipReason("no newer MaxMind build" if known else "recorded the MaxMind builds in use")
        today = dt.datetime.now(dt.UTC).date()
        stamp = max(newer.values())
        return [
            RunRequest(
                run_key=f"maxmind-{stamp}-{day}",
                partition_key=day.isoformat(),
                tags={"visitor-intent/reason": "maxmind-update"},
            )
            for day in (today - dt.timedelta(days=n) for n in range(reprocess_days, 0, -1))
        ]

    return maxmind_update_sensor
