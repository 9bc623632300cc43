"""Finding MaxMind ``.mmdb`` files and checking them when they are opened.

Every edition is checked when it is opened (file present, readable, of the expected
type, a first stretch of records decodable), so a wrong or broken file stops the run at
start-up, not at the first lookup. Every error names the file and the edition expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import maxminddb

from connectors.maxmind.editions import COUNTRY_EDITIONS, EDITIONS
from connectors.maxmind.search_tree import SearchTree

GEOIPUPDATE_DEFAULT_DIRECTORY = Path("/var/lib/GeoIP")

# How many records opening decodes to catch a corrupt data section at start-up. A full
# scan of a real Enterprise file takes minutes; a broken file fails within a few records.
_RECORDS_CHECKED_AT_OPEN = 1_000


class MaxMindDatabaseError(Exception):
    """A MaxMind database file is missing, unreadable or not the edition expected."""


@dataclass
class Database:
    """One open, checked edition."""

    edition: str
    path: Path
    reader: Any  # maxminddb.extension.Reader (C) or maxminddb.Reader (pure Python)
    build_epoch: int
    tree: SearchTree

    def close(self) -> None:
        self.reader.close()
        self.tree.close()


def open_databases(paths: Mapping[str, Path]) -> list[Database]:
    """Open and check ``{edition: file}``; on the first bad file, close the others and raise."""
    if not paths:
        raise MaxMindDatabaseError(f"no MaxMind database given; expected one or more of: {', '.join(EDITIONS)}")
    databases: list[Database] = []
    try:
        for edition, path in paths.items():
            databases.append(open_database(edition, Path(path)))
    except MaxMindDatabaseError:
        for database in databases:
            database.close()
        raise
    return databases


def open_database(edition: str, path: Path) -> Database:
    """Open ``path`` as ``edition``, or raise a MaxMindDatabaseError saying what is wrong."""
    if edition not in EDITIONS:
        raise MaxMindDatabaseError(f"{path}: unsupported edition {edition!r}; supported: {', '.join(EDITIONS)}")
    if not path.is_file():
        raise MaxMindDatabaseError(
            f"{edition} database not found at {path}; download it with geoipupdate "
            f"(expected a file like {edition}.mmdb)"
        )
    try:
        reader = maxminddb.open_database(path, maxminddb.MODE_AUTO)
    except maxminddb.InvalidDatabaseError as error:
        raise corrupt_database_error(path, edition, error) from error
    except OSError as error:
        raise MaxMindDatabaseError(f"cannot read {path} ({error}); expected {edition}") from error
    database_type = reader.metadata().database_type
    if database_type != edition:
        reader.close()
        raise MaxMindDatabaseError(
            f"{path} is a {database_type} database, expected {edition}; check which file is configured for {edition}"
        )
    try:
        # Iterating decodes records: a broken data section fails here, not mid-run.
        for _ in islice(reader, _RECORDS_CHECKED_AT_OPEN):
            pass
    except maxminddb.InvalidDatabaseError as error:
        reader.close()
        raise corrupt_database_error(path, edition, error) from error
    metadata = reader.metadata()
    tree = SearchTree(path, metadata.node_count, metadata.record_size, metadata.ip_version)
    return Database(edition, path, reader, metadata.build_epoch, tree)


def corrupt_database_error(path: Path, edition: str, error: Exception) -> MaxMindDatabaseError:
    """The error for a file whose search tree or data section does not decode."""
    return MaxMindDatabaseError(
        f"{path} is not a valid MaxMind database ({error}); expected {edition}. "
        "The file is corrupt or truncated: download it again with geoipupdate"
    )


def edition_files_in(directory: Path) -> dict[str, Path]:
    """``{edition: file}`` for every supported edition in ``directory``, by its standard name.

    Names as geoipupdate writes them (``GeoIP2-ISP.mmdb``) or with a suffix
    (``GeoIP2-ISP-Test.mmdb``, ``GeoIP2-Enterprise-Demo.mmdb``) are found. Of the
    country editions only the first present is taken (Country before City).
    """
    if not directory.is_dir():
        raise MaxMindDatabaseError(
            f"MaxMind database directory {directory} does not exist; point it at the folder geoipupdate writes to"
        )
    paths = {}
    for edition in [e for e in EDITIONS if e not in COUNTRY_EDITIONS]:
        if found := _edition_file(directory, edition):
            paths[edition] = found
    for edition in COUNTRY_EDITIONS:
        if found := _edition_file(directory, edition):
            paths[edition] = found
            break
    if not paths:
        expected = ", ".join(f"{edition}.mmdb" for edition in EDITIONS)
        raise MaxMindDatabaseError(
            f"no MaxMind database found in {directory}; expected files named like "
            f"{expected} (as geoipupdate writes them)"
        )
    return paths


def _edition_file(directory: Path, edition: str) -> Path | None:
    candidates = sorted(directory.glob(f"{edition}*.mmdb"))
    if len(candidates) > 1:
        raise MaxMindDatabaseError(
            f"{directory} holds several {edition} files "
            f"({', '.join(c.name for c in candidates)}); keep one, or pass the files "
            "explicitly with MaxMindDatabases.open"
        )
    return candidates[0] if candidates else None


def edition_files_of_geoip_conf(conf_file: Path) -> dict[str, Path]:
    """``{edition: file}`` for the editions a geoipupdate ``GeoIP.conf`` downloads, where it puts them.

    Reads ``EditionIDs`` (formerly ``ProductIds``) and ``DatabaseDirectory`` (default
    ``/var/lib/GeoIP``); geoipupdate saves each edition as ``<EditionID>.mmdb``. Editions
    this project doesn't read (City, for example, when Country is there too) are skipped.
    The license key in the file is never read.
    """
    try:
        text = conf_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MaxMindDatabaseError(f"geoipupdate configuration {conf_file} does not exist") from None
    settings = geoip_conf_settings(text)
    editions = (settings.get("EditionIDs") or settings.get("ProductIds") or "").split()
    if not editions:
        raise MaxMindDatabaseError(f"{conf_file}: no EditionIDs line, so no database to read")
    directory = Path(settings.get("DatabaseDirectory") or GEOIPUPDATE_DEFAULT_DIRECTORY)
    ours = [edition for edition in editions if edition in EDITIONS]
    if not ours:
        raise MaxMindDatabaseError(
            f"{conf_file}: EditionIDs {' '.join(editions)} include none this project reads ({', '.join(EDITIONS)})"
        )
    countries = [edition for edition in ours if edition in COUNTRY_EDITIONS]
    keep = [edition for edition in ours if edition not in COUNTRY_EDITIONS] + countries[:1]
    return {edition: directory / f"{edition}.mmdb" for edition in keep}


def geoip_conf_settings(text: str) -> dict[str, str]:
    """``GeoIP.conf`` as keyword → value: one setting per line, ``#`` starts a comment line."""
    settings = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, value = line.partition(" ")
            settings[keyword] = value.strip()
    return settings
