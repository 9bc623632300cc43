"""Dagster resources: hit sources, MaxMind, rules, report sink and CRMs (the warehouse: ``pipelines.storage``).

Each is a ``ConfigurableResource`` whose fields are what ``config/settings.yaml`` sets;
``resources_from_settings`` builds them. Secrets (a PostgreSQL URL with a password,
later CRM tokens) come only from the environment through ``EnvVar``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from dagster import (
    Config,
    ConfigurableIOManager,
    ConfigurableResource,
    EnvVar,
    InitResourceContext,
)
from pydantic import PrivateAttr

from connectors.crm.bitrix24 import Bitrix24Client, Bitrix24Sink
from connectors.crm.hubspot import DEFAULT_API_VERSION, DEFAULT_BASE_URL, TOKEN_ENV_VAR, HubSpotClient, HubSpotSink
from connectors.crm.ledger import DeliveryLedger
from connectors.crm.salesforce import SalesforceClient, SalesforceSink
from connectors.crm.webhook import WebhookSink
from connectors.hit_sources import DayOfHits, read_day
from connectors.hits import ColumnMapping
from connectors.hits.spool import HitSpool, ReadOptions, SpooledLog
from connectors.maxmind import MaxMindDatabases
from connectors.sinks.files import FileReportSink
from enrichment.intent import IntentSettings
from enrichment.matching import TargetAccount, load_target_accounts
from enrichment.privacy import VISITOR_SALT_ENV_VAR, visitor_salt
from enrichment.scoring import ScoringWeights
from enrichment.scrubbing import DEFAULT_ALLOWED_PARAMETERS
from enrichment.settings import Settings
from enrichment.tagging import Taxonomy, load_taxonomy
from pipelines.alert_resources import alert_resources
from pipelines.storage import WarehouseIOManager, WarehouseResource

DATABASE_URL_ENV_VAR = "VISITOR_INTENT_DATABASE_URL"
HUBSPOT_BASE_ENV_VAR = "HUBSPOT_API_BASE"


class HitSource(Config):
    """One group of log files: globs resolved to absolute paths, and how to read them."""

    paths: list[str]
    log_format: str | None = None
    trust_forwarded_for: bool = False
    column_mapping: dict[str, str | None] | None = None
    timezone: str = "UTC"

    def files(self) -> list[Path]:
        found: set[Path] = set()
        for pattern in self.paths:
            anchor = Path(Path(pattern).anchor or ".")
            found.update(p for p in anchor.glob(str(Path(pattern).relative_to(anchor))) if p.is_file())
        return sorted(found)

    def options(self, allowed_query_parameters: tuple[str, ...]) -> ReadOptions:
        return ReadOptions(
            log_format=self.log_format,
            column_mapping=ColumnMapping(**self.column_mapping) if self.column_mapping else None,
            trust_forwarded_for=self.trust_forwarded_for,
            timezone=self.timezone,
            allowed_query_parameters=allowed_query_parameters,
        )


class HitSourcesResource(ConfigurableResource):
    """Every configured hit source, parsed once into the spool; a day is read from every log the spool holds.

    Urls and referrers keep only ``allowed_query_parameters`` (``privacy.kept_query_parameters``).
    """

    sources: list[HitSource]
    spool_directory: str
    allowed_query_parameters: list[str] = list(DEFAULT_ALLOWED_PARAMETERS)

    @property
    def spool(self) -> HitSpool:
        return HitSpool(Path(self.spool_directory))

    def read_options(self, source: HitSource) -> ReadOptions:
        """How the spool reads ``source``'s files."""
        return source.options(tuple(self.allowed_query_parameters))

    def all_files(self) -> list[Path]:
        return sorted({path for source in self.sources for path in source.files()})

    def unspooled_files(self) -> list[Path]:
        """Configured files new or changed since the spool last parsed them (a stat each, no parsing).

        An empty file (a freshly rotated log) holds nothing to spool.
        """
        return [
            path
            for source in self.sources
            for path in source.files()
            if path.stat().st_size and not self.spool.holds(path, self.read_options(source))
        ]

    def spool_sources(self) -> Iterator[SpooledLog]:
        """Spool each configured file (parsing only those new or changed since): its catalogue entry."""
        for source in self.sources:
            for path in source.files():
                yield self.spool.spool(path, self.read_options(source))

    def days(self) -> frozenset[dt.date]:
        """The UTC days with hits in the configured files."""
        return frozenset(day for log in self.spool_sources() for day, hits in log.hits.items() if hits)

    def read_days(self, days: Iterable[dt.date]) -> Iterator[tuple[dt.date, DayOfHits]]:
        """Each day built from every log that holds it: the configured files and all the spool holds."""
        list(self.spool_sources())  # parsed first if new or changed
        catalogue = self.spool.catalogue()
        for day in days:
            yield day, read_day(self.spool, day, catalogue)


