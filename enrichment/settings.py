"""The settings file (config/settings.yaml): one validated model, errors that name file and field.

Relative paths in the file are resolved against the folder that holds the file, so a
settings file can be copied elsewhere together with its taxonomy and account list.
`connectors.config_files.load_settings` reads the file.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from enrichment.activity import CRM_FIGURES
from enrichment.content import UTM_PARAMETERS
from enrichment.errors import first_error, yaml_mapping
from enrichment.intent import IntentSettings
from enrichment.scoring import ScoringWeights
from enrichment.scrubbing import DEFAULT_ALLOWED_PARAMETERS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HitSourceSettings(_Strict):
    """Where hits come from: file globs, their format (auto-detected by default), and the
    IANA time zone of times the logs write without one (IIS date-local, HAProxy)."""

    paths: list[str] = Field(min_length=1)
    log_format: str | None = None
    trust_forwarded_for: bool = False
    column_mapping: dict[str, str | None] | None = None
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, timezone: str) -> str:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {timezone!r}: use an IANA name such as 'Europe/Berlin'") from None
        return timezone


class MaxMindSettings(_Strict):
    """MaxMind databases: geoipupdate's GeoIP.conf, a folder searched by edition name, or files per edition."""

    directory: str | None = None
    databases: dict[str, str] = Field(default_factory=dict)
    geoip_conf: str | None = None
    max_age_days: int = Field(default=14, ge=1)

    @model_validator(mode="after")
    def _one_location(self) -> MaxMindSettings:
        if sum(bool(location) for location in (self.directory, self.databases, self.geoip_conf)) != 1:
            raise ValueError("set exactly one of `geoip_conf`, `directory` or `databases`")
        return self


class CleaningSettings(_Strict):
    office_networks: list[str] = Field(default_factory=list)
    max_pages_per_minute: int = Field(default=30, ge=1)

    @field_validator("office_networks")
    @classmethod
    def _valid_networks(cls, networks: list[str]) -> list[str]:
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not a CIDR network such as 203.0.113.0/24") from None
        return networks


class ReportSettings(_Strict):
    window_days: int = Field(default=14, ge=14, le=28)
    every_weeks: int = Field(default=2, ge=2, le=4)
    directory: str = "../.visitor-intent/reports"
    history_windows: int = Field(default=6, ge=2, le=26)


class SignalSettings(_Strict):
    """Trigger events and Company Surge files dropped in a landing folder (``enrichment.signals``)."""

    directory: str | None = None  # not set: no signals
    max_age_days: int = Field(default=14, ge=1)  # a feed whose newest row is older than this warns
    # Share of the intent score taken from the signal score; 0 keeps the score the site's own.
    score_weight: float = Field(default=0.0, ge=0, le=0.5)


class Band(_Strict):
    """An expected range for a rate (0..1)."""

    min: float = Field(ge=0, le=1)
    max: float = Field(ge=0, le=1)


class QualitySettings(_Strict):
    """Thresholds of the asset checks."""

    max_parse_error_rate: float = Field(default=0.02, ge=0, le=1)
    identification_rate: Band = Band(min=0.02, max=0.8)
    # Expected share of visits identified as companies, by country code ("*": any other).
    expected_identification: dict[str, Band] = Field(
        default_factory=lambda: {"RU": Band(min=0.10, max=0.20), "*": Band(min=0.30, max=0.80)}
    )
    min_visits_per_country: int = Field(default=20, ge=1)  # fewer visits say nothing about a band
    max_bot_share: float = Field(default=0.5, ge=0, le=1)


class PrivacySettings(_Strict):
    """What is kept about people (we identify companies, never people)."""

    # Days of personal data kept, judged by the day (partition) a row belongs to.
    raw_ip_retention_days: int = Field(default=30, ge=1)  # then addresses are cut to their network
    # Then visitor keys and visit ids are removed. Two 28-day report windows (a window and
    # the one before it, which movements compare with) need 56 days of them.
    visitor_key_retention_days: int = Field(default=60, ge=1)
    quarantine_retention_days: int = Field(default=30, ge=1)  # then quarantined lines' raw text is removed
    report_retention_days: int = Field(default=90, ge=1)  # then a report window's folder is removed
    # Query parameters kept in page and referrer URLs (shell patterns such as utm_*); every
    # other one is dropped when a log is read, and only its name is counted.
    allowed_query_parameters: list[str] = Field(default_factory=lambda: list(DEFAULT_ALLOWED_PARAMETERS))
    # Only the demo may key visitors with the public demo salt; real runs need VISITOR_INTENT_VISITOR_SALT.
    allow_demo_salt: bool = False

    def kept_query_parameters(self) -> tuple[str, ...]:
        """The allowed parameters plus those the pipeline itself reads (the content report's utm
        parameters), so that no allow-list can starve a report. Taxonomy rules see no query string."""
        return tuple(dict.fromkeys([*self.allowed_query_parameters, *UTM_PARAMETERS]))


class _SinkSettings(_Strict):
    """What every CRM sink takes."""

    enabled: bool = False
    dry_run_dir: str | None = None  # write the requests to files instead of sending them
    report_base_url: str | None = None  # where the HTML reports are served, for links in what is delivered


class HubSpotSettings(_SinkSettings):
    """HubSpot delivery. The token comes from HUBSPOT_ACCESS_TOKEN, never from this file."""

    api_version: str = "2026-09"
    create_missing_companies: bool = False


