"""Sensors: spool and build new log files as they land, re-resolve after a MaxMind update, deliver new windows to the CRM."""

import datetime as dt
import hashlib
import json
from pathlib import Path

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
from pipelines.runner import Span, day_tags


def build_crm_delivery_sensor(crm_job) -> SensorDefinition:
    @asset_sensor(asset_key=AssetKey("account_activity"), job=crm_job)
    def crm_delivery_sensor(context: SensorEvaluationContext, asset_event: EventLogEntry):
        """When a report window's activity is (re)built, deliver that window to the CRM."""
        partition = asset_event.dagster_event.partition
        yield RunRequest(run_key=f"crm-{partition}-{asset_event.storage_id}", partition_key=partition)

    return crm_delivery_sensor


def build_new_logs_sensor(spool_job, daily_job) -> SensorDefinition:
    @sensor(jobs=[spool_job, daily_job], minimum_interval_seconds=300, default_status=DefaultSensorStatus.STOPPED)
    def new_log_files_sensor(context: SensorEvaluationContext, hit_sources: HitSourcesResource):
        """Spool each new or changed log file once, then build the days it holds.

        A tick only looks: it stats the sources' files and reads the spool's catalogue, so a
        huge log never times it out. Files the spool does not hold as they are now (new, or
        changed in size or modification time) are spooled by a run it requests (run key:
        their paths, sizes and modification times); once a file's version is in the spool,
        its days are built by runs of consecutive days (run key: that version and the days).
        """
        unspooled = hit_sources.unspooled_files()
        if unspooled:
            versions = json.dumps([[str(path), *_version(path)] for path in unspooled])
            yield RunRequest(
                run_key=f"spool-{hashlib.sha256(versions.encode()).hexdigest()[:16]}", job_name=spool_job.name
            )
        sources = {str(path.resolve()) for path in hit_sources.all_files()}
        built = set(json.loads(context.cursor) if context.cursor else [])
        catalogue = [log for log in hit_sources.spool.catalogue() if log.source in sources]
        for log in catalogue:
            if log.entry.name in built:
                continue
            days = Span(frozenset(day for day, hits in log.hits.items() if hits), log.hits)
            for first, last in days.day_runs():
                run_key = f"{log.entry.name}-{first}-{last}"
                if first == last:
                    yield RunRequest(run_key=run_key, job_name=daily_job.name, partition_key=first.isoformat())
                else:
                    yield RunRequest(run_key=run_key, job_name=daily_job.name, tags=day_tags(first, last))
            built.add(log.entry.name)
        # Only entries still in the catalogue: a replaced version is never built again.
        context.update_cursor(json.dumps(sorted(built & {log.entry.name for log in catalogue})))

    return new_log_files_sensor


def _version(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


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
