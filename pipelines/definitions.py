"""The Dagster code location: `dagster dev` and `dagster definitions validate` load `defs`."""

from __future__ import annotations

from collections.abc import Mapping

from dagster import Definitions

from enrichment.settings import Settings, load_settings
from pipelines.assets.delivery import build_delivery_assets
from pipelines.assets.enrichment import build_enrichment_assets
from pipelines.assets.ingestion import build_ingestion_assets
from pipelines.assets.privacy import build_privacy_assets
from pipelines.assets.reporting import build_reporting_assets
from pipelines.partitions import daily_partitions
from pipelines.resources import CRM_RESOURCE_KEYS, resources_from_settings
from pipelines.schedules import build_crm_job, build_jobs, build_retention_schedule, build_schedules
from pipelines.sensors import build_crm_delivery_sensor, build_maxmind_update_sensor, build_new_logs_sensor


def build_definitions(settings: Settings, resources: Mapping[str, object] | None = None) -> Definitions:
    """Assets, checks, jobs and schedules for one settings file (partition start and window come from it)."""
    partitions = daily_partitions(settings.partitions_start)
    resources = dict(resources if resources is not None else resources_from_settings(settings))
    daily_job, report_job = build_jobs()
    assets = [
        *build_ingestion_assets(partitions, settings.quality),
        *build_enrichment_assets(partitions, settings.quality),
        *build_reporting_assets(
            partitions, settings.report.window_days, settings.intent.baseline_weeks, settings.quality
        ),
        *build_privacy_assets(settings.privacy),
    ]
    jobs = [daily_job, report_job]
    sensors = [
        build_new_logs_sensor(daily_job),
        # Re-resolving two report windows' worth of days refreshes every report a user may open.
        build_maxmind_update_sensor(daily_job, reprocess_days=2 * settings.report.window_days),
    ]
    crm_keys = [key for key in CRM_RESOURCE_KEYS if key in resources]
    if crm_keys:  # CRM delivery exists once a CRM is configured
        crm_job = build_crm_job()
        assets += build_delivery_assets(partitions, settings.report.window_days, crm_keys)
        jobs.append(crm_job)
        sensors.append(build_crm_delivery_sensor(crm_job))
    return Definitions(
        assets=assets,
        jobs=jobs,
        schedules=[*build_schedules(daily_job, report_job, settings.report.every_weeks), build_retention_schedule()],
        sensors=sensors,
        resources=resources,
    )


defs = build_definitions(load_settings())
