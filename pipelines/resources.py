"""Dagster resources: the settings file, hit sources, MaxMind, rules and the report sink
(CRMs: ``pipelines.crm_resources``; the warehouse: ``pipelines.storage``).

Every resource reads its options from the typed ``Settings`` of one settings file, held by
``SettingsResource``; nothing here declares a setting again. Secrets (a PostgreSQL URL with
a password, the visitor salt, CRM tokens) come only from the environment through ``EnvVar``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
from dagster import ConfigurableIOManager, ConfigurableResource, EnvVar, InitResourceContext
from pydantic import PrivateAttr

from connectors.config_files import default_rules, load_target_accounts, load_taxonomy
from connectors.hit_sources import DayOfHits, read_day_in_chunks
from connectors.hits import ColumnMapping
from connectors.hits.spool import HitSpool, ReadOptions, SpooledLog
from connectors.maxmind import MaxMindDatabases
from connectors.sinks.files import FileReportSink
from enrichment.classification_rules import ClassificationRules
from enrichment.intent import IntentSettings
from enrichment.matching import TargetAccount
from enrichment.privacy import VISITOR_SALT_ENV_VAR, visitor_salt
from enrichment.scoring import ScoringWeights
from enrichment.settings import CleaningSettings, HitSourceSettings, Settings
from enrichment.tagging import Taxonomy
from pipelines.alert_resources import alert_resources
from pipelines.crm_resources import crm_resources
from pipelines.settings_resource import SettingsResource
from pipelines.storage import WarehouseIOManager, WarehouseResource

DATABASE_URL_ENV_VAR = "VISITOR_INTENT_DATABASE_URL"


def source_files(source: HitSourceSettings, settings: Settings) -> list[Path]:
    """The files a hit source's globs find (relative globs: against the settings file's folder)."""
    found: set[Path] = set()
    for pattern in (settings.path(p) for p in source.paths):
        anchor = Path(pattern.anchor)
        found.update(p for p in anchor.glob(str(pattern.relative_to(anchor))) if p.is_file())
    return sorted(found)


def read_options(source: HitSourceSettings, settings: Settings) -> ReadOptions:
    """How the spool reads a hit source's files: urls and referrers keep only the allowed query parameters."""
    return ReadOptions(
        log_format=source.log_format,
        column_mapping=ColumnMapping(**source.column_mapping) if source.column_mapping else None,
        trust_forwarded_for=source.trust_forwarded_for,
        timezone=source.timezone,
        allowed_query_parameters=settings.privacy.kept_query_parameters(),
    )


class HitSourcesResource(ConfigurableResource):
    """Every configured hit source, parsed once into the spool; a day is read from every log the spool holds."""

    settings: SettingsResource

    @property
    def spool(self) -> HitSpool:
        settings = self.settings.get()
        return HitSpool(settings.path(settings.spool_directory))

    def source_files(self) -> Iterator[tuple[Path, ReadOptions]]:
        """Each configured file with how to read it."""
        settings = self.settings.get()
        for source in settings.sources:
            for path in source_files(source, settings):
                yield path, read_options(source, settings)

    def all_files(self) -> list[Path]:
        return sorted({path for path, _ in self.source_files()})

    def unspooled_files(self) -> list[Path]:
        """Configured files new or changed since the spool last parsed them (a stat each, no parsing).

        An empty file (a freshly rotated log) holds nothing to spool.
        """
        spool = self.spool
        return [path for path, options in self.source_files() if path.stat().st_size and not spool.holds(path, options)]

    def spool_sources(self) -> Iterator[SpooledLog]:
        """Spool each configured file (parsing only those new or changed since): its catalogue entry."""
        spool = self.spool
        for path, options in self.source_files():
            yield spool.spool(path, options)

    def days(self) -> frozenset[dt.date]:
        """The UTC days with hits in the configured files."""
        return frozenset(day for log in self.spool_sources() for day, hits in log.hits.items() if hits)

    def read_days(self, days: Iterable[dt.date]) -> Iterator[tuple[dt.date, Iterator[DayOfHits]]]:
        """Each day built from every log that holds it (the configured files and all the spool holds),
        in chunks of addresses when it is busy (``read_day_in_chunks``)."""
        list(self.spool_sources())  # parsed first if new or changed
        spool = self.spool
        catalogue = spool.catalogue()
        for day in days:
            yield day, read_day_in_chunks(spool, day, catalogue)


