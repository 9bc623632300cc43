"""MaxMind GeoIP2 / GeoLite2 databases: open, check, and look up many IPs at once.

Which edition answers which column, most specific first (`EDITIONS` is this order).
When two editions both give a column, the earlier one wins:

1. GeoIP2-Enterprise: everything (``traits.*``, ``country.iso_code``); MaxMind's most
   detailed product, built from the same data as the editions below.
2. GeoIP2-ISP: organization, isp, asn, as_organization.
3. GeoIP2-Domain: domain.
4. GeoIP2-Connection-Type: connection_type.
5. GeoIP2-Anonymous-IP: the ``is_*`` anonymity flags.
6. GeoLite2-ASN: asn, as_organization (ISP's are per customer, ASN's per announcer).
7. GeoIP2-City, GeoLite2-City, GeoIP2-Country, GeoLite2-Country: country.

Every edition is checked when it is opened (file present, readable, of the expected
type), so a wrong or broken file stops the run at start-up, not at the first lookup.
"""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any

import maxminddb
import pandas as pd

LOOKUP_COLUMNS = (
    "ip",
    "network",
    "organization",
    "isp",
    "domain",
    "asn",
    "as_organization",
    "country",
    "connection_type",
    "user_type",
    "is_anonymous",
    "is_anonymous_vpn",
    "is_hosting_provider",
    "is_public_proxy",
    "is_tor_exit_node",
    "is_residential_proxy",
    "database_epoch",
    "sources",
)
_FLAG_COLUMNS = (
    "is_anonymous",
    "is_anonymous_vpn",
    "is_hosting_provider",
    "is_public_proxy",
    "is_tor_exit_node",
    "is_residential_proxy",
)
_INTEGER_COLUMNS = ("asn", "database_epoch")

# How many records `open` decodes to catch a corrupt data section at start-up. A full
# scan of a real Enterprise file takes minutes; a broken file fails within a few records.
_RECORDS_CHECKED_AT_OPEN = 1_000

