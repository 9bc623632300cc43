"""Delivery: each account's window activity where sales reads it (HubSpot, Salesforce, Bitrix24, a webhook)."""

from collections import Counter
from collections.abc import Sequence

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetsDefinition,
    DailyPartitionsDefinition,
    MaterializeResult,
    asset,
)

from connectors.crm.ledger import DeliveryLedger
from connectors.sinks.base import WindowReport
from pipelines.checks import partition_check
from pipelines.partitions import Days, window_bounds
from pipelines.resources import IntentRulesResource
from pipelines.storage import WarehouseResource

# in_flight: accounts whose fate the CRM left unknown; the next run confirms or repairs them.
OUTCOMES = ("delivered", "updated", "unchanged", "not_found", "failed", "in_flight")


def build_delivery_assets(
    partitions: DailyPartitionsDefinition, window_days: int, crm_keys: Sequence[str]
) -> list[AssetsDefinition]:
    """``crm_delivery`` for the CRMs configured (``crm_keys`` name their resources)."""

    @asset(
        partitions_def=partitions,
        group_name="delivery",
        # The CRMs are known only from the settings, so resources are named, not typed, here.
        required_resource_keys={"rules", "warehouse", *crm_keys},
        check_specs=[
            partition_check(
                "no_failed_accounts",
                "crm_delivery",
                partitions,
                (
                    "Every account with activity reached each CRM or was not found there: none failed (an error), "
                    "none left in flight with its fate unknown (a warning)."
                ),
            )
        ],
    )
    def crm_delivery(context: AssetExecutionContext, account_activity: Days, digital_paths: Days):
        """Write each active account's figures onto its CRM record and one report note per window.

        Idempotent through a delivery ledger in the warehouse: unchanged accounts are skipped,
        a re-run updates the window's note, a crashed run resumes without duplicates.
        """
        window = context.partition_key
        start, end = window_bounds(window, window_days)
        report = WindowReport(
            window_start=start, window_end=end, accounts=account_activity[window], path=digital_paths[window]
        )
        rules: IntentRulesResource = context.resources.rules
        warehouse: WarehouseResource = context.resources.warehouse
        domains = {account.account_id: list(account.domains) for account in rules.target_accounts()}
        ledger = DeliveryLedger(warehouse.get().engine)
        totals: Counter[str] = Counter()
        metadata: dict[str, int] = {}
        for key in crm_keys:
            result = getattr(context.resources, key).sink(ledger, domains).deliver(report)
            totals.update(result.details)
            metadata.update({f"{key} {outcome}": result.details.get(outcome, 0) for outcome in OUTCOMES})
        yield MaterializeResult(metadata={**{outcome: totals[outcome] for outcome in OUTCOMES}, **metadata})
        yield no_failed_accounts(totals)

    return [crm_delivery]


def no_failed_accounts(totals: Counter[str]) -> AssetCheckResult:
    """Fails on failed accounts; warns on accounts left in flight (the CRM did not say whether it wrote them)."""
    failed, in_flight = totals["failed"], totals["in_flight"]
    return AssetCheckResult(
        check_name="no_failed_accounts",
        passed=failed == 0 and in_flight == 0,
        severity=AssetCheckSeverity.ERROR if failed else AssetCheckSeverity.WARN,
        metadata={"failed": failed, "in_flight": in_flight},
    )
