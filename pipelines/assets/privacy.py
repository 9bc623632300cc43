"""Privacy: personal data is kept only as long as the settings allow."""

import datetime as dt

from dagster import AssetCheckResult, AssetsDefinition, MaterializeResult, asset, asset_check

from connectors.privacy_store import enforce_retention, overdue_personal_data, retention_cutoffs
from connectors.sinks.report_folders import overdue_windows, prune_report_windows
from enrichment.settings import PrivacySettings
from pipelines.resources import FileReportSinkResource, HitSourcesResource
from pipelines.storage import WarehouseResource


def build_privacy_assets(privacy: PrivacySettings) -> list[AssetsDefinition]:
    @asset(group_name="privacy")
    def personal_data_retention(
        warehouse: WarehouseResource, hit_sources: HitSourcesResource, report_sink: FileReportSinkResource
    ) -> MaterializeResult:
        """Apply the retention limits to every column the schema tags as personal data; aggregates stay.

        Raw IPs (and the addresses in quarantined lines) are cut to their network (/24, /48),
        visitor keys and visit ids are removed, and quarantined lines lose their raw text,
        each once its day is older than its setting under `privacy:` allows. Spooled copies
        of logs that hold only days past the raw-IP limit are removed, and so are the folders of
        report windows that ended before `report_retention_days`.
        """
        today = _today()
        cutoffs = retention_cutoffs(privacy, today)
        result = enforce_retention(warehouse.get(), privacy, today=today)
        spooled = hit_sources.spool.purge(older_than=cutoffs["raw_ip_retention_days"])
        reports_kept_from = _reports_kept_from(today)
        reports = prune_report_windows(report_sink.get().directory, reports_kept_from)
        return MaterializeResult(
            metadata={
                **{f"{setting}: kept from": day.isoformat() for setting, day in cutoffs.items()},
                **{
                    f"{setting}: rows changed in {table}": rows
                    for setting, tables in result.changed.items()
                    for table, rows in tables.items()
                },
                "spooled logs removed": spooled,
                "report_retention_days: kept from": reports_kept_from.isoformat(),
                "report windows removed": reports,
            }
        )

    @asset_check(
        asset=personal_data_retention,
        description=(
            "No column tagged as personal data holds values older than its retention limit, "
            "and no report window's folder is older than report_retention_days."
        ),
    )
    def personal_data_within_limits(
        warehouse: WarehouseResource, report_sink: FileReportSinkResource
    ) -> AssetCheckResult:
        today = _today()
        overdue = overdue_personal_data(warehouse.get(), privacy, today=today)
        reports = [
            window.folder.name for window in overdue_windows(report_sink.get().directory, _reports_kept_from(today))
        ]
        return AssetCheckResult(
            passed=not overdue and not reports,
            metadata={"overdue rows": overdue or "none", "overdue report windows": ", ".join(reports) or "none"},
        )

    def _reports_kept_from(today: dt.date) -> dt.date:
        return today - dt.timedelta(days=privacy.report_retention_days)

    return [personal_data_retention, personal_data_within_limits]


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