class MaxMindResource(ConfigurableResource):
    """MaxMind databases, opened and type-checked when a run starts (not at the first lookup)."""

    geoip_conf: str | None = None
    directory: str | None = None
    databases: dict[str, str] = {}
    max_age_days: int = 14

    _opened: MaxMindDatabases = PrivateAttr()

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._opened = self.open()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self._opened.close()

    def open(self) -> MaxMindDatabases:
        if self.geoip_conf:
            return MaxMindDatabases.from_geoip_conf(Path(self.geoip_conf))
        if self.databases:
            return MaxMindDatabases.open({edition: Path(path) for edition, path in self.databases.items()})
        return MaxMindDatabases.from_directory(Path(self.directory or "."))

    @property
    def opened(self) -> MaxMindDatabases:
        return self._opened


class IntentRulesResource(ConfigurableResource):
    """What marketing ops edits: taxonomy, target accounts, cleaning, matching and scoring rules."""

    taxonomy_file: str
    target_accounts_file: str
    office_networks: list[str] = []
    max_pages_per_minute: int = 30
    fuzzy_match_threshold: float = 90.0
    scoring: dict[str, Any] = {}
    intent: dict[str, Any] = {}
    visitor_salt: str | None = None
    allow_demo_salt: bool = False

    def taxonomy(self) -> Taxonomy:
        return load_taxonomy(Path(self.taxonomy_file))

    def target_accounts(self) -> list[TargetAccount]:
        return load_target_accounts(Path(self.target_accounts_file))

    def accounts_frame(self) -> pd.DataFrame:
        """The account list as a frame (``account_id, name, crm_id, owner``) for reports."""
        return pd.DataFrame(
            [
                {"account_id": a.account_id, "name": a.name, "crm_id": a.crm_id, "owner": a.owner}
                for a in self.target_accounts()
            ],
            columns=["account_id", "name", "crm_id", "owner"],
        )

    def scoring_weights(self) -> ScoringWeights:
        return ScoringWeights(**self.scoring)

    def intent_settings(self) -> IntentSettings:
        return IntentSettings(**self.intent)

    def salt(self) -> str:
        """The secret that keys visitor hashes (a ConfigError naming the variable when missing)."""
        return visitor_salt(self.visitor_salt, allow_demo_salt=self.allow_demo_salt)


class FileReportSinkResource(ConfigurableResource):
    """The embedded default sink: HTML and CSV reports in a folder."""

    directory: str

    def get(self) -> FileReportSink:
        return FileReportSink(Path(self.directory))


class HubSpotResource(ConfigurableResource):
    """HubSpot companies and notes; the token only ever comes from HUBSPOT_ACCESS_TOKEN."""

    access_token: str
    base_url: str = DEFAULT_BASE_URL
    api_version: str = DEFAULT_API_VERSION
    create_missing_companies: bool = False
    dry_run_dir: str | None = None
    report_base_url: str | None = None

    def sink(self, ledger: DeliveryLedger, domains: dict[str, list[str]]) -> HubSpotSink:
        client = HubSpotClient(
            self.access_token,
            base_url=self.base_url,
            api_version=self.api_version,
            dry_run_dir=Path(self.dry_run_dir) if self.dry_run_dir else None,
        )
        return HubSpotSink(
            client,
            ledger,
            domains,
            create_missing_companies=self.create_missing_companies,
            report_base_url=self.report_base_url,
        )


