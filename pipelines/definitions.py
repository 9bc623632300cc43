"""The Dagster code location: `dagster dev` and `dagster definitions validate` load `defs`."""

from __future__ import annotations

from collections.abc import Mapping

from dagster import Definitions

from enrichment.settings import Settings, load_settings
from pipelines.assets.enrichment import build_enrichment_assets
from pipelines.assets.ingestion import build_ingestion_assets
from pipelines.assets.reporting import build_reporting_assets
from pipelines.partitions import daily_partitions
from pipelines.resources import resources_from_settings
from pipelines.schedules import build_jobs, build_schedules


def build_definitions(settings: Settings, resources: Mapping[str, object] | None = None) -> Definitions:
    """Assets, checks, jobs and schedules for one settings file (partition start and window come from it)."""
    partitions = daily_partitions(settings.partitions_start)
    daily_job, report_job = build_jobs()
    return Definitions(
        assets=[
            *build_ingestion_assets(partitions, settings.quality),
            *build_enrichment_assets(partitions, settings.quality),
            *build_reporting_assets(partitions, settings.report.window_days),
        ],
        jobs=[daily_job, report_job],
        schedules=build_schedules(daily_job, report_job, settings.report.every_weeks),
        resources=dict(resources if resources is not None else resources_from_settings(settings)),
    )


defs = build_definitions(load_settings())
