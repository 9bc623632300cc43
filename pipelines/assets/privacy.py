"""Privacy: personal data is kept only as long as the settings allow."""

import datetime as dt

from dagster import AssetCheckResult, AssetsDefinition, MaterializeResult, asset, asset_check

from connectors.privacy_store import enforce_retention, overdue_personal_data, retention_cutoffs
from enrichment.settings import PrivacySettings
from pipelines.resources import HitSourcesResource
from pipelines.storage import WarehouseResource


def build_privacy_assets(privacy: PrivacySettings) -> list[AssetsDefinition]:
    @asset(group_name="privacy")
    def personal_data_retention(warehouse: WarehouseResource, hit_sources: HitSourcesResource) -> MaterializeResult:
        """Apply the retention limits to every column the schema tags as personal data; aggregates stay.

        Raw IPs (and the addresses in quarantined lines) are cut to their network (/24, /48),
        visitor keys and visit ids are removed, and quarantined lines lose their raw text,
        each once its day is older than its setting under `privacy:` allows. Spooled copies
        of logs that hold only days past the raw-IP limit are removed.
        """
        today = _today()
        cutoffs = retention_cutoffs(privacy, today)
        result = enforce_retention(warehouse.get(), privacy, today=today)
        spooled = hit_sources.spool.purge(older_than=cutoffs["raw_ip_retention_days"])
        return MaterializeResult(
            metadata={
                **{f"{setting}: kept from": day.isoformat() for setting, day in cutoffs.items()},
                **{
                    f"{setting}: rows changed in {table}": rows
                    for setting, tables in result.changed.items()
                    for table, rows in tables.items()
                },
                "spooled logs removed": spooled,
            }
        )

    @asset_check(
        asset=personal_data_retention,
        description="No column tagged as personal data holds values older than its retention limit.",
    )
    def personal_data_within_limits(warehouse: WarehouseResource) -> AssetCheckResult:
        overdue = overdue_personal_data(warehouse.get(), privacy, today=_today())
        return AssetCheckResult(passed=not overdue, metadata={"overdue rows": overdue or "none"})

    return [personal_data_retention, personal_data_within_limits]


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