class SalesforceResource(ConfigurableResource):
    """Salesforce Accounts and Tasks through an External Client App (client-credentials flow)."""

    client_id: str
    client_secret: str
    instance_url: str
    api_version: str = "v68.0"
    domain_field: str = "Website_Domain__c"
    account_fields: dict[str, str] | None = None
    dry_run_dir: str | None = None
    report_base_url: str | None = None

    def sink(self, ledger: DeliveryLedger, domains: dict[str, list[str]]) -> SalesforceSink:
        client = SalesforceClient(
            self.instance_url,
            self.client_id,
            self.client_secret,
            api_version=self.api_version,
            domain_field=self.domain_field,
            dry_run_dir=Path(self.dry_run_dir) if self.dry_run_dir else None,
        )
        fields = {"account_fields": self.account_fields} if self.account_fields else {}
        return SalesforceSink(client, ledger, domains, report_base_url=self.report_base_url, **fields)


class Bitrix24Resource(ConfigurableResource):
    """Bitrix24 companies and timeline comments through an inbound webhook (the URL is the secret)."""

    webhook_url: str
    domain_field: str = "UF_CRM_VI_DOMAIN"
    company_fields: dict[str, str] | None = None
    dry_run_dir: str | None = None
    report_base_url: str | None = None

    def sink(self, ledger: DeliveryLedger, domains: dict[str, list[str]]) -> Bitrix24Sink:
        client = Bitrix24Client(
            self.webhook_url,
            domain_field=self.domain_field,
            dry_run_dir=Path(self.dry_run_dir) if self.dry_run_dir else None,
        )
        fields = {"company_fields": self.company_fields} if self.company_fields else {}
        return Bitrix24Sink(client, ledger, domains, report_base_url=self.report_base_url, **fields)


class WebhookResource(ConfigurableResource):
    """One signed JSON document per account and window, for anything else (Zapier, Make, n8n)."""

    url: str
    secret: str
    dry_run_dir: str | None = None
    report_base_url: str | None = None

    def sink(self, ledger: DeliveryLedger, domains: dict[str, list[str]]) -> WebhookSink:
        return WebhookSink(
            self.url,
            self.secret,
            ledger,
            report_base_url=self.report_base_url,
            dry_run_dir=Path(self.dry_run_dir) if self.dry_run_dir else None,
        )


CRM_RESOURCE_KEYS = ("hubspot", "salesforce", "bitrix24", "webhook")
# The environment variables holding each CRM's secrets (only ever read through EnvVar).
CRM_SECRET_ENV_VARS = {
    "hubspot": (TOKEN_ENV_VAR,),
    "salesforce": ("SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET"),
    "bitrix24": ("BITRIX24_WEBHOOK_URL",),
    "webhook": ("VISITOR_INTENT_WEBHOOK_SECRET",),
}


def warehouse_url(settings: Settings) -> str:
    """The warehouse: $VISITOR_INTENT_DATABASE_URL, else the SQLite file the settings name."""
    return os.environ.get(DATABASE_URL_ENV_VAR) or f"sqlite:///{settings.path(settings.warehouse_file)}"


