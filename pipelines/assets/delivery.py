"""Delivery: each account's window activity where sales reads it (HubSpot first)."""

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    DailyPartitionsDefinition,
    MaterializeResult,
    asset,
)

from connectors.crm.ledger import DeliveryLedger
from connectors.sinks.base import WindowReport
from pipelines.partitions import window_bounds
from pipelines.resources import HubSpotResource, IntentRulesResource, WarehouseResource

CRM_CONCURRENCY_TAG = "visitor-intent/crm"


def build_delivery_assets(partitions: DailyPartitionsDefinition, window_days: int) -> list[AssetsDefinition]:
    @asset(
        partitions_def=partitions,
        group_name="delivery",
        check_specs=[AssetCheckSpec("no_failed_accounts", asset="crm_delivery", description="Every account with activity reached the CRM or was not found there; none failed.")],
    )
    def crm_delivery(
        context: AssetExecutionContext,
        account_activity: pd.DataFrame,
        digital_paths: pd.DataFrame,
        hubspot: HubSpotResource,
        rules: IntentRulesResource,
        warehouse: WarehouseResource,
    ):
        """Write each active account's figures onto its HubSpot company and one note per window.

        Idempotent through a delivery ledger in the warehouse: unchanged accounts are skipped,
        a re-run updates the window's note, a crashed run resumes without duplicates.
        """
        start, end = window_bounds(context.partition_key, window_days)
        domains = {account.account_id: list(account.domains) for account in rules.target_accounts()}
        sink = hubspot.sink(DeliveryLedger(warehouse.url), domains)
        result = sink.deliver(WindowReport(window_start=start, window_end=end, accounts=account_activity, path=digital_paths))
        yield MaterializeResult(metadata={**result.details, "sink": result.sink})
        failed = result.details.get("failed", 0)
        yield AssetCheckResult(check_name="no_failed_accounts", passed=failed == 0, metadata={"failed": failed})

    return [crm_delivery]
