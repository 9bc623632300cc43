"""Forgetting a network or an organization in everything Visitor Intent wrote.

The CRMs (what the delivery ledger says each sink wrote), the warehouse, the spool and
the report folders. Who the party was as accounts and organizations is asked of the
warehouse first: once it has forgotten, nothing says which accounts to remove elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dagster import build_resources

from connectors.crm.forget import CrmForgetResult, forget_in_crms
from connectors.crm.ledger import DeliveryLedger
from connectors.hits.spool import HitSpool
from connectors.privacy_store import ForgetResult, forget, forgotten_parties
from connectors.sinks.report_folders import ForgottenInReports, forget_in_reports
from connectors.warehouse import Warehouse
from pipelines.crm_resources import CRM_RESOURCE_KEYS
from pipelines.resources import resources_from_file, warehouse_url


@dataclass(frozen=True)
class ForgottenEverywhere:
    """What one forget removed, place by place."""

    warehouse: ForgetResult
    spooled_logs: int
    reports: ForgottenInReports
    crms: list[CrmForgetResult]


def forget_everywhere(
    settings_file: Path | str, *, network: str | None = None, organization: str | None = None
) -> ForgottenEverywhere:
    """Forget one network or organization in the CRMs, the warehouse, the spool and the reports."""
    resources = resources_from_file(settings_file)
    settings = resources["settings"].get()
    warehouse = Warehouse(warehouse_url(settings))
    parties = forgotten_parties(warehouse, network=network, organization=organization)
    crms = _forget_in_crms(resources, warehouse, parties.account_ids)
    result = forget(warehouse, network=network, organization=organization)
    # Spooled logs are parsed copies of whole files: drop them all rather than edit them.
    spooled = HitSpool(settings.path(settings.spool_directory)).clear()
    reports = forget_in_reports(settings.path(settings.report.directory), parties.account_ids, parties.organizations)
    return ForgottenEverywhere(result, spooled, reports, crms)


def _forget_in_crms(resources: dict, warehouse: Warehouse, account_ids: list[str]) -> list[CrmForgetResult]:
    """Remove the accounts from every configured CRM, as the delivery ledger says we wrote them."""
    configured = [key for key in CRM_RESOURCE_KEYS if key in resources]
    if not configured or not account_ids:
        return []
    ledger = DeliveryLedger(warehouse.engine)
    accounts = resources["rules"].target_accounts()
    domains = {account.account_id: list(account.domains) for account in accounts}
    # Initialised outside a run: their secrets are read from the environment (EnvVar) here.
    with build_resources({key: resources[key] for key in configured}) as initialized:
        sinks = [getattr(initialized, key).sink(ledger, domains) for key in configured]
        return forget_in_crms(account_ids, sinks, ledger)
