"""The files users edit, read from disk: settings, taxonomy, account list, classification rules.

Reading is here; checking is `enrichment` (which never opens a file), so every mistake
still comes back as one ConfigError naming the file, the line and the field.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from enrichment.classification_rules import (
    ClassificationRules,
    asn_table_path,
    compile_rules,
    parse_asn_categories,
    parse_rules_file,
)
from enrichment.errors import ConfigError
from enrichment.matching import TargetAccount, parse_target_accounts
from enrichment.settings import Settings, parse_settings
from enrichment.tagging import Taxonomy, parse_taxonomy

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
DEFAULT_SETTINGS_FILE = CONFIG_DIR / "settings.yaml"
DEFAULT_RULES_FILE = CONFIG_DIR / "classification_rules.yaml"
SETTINGS_ENV_VAR = "VISITOR_INTENT_SETTINGS"


def read_text(path: Path, kind: str, *, encoding: str = "utf-8") -> str:
    """A file's text; a missing file is one ConfigError naming it and what it is ("settings file")."""
    try:
        with Path(path).open(encoding=encoding, newline="") as file:  # newline="": CSV keeps quoted line breaks
            return file.read()
    except FileNotFoundError:
        raise ConfigError(f"{path}: {kind} not found") from None


def settings_file() -> Path:
    """The settings file in use: $VISITOR_INTENT_SETTINGS, else config/settings.yaml."""
    return Path(os.environ.get(SETTINGS_ENV_VAR) or DEFAULT_SETTINGS_FILE)


def load_settings(path: Path | None = None) -> Settings:
    """Read and validate a settings file (default: `settings_file`)."""
    path = Path(path or settings_file()).resolve()
    return parse_settings(read_text(path, "settings file"), path)


def load_taxonomy(path: Path) -> Taxonomy:
    """Read and validate a taxonomy file."""
    return parse_taxonomy(read_text(path, "taxonomy file"), Path(path))


def load_target_accounts(path: Path) -> list[TargetAccount]:
    """Read and validate the account list (utf-8-sig: spreadsheet exports start with a BOM)."""
    return parse_target_accounts(read_text(path, "target account list", encoding="utf-8-sig"), Path(path))


def load_classification_rules(path: Path | None = None) -> ClassificationRules:
    """Read, check and compile a rules file and the ASN table it names (relative to the file)."""
    path = Path(path or DEFAULT_RULES_FILE)
    parsed = parse_rules_file(read_text(path, "classification rules file"), path)
    asn_file = asn_table_path(parsed, path)
    return compile_rules(parsed, parse_asn_categories(read_text(asn_file, "ASN category table"), asn_file))


def rules_file() -> Path:
    """The rules file in use: classification_rules.yaml beside the settings file (as the taxonomy
    and the account list are), else the one shipped in config/."""
    beside_settings = settings_file().parent / DEFAULT_RULES_FILE.name
    return beside_settings if beside_settings.is_file() else DEFAULT_RULES_FILE


@functools.lru_cache(maxsize=4)
def _cached_rules(path: Path, stamps: tuple[int, ...]) -> ClassificationRules:
    return load_classification_rules(path)


def default_rules() -> ClassificationRules:
    """The rules file in use (`rules_file`), read again whenever it or its ASN table changes on disk."""
    path = rules_file()
    files = (path, path.parent / "asn_categories.csv")
    stamps = tuple(os.stat(file).st_mtime_ns if file.exists() else 0 for file in files)
    return _cached_rules(path, stamps)
