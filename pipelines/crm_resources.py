"""Dagster resources for CRM delivery: one per CRM, its options from the settings file's ``crm``
section and its secrets only ever from the environment (``EnvVar``)."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource, EnvVar

from connectors.crm.bitrix24 import WEBHOOK_ENV_VAR, Bitrix24Client, Bitrix24Sink
from connectors.crm.hubspot import DEFAULT_BASE_URL, TOKEN_ENV_VAR, HubSpotClient, HubSpotSink
from connectors.crm.ledger import DeliveryLedger
from connectors.crm.salesforce import CLIENT_ID_ENV_VAR, CLIENT_SECRET_ENV_VAR, SalesforceClient, SalesforceSink
from connectors.crm.webhook import SECRET_ENV_VAR, WebhookSink
from enrichment.settings import CrmSettings, Settings
from pipelines.settings_resource import SettingsResource

HUBSPOT_BASE_ENV_VAR = "HUBSPOT_API_BASE"
CRM_RESOURCE_KEYS = ("hubspot", "salesforce", "bitrix24", "webhook")
# The environment variables holding each CRM's secrets (only ever read through EnvVar).
CRM_SECRET_ENV_VARS = {
    "hubspot": (TOKEN_ENV_VAR,),
    "salesforce": (CLIENT_ID_ENV_VAR, CLIENT_SECRET_ENV_VAR),
    "bitrix24": (WEBHOOK_ENV_VAR,),
    "webhook": (SECRET_ENV_VAR,),
}


def _dry_run_dir(settings: Settings, folder: str | None) -> Path | None:
    return settings.path(folder) if folder else None


class HubSpotResource(ConfigurableResource):
    """HubSpot companies and notes; the token only ever comes from HUBSPOT_ACCESS_TOKEN."""

    settings: SettingsResource
    access_token: str
    base_url: str = DEFAULT_BASE_URL  # HUBSPOT_API_BASE points it at a sandbox or a test server

    def sink(self, ledger: DeliveryLedger, domains: dict[str, list[str]]) -> HubSpotSink:
        settings = self.settings.get()
        hubspot = settings.crm.hubspot
        client = HubSpotClient(
            self.access_token,
            base_url=self.base_url,
            api_version=hubspot.api_version,
            dry_run_dir=_dry_run_dir(settings, hubspot.dry_run_dir),
        )
        return HubSpotSink(
            client,
            ledger,
            domains,
            create_missing_companies=hubspot.create_missing_companies,
            report_base_url=hubspot.report_base_url,
        )


class SalesforceResource(ConfigurableResource):
    """Salesforce Accounts and Tasks through an External Client App (client-credentials flow)."""

    settings: SettingsResource
    client_id: str
    client_secret: str

    def sink(self, ledger: DeliveryLedger, domains: dict[str, list[str]]) -> SalesforceSink:
        settings = self.settings.get()
        salesforce = settings.crm.salesforce
        client = SalesforceClient(
            salesforce.instance_url,
            self.client_id,
            self.client_secret,
            api_version=salesforce.api_version,
            domain_field=salesforce.domain_field,
            dry_run_dir=_dry_run_dir(settings, salesforce.dry_run_dir),
        )
        fields = {"account_fields": salesforce.account_fields} if salesforce.account_fields else {}
        return SalesforceSink(
            client,
            ledger,
            domains,
            task_status=salesforce.task_status,
            report_base_url=salesforce.report_base_url,
            **fields,
        )


class Bitrix24Resource(ConfigurableResource):
    """Bitrix24 companies and timeline comments through an inbound webhook (the URL is the secret)."""

    settings: SettingsResource
    webhook_url: str

    def sink(self, ledger: DeliveryLedger, domains: dict[str, list[str]]) -> Bitrix24Sink:
        settings = self.settings.get()
        bitrix24 = settings.crm.bitrix24
        client = Bitrix24Client(
            self.webhook_url,
            domain_field=bitrix24.domain_field,
            dry_run_dir=_dry_run_dir(settings, bitrix24.dry_run_dir),
        )
        fields = {"company_fields": bitrix24.company_fields} if bitrix24.company_fields else {}
        return Bitrix24Sink(client, ledger, domains, report_base_url=bitrix24.report_base_url, **fields)


class WebhookResource(ConfigurableResource):
    """One signed JSON document per account and window, for anything else (Zapier, Make, n8n)."""

    settings: SettingsResource
    secret: str

    def sink(self, ledger: DeliveryLedger, domains: dict[str, list[str]]) -> WebhookSink:
        settings = self.settings.get()
        webhook = settings.crm.webhook
        return WebhookSink(
            webhook.url,
            self.secret,
            ledger,
            report_base_url=webhook.report_base_url,
            timeout=webhook.timeout_seconds,
            dry_run_dir=_dry_run_dir(settings, webhook.dry_run_dir),
        )


def crm_resources(settings: SettingsResource, crm: CrmSettings) -> dict[str, ConfigurableResource]:
    """One resource per enabled CRM; their secrets only ever come from the environment."""
    resources: dict[str, ConfigurableResource] = {}
    if crm.hubspot.enabled:
        resources["hubspot"] = HubSpotResource(
            settings=settings,
            access_token=EnvVar(TOKEN_ENV_VAR),
            base_url=os.environ.get(HUBSPOT_BASE_ENV_VAR) or DEFAULT_BASE_URL,
        )
    if crm.salesforce.enabled:
        resources["salesforce"] = SalesforceResource(
            settings=settings,
            client_id=EnvVar(CLIENT_ID_ENV_VAR),
            client_secret=EnvVar(CLIENT_SECRET_ENV_VAR),
        )
    if crm.bitrix24.enabled:
        resources["bitrix24"] = Bitrix24Resource(settings=settings, webhook_url=EnvVar(WEBHOOK_ENV_VAR))
    if crm.webhook.enabled:
        resources["webhook"] = WebhookResource(settings=settings, secret=EnvVar(SECRET_ENV_VAR))
    return resources
