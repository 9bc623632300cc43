"""Privacy: raw IPs are kept only as long as the settings allow."""

import datetime as dt

from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult, asset

from connectors.privacy_store import enforce_raw_ip_retention
from pipelines.resources import HitSourcesResource, WarehouseResource


def build_privacy_assets(retention_days: int) -> list[AssetsDefinition]:
    @asset(group_name="privacy")
    def raw_ip_retention(
        context: AssetExecutionContext, warehouse: WarehouseResource, hit_sources: HitSourcesResource
    ) -> MaterializeResult:
        """Cut raw IPs older than the retention limit to their network (/24, /48) in every table; aggregates stay.

        IP addresses are personal data in the EU: company-level analytics needs them only
        until they are resolved and counted. Spooled copies of logs that hold only older
        days are removed.
        """
        cutoff = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=retention_days)
        result = enforce_raw_ip_retention(warehouse.get(), older_than=cutoff)
        spooled = hit_sources.spool.purge(older_than=cutoff)
        return MaterializeResult(
            metadata={
                "older than": cutoff.isoformat(),
                **{f"rows changed in {t}": n for t, n in result.changed.items()},
                "spooled logs removed": spooled,
            }
        )

    return [raw_ip_retention]