def resources_from_settings(
    settings: Settings,
    *,
    hits: list[str] | None = None,
    maxmind_dir: str | None = None,
    taxonomy: str | None = None,
    accounts: str | None = None,
    reports_dir: str | None = None,
) -> dict[str, ConfigurableResource | ConfigurableIOManager]:
    """The resources a deployment runs with; keyword arguments override the settings file."""
    # Through EnvVar the URL (which may hold a password) never shows in Dagster's config views.
    warehouse = WarehouseResource(
        url=EnvVar(DATABASE_URL_ENV_VAR) if os.environ.get(DATABASE_URL_ENV_VAR) else warehouse_url(settings)
    )
    if hits:
        sources = [HitSource(paths=[str(Path(h).resolve()) for h in hits])]
    else:
        sources = [
            HitSource(
                paths=[str(settings.path(p)) for p in source.paths],
                log_format=source.log_format,
                trust_forwarded_for=source.trust_forwarded_for,
                column_mapping=source.column_mapping,
                timezone=source.timezone,
            )
            for source in settings.sources
        ]
    if maxmind_dir:
        maxmind = MaxMindResource(
            directory=str(Path(maxmind_dir).resolve()), max_age_days=settings.maxmind.max_age_days
        )
    else:
        maxmind = MaxMindResource(
            geoip_conf=str(settings.path(settings.maxmind.geoip_conf)) if settings.maxmind.geoip_conf else None,
            directory=str(settings.path(settings.maxmind.directory)) if settings.maxmind.directory else None,
            databases={edition: str(settings.path(p)) for edition, p in settings.maxmind.databases.items()},
            max_age_days=settings.maxmind.max_age_days,
        )
    resources: dict[str, ConfigurableResource | ConfigurableIOManager] = {
        "warehouse": warehouse,
        "io_manager": WarehouseIOManager(warehouse=warehouse),
        "hit_sources": HitSourcesResource(
            sources=sources,
            spool_directory=str(settings.path(settings.spool_directory)),
            allowed_query_parameters=list(settings.privacy.kept_query_parameters()),
        ),
        "maxmind": maxmind,
        "rules": IntentRulesResource(
            taxonomy_file=str(Path(taxonomy).resolve() if taxonomy else settings.path(settings.taxonomy)),
            target_accounts_file=str(Path(accounts).resolve() if accounts else settings.path(settings.target_accounts)),
            office_networks=list(settings.cleaning.office_networks),
            max_pages_per_minute=settings.cleaning.max_pages_per_minute,
            fuzzy_match_threshold=settings.fuzzy_match_threshold,
            scoring=settings.scoring.model_dump(),
            intent=settings.intent.model_dump(),
            visitor_salt=EnvVar(VISITOR_SALT_ENV_VAR) if os.environ.get(VISITOR_SALT_ENV_VAR) else None,
            allow_demo_salt=settings.privacy.allow_demo_salt,
        ),
        "report_sink": FileReportSinkResource(
            directory=str(Path(reports_dir).resolve() if reports_dir else settings.path(settings.report.directory))
        ),
    }
    resources.update(_crm_resources(settings))
    resources.update(alert_resources(settings))
    return resources


def _crm_resources(settings: Settings) -> dict[str, ConfigurableResource]:
    """One resource per enabled CRM; their secrets only ever come from the environment."""
    crm, resources = settings.crm, {}

    def optional_dir(folder: str | None) -> str | None:
        return str(settings.path(folder)) if folder else None

    hubspot = crm.hubspot
    if hubspot.enabled:
        resources["hubspot"] = HubSpotResource(
            access_token=EnvVar(TOKEN_ENV_VAR),
            base_url=os.environ.get(HUBSPOT_BASE_ENV_VAR) or DEFAULT_BASE_URL,
            api_version=hubspot.api_version,
            create_missing_companies=hubspot.create_missing_companies,
            dry_run_dir=optional_dir(hubspot.dry_run_dir),
            report_base_url=hubspot.report_base_url,
        )
    if crm.salesforce.enabled:
        resources["salesforce"] = SalesforceResource(
            client_id=EnvVar("SALESFORCE_CLIENT_ID"),
            client_secret=EnvVar("SALESFORCE_CLIENT_SECRET"),
            instance_url=crm.salesforce.instance_url,
            api_version=crm.salesforce.api_version,
            domain_field=crm.salesforce.domain_field,
            account_fields=crm.salesforce.account_fields,
            dry_run_dir=optional_dir(crm.salesforce.dry_run_dir),
        )
    if crm.bitrix24.enabled:
        resources["bitrix24"] = Bitrix24Resource(
            webhook_url=EnvVar("BITRIX24_WEBHOOK_URL"),
            domain_field=crm.bitrix24.domain_field,
            company_fields=crm.bitrix24.company_fields,
            dry_run_dir=optional_dir(crm.bitrix24.dry_run_dir),
        )
    if crm.webhook.enabled:
        resources["webhook"] = WebhookResource(
            url=crm.webhook.url,
            secret=EnvVar("VISITOR_INTENT_WEBHOOK_SECRET"),
            dry_run_dir=optional_dir(crm.webhook.dry_run_dir),
        )
    return resources