_EMPTY: Mapping[str, Any] = {}
_NOT_LOOKED_UP = (None, None)
_NOT_AN_ADDRESS = "not looked up: not an IPv4 or IPv6 address"
# Runs an iterator for its side effects at C speed (the itertools "consume" recipe).
_consume = deque(maxlen=0).extend


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where one edition keeps the lookup columns it provides."""

    keys: Mapping[str, str]  # record key -> lookup column
    container: str | None = None  # Enterprise nests its keys under "traits"
    has_country: bool = False  # country.iso_code, as Enterprise, City and Country nest it

    @property
    def columns(self) -> tuple[str, ...]:
        """Lookup columns in the order `extract` returns their values."""
        return (*self.keys.values(), *(("country",) if self.has_country else ()))

    def extract(self, record: Mapping[str, Any]) -> tuple[Any, ...]:
        source = (record.get(self.container) or _EMPTY) if self.container else record
        values = tuple(map(source.get, self.keys))
        if self.has_country:
            return (*values, (record.get("country") or _EMPTY).get("iso_code"))
        return values


_ISP_KEYS = {
    "organization": "organization",
    "isp": "isp",
    "autonomous_system_number": "asn",
    "autonomous_system_organization": "as_organization",
}
_ASN_KEYS = {
    "autonomous_system_number": "asn",
    "autonomous_system_organization": "as_organization",
}
_FLAG_KEYS = {flag: flag for flag in _FLAG_COLUMNS}
_COUNTRY = _Layout(keys={}, has_country=True)

GEOIPUPDATE_DEFAULT_DIRECTORY = Path("/var/lib/GeoIP")

EDITIONS: Mapping[str, _Layout] = {
    "GeoIP2-Enterprise": _Layout(
        keys={
            **_ISP_KEYS,
            "domain": "domain",
            "connection_type": "connection_type",
            "user_type": "user_type",
            **_FLAG_KEYS,
        },
        container="traits",
        has_country=True,
    ),
    "GeoIP2-ISP": _Layout(keys=_ISP_KEYS),
    "GeoIP2-Domain": _Layout(keys={"domain": "domain"}),
    "GeoIP2-Connection-Type": _Layout(keys={"connection_type": "connection_type"}),
    "GeoIP2-Anonymous-IP": _Layout(keys=_FLAG_KEYS),
    "GeoLite2-ASN": _Layout(keys=_ASN_KEYS),
    "GeoIP2-City": _COUNTRY,
    "GeoLite2-City": _COUNTRY,
    "GeoIP2-Country": _COUNTRY,
    "GeoLite2-Country": _COUNTRY,
}
# One country source is enough: `from_directory` takes the first of these it finds
# (Country before City: the same country data in a smaller file).
_COUNTRY_EDITIONS = ("GeoIP2-Country", "GeoLite2-Country", "GeoIP2-City", "GeoLite2-City")
_ANONYMOUS_IP = "GeoIP2-Anonymous-IP"


class MaxMindDatabaseError(Exception):
    """A MaxMind database file is missing, unreadable or not the edition expected."""


@dataclass
class _Database:
    edition: str
    path: Path
    reader: Any  # maxminddb.extension.Reader (C) or maxminddb.Reader (pure Python)
    build_epoch: int


class MaxMindDatabases:
    """A set of open MaxMind databases, looked up together and merged per IP."""

    def __init__(self, databases: list[_Database]) -> None:
        self._databases = sorted(databases, key=lambda db: list(EDITIONS).index(db.edition))

    @classmethod
    def open(cls, paths: Mapping[str, Path]) -> MaxMindDatabases:
        """Open and check ``{edition: file}``, e.g. ``{"GeoIP2-ISP": Path(...)}``."""
        if not paths:
            raise MaxMindDatabaseError(
                f"no MaxMind database given; expected one or more of: {', '.join(EDITIONS)}"
            )
        databases: list[_Database] = []
        try:
            for edition, path in paths.items():
                databases.append(_open_database(edition, Path(path)))
        except MaxMindDatabaseError:
            for database in databases:
                database.reader.close()
            raise
        return cls(databases)

    @classmethod
    def from_directory(cls, directory: Path) -> MaxMindDatabases:
        """Open every supported edition found in ``directory`` by its standard file name.

        Names as geoipupdate writes them (``GeoIP2-ISP.mmdb``) or with a suffix
        (``GeoIP2-ISP-Test.mmdb``, ``GeoIP2-Enterprise-Demo.mmdb``) are found. Of the
        country editions only the first present is opened (Country before City).
        """
        directory = Path(directory)
        if not directory.is_dir():
            raise MaxMindDatabaseError(
                f"MaxMind database directory {directory} does not exist; point it at the "
                "folder geoipupdate writes to"
            )
        paths = {}
        for edition in [e for e in EDITIONS if e not in _COUNTRY_EDITIONS]:
            if found := _find_edition_file(directory, edition):
                paths[edition] = found
        for edition in _COUNTRY_EDITIONS:
            if found := _find_edition_file(directory, edition):
                paths[edition] = found
                break
        if not paths:
            expected = ", ".join(f"{edition}.mmdb" for edition in EDITIONS)
            raise MaxMindDatabaseError(
                f"no MaxMind database found in {directory}; expected files named like "
                f"{expected} (as geoipupdate writes them)"
            )
        return cls.open(paths)

    @classmethod
    def from_geoip_conf(cls, conf_file: Path) -> MaxMindDatabases:
        """Open the editions a geoipupdate ``GeoIP.conf`` downloads, where it puts them.

        Reads ``EditionIDs`` (formerly ``ProductIds``) and ``DatabaseDirectory`` (default
        ``/var/lib/GeoIP``); geoipupdate saves each edition as ``<EditionID>.mmdb``. Editions
        this project doesn't read (City, for example, when Country is there too) are skipped.
        The license key in the file is never read.
        """
        conf_file = Path(conf_file)
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
                f"{conf_file}: EditionIDs {' '.join(editions)} include none this project reads "
                f"({', '.join(EDITIONS)})"
            )
        countries = [edition for edition in ours if edition in _COUNTRY_EDITIONS]
        keep = [edition for edition in ours if edition not in _COUNTRY_EDITIONS] + countries[:1]
        return cls.open({edition: directory / f"{edition}.mmdb" for edition in keep})

    def __enter__(self) -> MaxMindDatabases:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for database in self._databases:
            database.reader.close()

    @property
    def editions(self) -> list[str]:
        """The open editions, most specific first."""
        return [database.edition for database in self._databases]

    @property
    def build_epochs(self) -> dict[str, int]:
        """Build time (Unix epoch) of each open edition."""
        return {database.edition: database.build_epoch for database in self._databases}

    @property
    def oldest_build(self) -> datetime:
        """When the stalest open database was built (UTC); MaxMind publishes weekly."""
        return datetime.fromtimestamp(min(self.build_epochs.values()), tz=UTC)

    def lookup(self, ips: Iterable[str]) -> pd.DataFrame:
        """One row per unique IP with the columns in `LOOKUP_COLUMNS`.

        Editions are merged per column in `EDITIONS` order; ``network`` is the most
        specific edition's. ``sources`` lists the editions that had a record
        (``"GeoIP2-ISP;GeoIP2-Domain"``). ``database_epoch`` is the newest build among
        the open databases, so a database update shows. With GeoIP2-Anonymous-IP open,
        an IP it does not list has False flags (the edition lists only anonymous
        networks); otherwise unset flags are null. An IP no database knows has nulls
        but its epoch; a string that is not an IP address has nulls only.
        """
        unique_ips = list(dict.fromkeys(ips))
        addresses = [_packed_address(ip) for ip in unique_ips]
        columns: dict[str, list[Any]] = {"ip": unique_ips}
        networks: list[str | None] = [None] * len(unique_ips)
        sources: list[str | None] = [None] * len(unique_ips)
        for database in self._databases:
            found, prefixes = _read_all(database, unique_ips, addresses)
            for name, values in found.items():
                columns[name] = _fill_gaps(columns[name], values) if name in columns else values
            networks = [
                _network(address, prefix) if network is None and prefix is not None else network
                for network, address, prefix in zip(networks, addresses, prefixes)
            ]
            sources = [
                _add_source(names, database.edition) if prefix is not None else names
                for names, prefix in zip(sources, prefixes)
            ]
        if _ANONYMOUS_IP in self.editions:
            _default_flags_to_false(columns, addresses)
        newest = max(self.build_epochs.values())
        # Every valid IP was looked up in every database, found or not.
        columns["database_epoch"] = [None if a is None else newest for a in addresses]
        columns["network"] = networks
        columns["sources"] = sources
        return _lookup_frame(columns, len(unique_ips))

    def explain(self, ip: str) -> list[tuple[str, str]]:
        """What each open edition says about ``ip``: ``(edition, "field=value")`` pairs.

        Editions come most specific first, each with the network its record covers;
        one without a record gives ``(edition, "no record")``. Like `lookup`, a string
        that is not an IP address is answered, not raised: every edition says so.
        """
        address = _packed_address(ip)
        if address is None:
            return [(edition, _NOT_AN_ADDRESS) for edition in self.editions]
        findings: list[tuple[str, str]] = []
        for database in self._databases:
            found, prefixes = _read_all(database, [ip], [address])
            if prefixes[0] is None:
                findings.append((database.edition, "no record"))
                continue
            findings.append((database.edition, f"network={_network(address, prefixes[0])}"))
            findings.extend(
                (database.edition, f"{column}={values[0]}")
                for column, values in found.items()
                if values[0] is not None
            )
        return findings


def geoip_conf_settings(text: str) -> dict[str, str]:
    """``GeoIP.conf`` as keyword → value: one setting per line, ``#`` starts a comment line."""
    settings = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, value = line.partition(" ")
            settings[keyword] = value.strip()
    return settings


