"""Sensors: ingest new log files as they land; deliver each new report window to the CRM."""

import json

from dagster import (
    AssetKey,
    DefaultSensorStatus,
    EventLogEntry,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    asset_sensor,
    sensor,
)

from pipelines.resources import HitSourcesResource
from pipelines.runner import hits_span


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
            span = hits_span([path])
            for day in sorted(span.days) if span else []:
                yield RunRequest(run_key=f"{path}:{modified}:{day}", partition_key=day.isoformat())
            seen[str(path)] = modified
        context.update_cursor(json.dumps(seen))

    return new_log_files_sensor