class MaxMindResource(ConfigurableResource):
    """MaxMind databases, opened and type-checked when a run starts (not at the first lookup)."""

    settings: SettingsResource

    _opened: MaxMindDatabases = PrivateAttr()

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._opened = self.open()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self._opened.close()

    @property
    def max_age_days(self) -> int:
        return self.settings.get().maxmind.max_age_days

    def open(self) -> MaxMindDatabases:
        settings = self.settings.get()
        maxmind = settings.maxmind
        if maxmind.geoip_conf:
            return MaxMindDatabases.from_geoip_conf(settings.path(maxmind.geoip_conf))
        if maxmind.databases:
            return MaxMindDatabases.open({edition: settings.path(p) for edition, p in maxmind.databases.items()})
        return MaxMindDatabases.from_directory(settings.path(maxmind.directory or "."))

    @property
    def opened(self) -> MaxMindDatabases:
        return self._opened


class IntentRulesResource(ConfigurableResource):
    """What marketing ops edits: taxonomy, target accounts, cleaning, matching and scoring rules."""

    settings: SettingsResource
    visitor_salt: str | None = None  # only ever from VISITOR_INTENT_VISITOR_SALT, through EnvVar

    def taxonomy(self) -> Taxonomy:
        settings = self.settings.get()
        return load_taxonomy(settings.path(settings.taxonomy))

    def target_accounts(self) -> list[TargetAccount]:
        settings = self.settings.get()
        return load_target_accounts(settings.path(settings.target_accounts))

    def accounts_frame(self) -> pd.DataFrame:
        """The account list as a frame (``account_id, name, crm_id, owner``) for reports."""
        return pd.DataFrame(
            [
                {"account_id": a.account_id, "name": a.name, "crm_id": a.crm_id, "owner": a.owner}
                for a in self.target_accounts()
            ],
            columns=["account_id", "name", "crm_id", "owner"],
        )

    def classification_rules(self) -> ClassificationRules:
        return default_rules()

    @property
    def cleaning(self) -> CleaningSettings:
        return self.settings.get().cleaning

    @property
    def fuzzy_match_threshold(self) -> float:
        return self.settings.get().fuzzy_match_threshold

    def scoring_weights(self) -> ScoringWeights:
        return self.settings.get().scoring

    def intent_settings(self) -> IntentSettings:
        return self.settings.get().intent

    def salt(self) -> str:
        """The secret that keys visitor hashes (a ConfigError naming the variable when missing)."""
        return visitor_salt(self.visitor_salt, allow_demo_salt=self.settings.get().privacy.allow_demo_salt)


class FileReportSinkResource(ConfigurableResource):
    """The embedded default sink: HTML and CSV reports in a folder."""

    settings: SettingsResource

    def get(self) -> FileReportSink:
        settings = self.settings.get()
        return FileReportSink(settings.path(settings.report.directory))


def warehouse_url(settings: Settings) -> str:
    """The warehouse: $VISITOR_INTENT_DATABASE_URL, else the SQLite file the settings name."""
    return os.environ.get(DATABASE_URL_ENV_VAR) or f"sqlite:///{settings.path(settings.warehouse_file)}"


def resources_from_file(
    settings_file: Path | str, **overrides: str | list[str] | None
) -> dict[str, ConfigurableResource | ConfigurableIOManager]:
    """The resources a deployment runs with: a settings file and ``SettingsResource``'s overrides."""
    settings_resource = SettingsResource(settings_file=str(Path(settings_file).resolve()), **overrides)
    settings = settings_resource.get()
    # Through EnvVar the URL (which may hold a password) never shows in Dagster's config views.
    warehouse = WarehouseResource(
        url=EnvVar(DATABASE_URL_ENV_VAR) if os.environ.get(DATABASE_URL_ENV_VAR) else warehouse_url(settings)
    )
    return {
        "settings": settings_resource,
        "warehouse": warehouse,
        "io_manager": WarehouseIOManager(warehouse=warehouse),
        "hit_sources": HitSourcesResource(settings=settings_resource),
        "maxmind": MaxMindResource(settings=settings_resource),
        "rules": IntentRulesResource(
            settings=settings_resource,
            visitor_salt=EnvVar(VISITOR_SALT_ENV_VAR) if os.environ.get(VISITOR_SALT_ENV_VAR) else None,
        ),
        "report_sink": FileReportSinkResource(settings=settings_resource),
        **crm_resources(settings_resource, settings.crm),
        **alert_resources(settings_resource, settings.alerts),
    }