def _find_edition_file(directory: Path, edition: str) -> Path | None:
    candidates = sorted(directory.glob(f"{edition}*.mmdb"))
    if len(candidates) > 1:
        raise MaxMindDatabaseError(
            f"{directory} holds several {edition} files "
            f"({', '.join(c.name for c in candidates)}); keep one, or pass the files "
            "explicitly with MaxMindDatabases.open"
        )
    return candidates[0] if candidates else None


def _open_database(edition: str, path: Path) -> _Database:
    """Open ``path`` as ``edition``, or raise a MaxMindDatabaseError saying what is wrong."""
    if edition not in EDITIONS:
        raise MaxMindDatabaseError(
            f"{path}: unsupported edition {edition!r}; supported: {', '.join(EDITIONS)}"
        )
    if not path.is_file():
        raise MaxMindDatabaseError(
            f"{edition} database not found at {path}; download it with geoipupdate "
            f"(expected a file like {edition}.mmdb)"
        )
    try:
        reader = maxminddb.open_database(path, maxminddb.MODE_AUTO)
    except maxminddb.InvalidDatabaseError as error:
        raise _corrupt(path, edition, error) from error
    except OSError as error:
        raise MaxMindDatabaseError(f"cannot read {path} ({error}); expected {edition}") from error
    database_type = reader.metadata().database_type
    if database_type != edition:
        reader.close()
        raise MaxMindDatabaseError(
            f"{path} is a {database_type} database, expected {edition}; "
            f"check which file is configured for {edition}"
        )
    try:
        # Iterating decodes records: a broken data section fails here, not mid-run.
        for _ in islice(reader, _RECORDS_CHECKED_AT_OPEN):
            pass
    except maxminddb.InvalidDatabaseError as error:
        reader.close()
        raise _corrupt(path, edition, error) from error
    return _Database(edition, path, reader, reader.metadata().build_epoch)


