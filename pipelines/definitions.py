"""The Dagster code location: `dagster dev` and `dagster definitions validate` load `defs`.

`visitor-intent run` builds the same definitions for its own settings and files, through
``run_job``, the target of its reconstructable jobs.
"""

from __future__ import annotations

from collections.abc import Mapping

from dagster import Definitions, JobDefinition, in_process_executor

from connectors.config_files import settings_file
from enrichment.settings import Settings
from pipelines.alert_resources import ALERT_SECRET_ENV_VARS
from pipelines.assets.alerts import build_alert_assets
from pipelines.assets.delivery import build_delivery_assets
from pipelines.assets.enrichment import build_enrichment_assets
from pipelines.assets.ingestion import build_ingestion_assets
from pipelines.assets.privacy import build_privacy_assets
from pipelines.assets.reporting import build_reporting_assets
from pipelines.assets.signals import build_signal_assets
from pipelines.crm_resources import CRM_RESOURCE_KEYS
from pipelines.partitions import daily_partitions, first_partition_day
from pipelines.resources import HitSourcesResource, resources_from_file
from pipelines.schedules import build_crm_job, build_jobs, build_retention_schedule, build_schedules, build_spool_job
from pipelines.sensors import build_crm_delivery_sensor, build_maxmind_update_sensor, build_new_logs_sensor


def build_definitions(resources: Mapping[str, object] | None = None) -> Definitions:
    """Assets, checks, jobs and schedules for the resources' settings file (partition start and
    window come from it); default: `resources_from_file` of the settings file in use."""
    resources = dict(resources if resources is not None else resources_from_file(settings_file()))
    settings: Settings = resources["settings"].get()
    hit_sources: HitSourcesResource = resources["hit_sources"]
    partitions = daily_partitions(first_partition_day(settings.partitions_start, hit_sources.spool))
    daily_job, report_job = build_jobs()
    assets = [
        *build_ingestion_assets(partitions, settings.quality),
        *build_enrichment_assets(partitions, settings.quality),
        *build_reporting_assets(
            partitions, settings.report, settings.intent.baseline_weeks, settings.quality, settings.signals.score_weight
        ),
        *build_signal_assets(
            partitions,
            settings.report.window_days,
            settings.path(settings.signals.directory) if settings.signals.directory else None,
            settings.signals.max_age_days,
        ),
        *build_privacy_assets(settings.privacy),
    ]
    spool_job = build_spool_job()
    jobs = [spool_job, daily_job, report_job]
    sensors = [
        build_new_logs_sensor(spool_job, daily_job),
        # Re-resolving two report windows' worth of days refreshes every report a user may open.
        build_maxmind_update_sensor(daily_job, reprocess_days=2 * settings.report.window_days),
    ]
    crm_keys = [key for key in CRM_RESOURCE_KEYS if key in resources]
    if crm_keys:  # CRM delivery exists once a CRM is configured
        crm_job = build_crm_job()
        assets += build_delivery_assets(partitions, settings.report.window_days, crm_keys)
        jobs.append(crm_job)
        sensors.append(build_crm_delivery_sensor(crm_job))
    alert_keys = [key for key in ALERT_SECRET_ENV_VARS if key in resources]
    if alert_keys:  # owner alerts exist once Slack or email is configured
        assets += build_alert_assets(partitions, settings.report.window_days, settings.alerts, alert_keys)
    return Definitions(
        assets=assets,
        jobs=jobs,
        schedules=[*build_schedules(daily_job, report_job, settings.report.every_weeks), build_retention_schedule()],
        sensors=sensors,
        resources=resources,
        # One process per run, not per step: the I/O manager hands a run's frames from step to
        # step in memory, and a step process would import everything again to read them back.
        executor=in_process_executor,
    )


def run_job(job_name: str, settings_file: str, **overrides: str | list[str] | None) -> JobDefinition:
    """A job as `visitor-intent run` runs it: ``settings_file`` with the command's ``overrides``
    (a workspace, files and folders: ``SettingsResource`` fields). Plain arguments, so that
    Dagster can rebuild the job from the run's record."""
    return build_definitions(resources_from_file(settings_file, **overrides)).resolve_job_def(job_name)


defs = build_definitions()
