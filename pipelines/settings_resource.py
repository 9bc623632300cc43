"""The resource every other one reads its options from: the typed settings of one settings file."""

from __future__ import annotations

import functools
from pathlib import Path

from dagster import ConfigurableResource

from connectors.config_files import load_settings
from enrichment.settings import HitSourceSettings, MaxMindSettings, Settings


class SettingsResource(ConfigurableResource):
    """The settings file a deployment runs with, and what `visitor-intent run` sets instead of it:
    a workspace folder (warehouse, spool and reports), log files, a MaxMind folder, a taxonomy,
    an account list or a reports folder (absolute paths)."""

    settings_file: str
    workspace: str | None = None
    hits: list[str] | None = None
    maxmind_dir: str | None = None
    taxonomy: str | None = None
    accounts: str | None = None
    reports_dir: str | None = None

    def get(self) -> Settings:
        """The validated settings with the overrides applied (read again when the file changes)."""
        path = Path(self.settings_file)
        return _overridden(_read_settings(path, path.stat().st_mtime_ns), self)


@functools.lru_cache(maxsize=8)
def _read_settings(path: Path, stamp: int) -> Settings:
    return load_settings(path)


def _overridden(settings: Settings, given: SettingsResource) -> Settings:
    if given.workspace:
        settings = in_workspace(settings, Path(given.workspace))
    update: dict[str, object] = {}
    if given.hits:
        update["sources"] = [HitSourceSettings(paths=given.hits)]
    if given.maxmind_dir:
        update["maxmind"] = MaxMindSettings(directory=given.maxmind_dir, max_age_days=settings.maxmind.max_age_days)
    if given.taxonomy:
        update["taxonomy"] = given.taxonomy
    if given.accounts:
        update["target_accounts"] = given.accounts
    if given.reports_dir:
        update["report"] = settings.report.model_copy(update={"directory": given.reports_dir})
    return settings.model_copy(update=update)


def in_workspace(settings: Settings, folder: Path) -> Settings:
    """``settings`` with the warehouse file, spool and reports in ``folder``."""
    report = settings.report.model_copy(update={"directory": str(folder / "reports")})
    return settings.model_copy(
        update={
            "warehouse_file": str(folder / "warehouse.db"),
            "spool_directory": str(folder / "spool"),
            "report": report,
        }
    )