def _corrupt(path: Path, edition: str, error: Exception) -> MaxMindDatabaseError:
    return MaxMindDatabaseError(
        f"{path} is not a valid MaxMind database ({error}); expected {edition}. "
        "The file is corrupt or truncated: download it again with geoipupdate"
    )


def _packed_address(ip: object) -> bytes | None:
    """The address as 4 or 16 bytes if ``ip`` is a strictly written IPv4/IPv6 address.

    maxminddb also accepts inet_aton shorthand ("1.2.3", "16908291", "010.0.0.1"),
    which in a log field is garbage, not an address; inet_pton does not. Bytes, not
    ipaddress objects: this runs once per IP and must stay cheap.
    """
    if not isinstance(ip, str):
        return None
    try:
        return socket.inet_pton(socket.AF_INET6 if ":" in ip else socket.AF_INET, ip)
    except (OSError, ValueError):
        return None


def _read_all(
    database: _Database, ips: list[str], addresses: list[bytes | None]
) -> tuple[dict[str, list[Any]], list[int | None]]:
    """One edition's values for each IP, by column, and the prefix length of each IP's
    network (None where the edition has no record).

    The hot loop of resolution: one C-level lookup and one extraction per IP. Values
    go straight into column lists; keeping decoded records or per-IP rows around
    would cost as much as decoding them.
    """
    lookup = database.reader.get_with_prefix_len
    layout = EDITIONS[database.edition]
    extract = layout.extract
    columns: list[list[Any]] = [[] for _ in layout.columns]
    no_record = (None,) * len(layout.columns)
    prefixes: list[int | None] = []
    try:
        for ip, address in zip(ips, addresses):
            record, prefix = lookup(ip) if address is not None else _NOT_LOOKED_UP
            if record:  # MaxMind stores "nothing to say" as an empty map
                _consume(map(list.append, columns, extract(record)))
                prefixes.append(prefix)
            else:
                _consume(map(list.append, columns, no_record))
                prefixes.append(None)
    except maxminddb.InvalidDatabaseError as error:
        raise _corrupt(database.path, database.edition, error) from error
    return dict(zip(layout.columns, columns)), prefixes


def _add_source(names: str | None, edition: str) -> str:
    return f"{names};{edition}" if names else edition


def _fill_gaps(earlier: list[Any], later: list[Any]) -> list[Any]:
    """``earlier`` (a more specific edition's values) with its nulls filled from ``later``."""
    return [old if old is not None else new for old, new in zip(earlier, later)]


def _default_flags_to_false(columns: dict[str, list[Any]], addresses: list[bytes | None]) -> None:
    # The Anonymous-IP database lists only anonymous networks: no record there means
    # "not anonymous", not "unknown".
    for flag in _FLAG_COLUMNS:
        columns[flag] = [
            False if value is None and address is not None else value
            for value, address in zip(columns[flag], addresses)
        ]


def _network(address: bytes, prefix: int) -> str:
    """``first-address/prefix`` of the network of ``prefix`` bits holding ``address``."""
    host_bits = len(address) * 8 - prefix
    first = int.from_bytes(address) >> host_bits << host_bits
    family = socket.AF_INET if len(address) == 4 else socket.AF_INET6
    return f"{socket.inet_ntop(family, first.to_bytes(len(address)))}/{prefix}"


def _lookup_frame(columns: dict[str, list[Any]], length: int) -> pd.DataFrame:
    def column(name: str) -> pd.Series:
        values = columns.get(name, [None] * length)
        if name in _INTEGER_COLUMNS:
            return pd.Series(values, dtype="Int64")
        if name in _FLAG_COLUMNS:
            return pd.Series(values, dtype="boolean")
        return pd.Series(values, dtype="str")

    # The columns are new objects, so the frame may own them without a copy.
    return pd.DataFrame({name: column(name) for name in LOOKUP_COLUMNS}, copy=False)
