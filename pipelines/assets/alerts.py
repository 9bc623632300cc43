"""Alerts to account owners: Slack and email when an account earns one, and a digest per owner and window."""

from collections.abc import Sequence

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetsDefinition,
    DailyPartitionsDefinition,
    MaterializeResult,
    asset,
)

from connectors.alerts.delivery import DIGEST, AlertOutcome, deliver_alerts
from connectors.crm.ledger import DeliveryLedger
from enrichment.alerts import owner_digests
from enrichment.settings import AlertSettings
from pipelines.checks import partition_check
from pipelines.metadata import markdown_table
from pipelines.partitions import Days, window_bounds
from pipelines.resources import IntentRulesResource
from pipelines.storage import WarehouseResource

SINKS = ("slack", "email")


def build_alert_assets(
    partitions: DailyPartitionsDefinition, window_days: int, settings: AlertSettings, sink_keys: Sequence[str]
) -> list[AssetsDefinition]:
    """``owner_alerts`` for the alert sinks configured (``sink_keys`` name their resources)."""

    @asset(
        partitions_def=partitions,
        # In the report window's job: owners hear of a window as soon as it is scored.
        group_name="reporting",
        required_resource_keys={"rules", "warehouse", *sink_keys},
        check_specs=[
            partition_check(
                "no_failed_alerts",
                "owner_alerts",
                partitions,
                "Slack and the mail server took every alert and digest of the window (refused ones go out next run).",
            )
        ],
    )
    def owner_alerts(context: AssetExecutionContext, account_activity: Days) -> MaterializeResult:
        """Tell each account's owner when it became hot or MQA, surged or reached the decision stage,
        and send every owner a digest of their accounts; each alert and digest once per window."""
        window = context.partition_key
        start, end = window_bounds(window, window_days)
        rules: IntentRulesResource = context.resources.rules
        warehouse: WarehouseResource = context.resources.warehouse
        digests = owner_digests(account_activity[window], rules.intent_settings(), window_start=start, window_end=end)
        outcome = deliver_alerts(
            digests,
            DeliveryLedger(warehouse.get().engine),
            slack=context.resources.slack_alerts.client() if "slack_alerts" in sink_keys else None,
            mailer=context.resources.email_alerts.mailer() if "email_alerts" in sink_keys else None,
            addresses=settings.owners,
            report_base_url=settings.report_base_url,
        )
        failed = sum(outcome.failed.values())
        return MaterializeResult(
            metadata=alert_metadata(outcome),
            check_results=[
                AssetCheckResult(check_name="no_failed_alerts", passed=failed == 0, metadata={"failed": failed})
            ],
        )

    return [owner_alerts]


def alert_metadata(outcome: AlertOutcome) -> dict[str, object]:
    """Totals, owners without an email address, and a table of what each owner got per reason and sink."""
    sent, failed = outcome.sent, outcome.failed
    return {
        "alerts sent": sum(count for (_, _, reason), count in sent.items() if reason != DIGEST),
        "digests sent": sum(count for (_, _, reason), count in sent.items() if reason == DIGEST),
        "failed": sum(failed.values()),
        "owners without an email address": ", ".join(sorted(outcome.no_address)) or "none",
        "sent per owner and reason": markdown_table(_per_owner(outcome), limit=50),
    }


def _per_owner(outcome: AlertOutcome) -> pd.DataFrame:
    """``owner, reason, slack, email``: messages sent per sink, failed ones in brackets."""
    keys = sorted({(owner, reason) for _, owner, reason in (*outcome.sent, *outcome.failed)})

    def cell(sink: str, owner: str, reason: str) -> str:
        sent, failed = outcome.sent[(sink, owner, reason)], outcome.failed[(sink, owner, reason)]
        return f"{sent} ({failed} failed)" if failed else str(sent)

    return pd.DataFrame(
        [
            {"owner": owner, "reason": reason, **{sink: cell(sink, owner, reason) for sink in SINKS}}
            for owner, reason in keys
        ],
        columns=["owner", "reason", *SINKS],
    )