def _known_crm_figures(fields: dict[str, str] | None) -> dict[str, str] | None:
    """A CRM field mapping names figures we deliver; a typo would silently write nothing."""
    unknown = sorted(set(fields or {}) - set(CRM_FIGURES))
    if unknown:
        raise ValueError(f"unknown figure {', '.join(unknown)}; the figures are {', '.join(CRM_FIGURES)}")
    return fields


class SalesforceSettings(_SinkSettings):
    """Salesforce delivery. Client id and secret come from SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET."""

    instance_url: str | None = None  # the org's My Domain, e.g. https://acme.my.salesforce.com
    api_version: str = "v68.0"
    domain_field: str = "Website_Domain__c"  # a unique text field holding the bare domain
    account_fields: dict[str, str] | None = None  # figure -> Account field; None: the Web_Intent_*__c defaults
    task_status: str = "Completed"  # the Status of the Task logged per account and window

    @field_validator("account_fields")
    @classmethod
    def _known_figures(cls, fields: dict[str, str] | None) -> dict[str, str] | None:
        return _known_crm_figures(fields)

    @model_validator(mode="after")
    def _instance_when_enabled(self) -> SalesforceSettings:
        if self.enabled and not self.instance_url:
            raise ValueError("set `instance_url` to enable Salesforce")
        return self


class Bitrix24Settings(_SinkSettings):
    """Bitrix24 delivery. The inbound-webhook URL is the secret: BITRIX24_WEBHOOK_URL."""

    domain_field: str = "UF_CRM_VI_DOMAIN"
    company_fields: dict[str, str] | None = None  # figure -> UF_ field; None: the defaults

    @field_validator("company_fields")
    @classmethod
    def _known_figures(cls, fields: dict[str, str] | None) -> dict[str, str] | None:
        return _known_crm_figures(fields)


class WebhookSettings(_SinkSettings):
    """A signed JSON document per account and window; the signing secret is VISITOR_INTENT_WEBHOOK_SECRET."""

    url: str | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _url_when_enabled(self) -> WebhookSettings:
        if self.enabled and not self.url:
            raise ValueError("set `url` to enable the webhook")
        return self


class SlackAlertSettings(_Strict):
    """Alerts to a Slack channel through an incoming webhook; its URL is the secret: VISITOR_INTENT_SLACK_WEBHOOK_URL."""

    enabled: bool = False


class EmailAlertSettings(_Strict):
    """One email per owner and window over SMTP; the password comes from VISITOR_INTENT_SMTP_PASSWORD."""

    enabled: bool = False
    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None  # None: the server takes mail without logging in
    sender: str | None = None  # the From address, e.g. "Visitor Intent <intent@example.com>"

    @model_validator(mode="after")
    def _server_when_enabled(self) -> EmailAlertSettings:
        if self.enabled and not (self.host and self.sender):
            raise ValueError("set `host` and `sender` to enable email alerts")
        return self


class AlertSettings(_Strict):
    """Alerts to account owners: who they are reached at, and through which sinks."""

    # Owner (as in the target accounts file) -> their email address, or a list of addresses.
    owners: dict[str, list[str]] = Field(default_factory=dict)
    report_base_url: str | None = None  # where the HTML reports are served, for links to account pages
    slack: SlackAlertSettings = SlackAlertSettings()
    email: EmailAlertSettings = EmailAlertSettings()

    @field_validator("owners", mode="before")
    @classmethod
    def _addresses_as_lists(cls, owners: object) -> object:
        if not isinstance(owners, dict):
            return owners
        return {owner: [addresses] if isinstance(addresses, str) else addresses for owner, addresses in owners.items()}


class CrmSettings(_Strict):
    hubspot: HubSpotSettings = HubSpotSettings()
    salesforce: SalesforceSettings = SalesforceSettings()
    bitrix24: Bitrix24Settings = Bitrix24Settings()
    webhook: WebhookSettings = WebhookSettings()


class Settings(_Strict):
    """Everything marketing ops configures, in one file."""

    partitions_start: dt.date
    sources: list[HitSourceSettings] = Field(min_length=1)
    maxmind: MaxMindSettings
    taxonomy: str = "taxonomy.yaml"
    target_accounts: str = "target_accounts.csv"
    warehouse_file: str = "../.visitor-intent/warehouse.db"
    spool_directory: str = "../.visitor-intent/spool"
    cleaning: CleaningSettings = CleaningSettings()
    fuzzy_match_threshold: float = Field(default=90.0, ge=50, le=100)
    report: ReportSettings = ReportSettings()
    quality: QualitySettings = QualitySettings()
    scoring: ScoringWeights = ScoringWeights()
    intent: IntentSettings = IntentSettings()
    crm: CrmSettings = CrmSettings()
    alerts: AlertSettings = AlertSettings()
    privacy: PrivacySettings = PrivacySettings()
    signals: SignalSettings = SignalSettings()
    base_dir: Path = Path(".")

    def path(self, value: str) -> Path:
        """Resolve a path from the settings file against the file's folder."""
        # normpath, not resolve(): resolving links would read the file system.
        return Path(os.path.normpath(self.base_dir / value))


def parse_settings(text: str, source: Path) -> Settings:
    """Validate a settings file's text (``source``: its absolute path); any mistake raises one
    ConfigError naming file, line and field."""
    raw = yaml_mapping(text, source, "a mapping of settings")
    try:
        return Settings(**raw, base_dir=source.parent)
    except ValidationError as error:
        raise first_error(error, text, source) from None
