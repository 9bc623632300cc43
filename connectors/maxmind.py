"""MaxMind GeoIP2 / GeoLite2 databases: open, check, and look up many IPs at once.

Which edition answers which column, most specific first (`EDITIONS` is this order).
When two editions both give a column, the earlier one wins:

1. GeoIP2-Enterprise: everything (``traits.*``, ``country.iso_code``); MaxMind's most
   detailed product, built from the same data as the editions below.
2. GeoIP2-ISP: organization, isp, asn, as_organization, mobile_country_code, mobile_network_code.
3. GeoIP2-Domain: domain.
4. GeoIP2-Connection-Type: connection_type.
5. GeoIP2-Anonymous-IP: the ``is_*`` anonymity flags.
6. GeoLite2-ASN: asn, as_organization (ISP's are per customer, ASN's per announcer).
7. GeoIP2-City, GeoLite2-City, GeoIP2-Country, GeoLite2-Country: country.

Every edition is checked when it is opened (file present, readable, of the expected
type), so a wrong or broken file stops the run at start-up, not at the first lookup.
"""

from __future__ import annotations

import mmap
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any

import maxminddb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from enrichment.classification_rules import ANONYMITY_FLAGS
from enrichment.resolution import distinct_rows

LOOKUP_COLUMNS = (
    "ip",
    "network",
    "organization",
    "isp",
    "domain",
    "asn",
    "as_organization",
    "mobile_country_code",
    "mobile_network_code",
    "country",
    "connection_type",
    "user_type",
    *ANONYMITY_FLAGS,
    "database_epoch",
    "sources",
)
_INTEGER_COLUMNS = ("asn", "database_epoch")
_MERGED_COLUMNS = LOOKUP_COLUMNS[2:]  # all but ip and network, which are per IP

# How many records `open` decodes to catch a corrupt data section at start-up. A full
# scan of a real Enterprise file takes minutes; a broken file fails within a few records.
_RECORDS_CHECKED_AT_OPEN = 1_000

_EMPTY: Mapping[str, Any] = {}
_NOT_AN_ADDRESS = "not looked up: not an IPv4 or IPv6 address"


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
    # Text, not numbers: "004" and "04" are different mobile network codes.
    "mobile_country_code": "mobile_country_code",
    "mobile_network_code": "mobile_network_code",
}
_ASN_KEYS = {
    "autonomous_system_number": "asn",
    "autonomous_system_organization": "as_organization",
}
_FLAG_KEYS = {flag: flag for flag in ANONYMITY_FLAGS}
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
    tree: _SearchTree

    def close(self) -> None:
        self.reader.close()
        self.tree.close()


class MaxMindDatabases:
    """A set of open MaxMind databases, looked up together and merged per IP."""

    def __init__(self, databases: list[_Database]) -> None:
        self._databases = sorted(databases, key=lambda db: list(EDITIONS).index(db.edition))

    @classmethod
    def open(cls, paths: Mapping[str, Path]) -> MaxMindDatabases:
        """Open and check ``{edition: file}``, e.g. ``{"GeoIP2-ISP": Path(...)}``."""
        if not paths:
            raise MaxMindDatabaseError(f"no MaxMind database given; expected one or more of: {', '.join(EDITIONS)}")
        databases: list[_Database] = []
        try:
            for edition, path in paths.items():
                databases.append(_open_database(edition, Path(path)))
        except MaxMindDatabaseError:
            for database in databases:
                database.close()
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
                f"MaxMind database directory {directory} does not exist; point it at the folder geoipupdate writes to"
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
                f"{conf_file}: EditionIDs {' '.join(editions)} include none this project reads ({', '.join(EDITIONS)})"
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
            database.close()

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
        addresses = _parse_addresses(unique_ips)
        found = [_find(database, unique_ips, addresses) for database in self._databases]
        # An IP's row, but for its ip and network, depends only on which record each
        # edition has for it and on whether it is an address: merge once per combination.
        combinations, first_ips = distinct_rows([*(f.records for f in found), addresses.valid], len(unique_ips))
        merge = self._merger()
        merged = [
            merge([f.rows[f.records[i]] if f.records[i] >= 0 else None for f in found], addresses.valid[i])
            for i in first_ips.tolist()
        ]
        prefixes = np.full(len(unique_ips), -1)
        for edition in found:  # the most specific edition with a record gives the network
            first_record = (prefixes < 0) & (edition.records >= 0)
            prefixes[first_record] = edition.prefixes[first_record]
        return _lookup_frame(unique_ips, _networks(addresses, prefixes), merged, combinations)

    def _merger(self) -> Callable[[list[tuple[Any, ...] | None], bool], list[Any]]:
        """A function making the `_MERGED_COLUMNS` of a lookup row from each edition's
        record values (None: no record) and whether the IP is an address."""
        slot = {name: n for n, name in enumerate(_MERGED_COLUMNS)}
        slots = [[slot[name] for name in EDITIONS[database.edition].columns] for database in self._databases]
        # The Anonymous-IP database lists only anonymous networks: no record there means
        # "not anonymous", not "unknown".
        flags = [slot[flag] for flag in ANONYMITY_FLAGS] if _ANONYMOUS_IP in self.editions else []
        newest = max(self.build_epochs.values())
        editions = self.editions

        def merge(records: list[tuple[Any, ...] | None], is_address: bool) -> list[Any]:
            row: list[Any] = [None] * len(_MERGED_COLUMNS)
            for edition_slots, values in zip(slots, records):
                for n, value in zip(edition_slots, values or ()):
                    if row[n] is None:
                        row[n] = value
            found_in = [edition for edition, values in zip(editions, records) if values is not None]
            row[slot["sources"]] = ";".join(found_in) or None
            if is_address:
                for n in flags:
                    if row[n] is None:
                        row[n] = False
                # Every valid IP was looked up in every database, found or not.
                row[slot["database_epoch"]] = newest
            return row

        return merge

    def explain(self, ip: str) -> list[tuple[str, str]]:
        """What each open edition says about ``ip``: ``(edition, "field=value")`` pairs.

        Editions come most specific first, each with the network its record covers;
        one without a record gives ``(edition, "no record")``. Like `lookup`, a string
        that is not an IP address is answered, not raised: every edition says so.
        """
        addresses = _parse_addresses([ip])
        if not addresses.valid[0]:
            return [(edition, _NOT_AN_ADDRESS) for edition in self.editions]
        findings: list[tuple[str, str]] = []
        for database in self._databases:
            found = _find(database, [ip], addresses)
            if found.records[0] < 0:
                findings.append((database.edition, "no record"))
                continue
            findings.append((database.edition, f"network={_networks(addresses, found.prefixes)[0].as_py()}"))
            findings.extend(
                (database.edition, f"{column}={value}")
                for column, value in zip(EDITIONS[database.edition].columns, found.rows[0])
                if value is not None
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
        raise MaxMindDatabaseError(f"{path}: unsupported edition {edition!r}; supported: {', '.join(EDITIONS)}")
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
            f"{path} is a {database_type} database, expected {edition}; check which file is configured for {edition}"
        )
    try:
        # Iterating decodes records: a broken data section fails here, not mid-run.
        for _ in islice(reader, _RECORDS_CHECKED_AT_OPEN):
            pass
    except maxminddb.InvalidDatabaseError as error:
        reader.close()
        raise _corrupt(path, edition, error) from error
    metadata = reader.metadata()
    tree = _SearchTree(path, metadata.node_count, metadata.record_size, metadata.ip_version)
    return _Database(edition, path, reader, metadata.build_epoch, tree)


def _corrupt(path: Path, edition: str, error: Exception) -> MaxMindDatabaseError:
    return MaxMindDatabaseError(
        f"{path} is not a valid MaxMind database ({error}); expected {edition}. "
        "The file is corrupt or truncated: download it again with geoipupdate"
    )


# Strictly written IPv4, as inet_pton reads it: four decimal octets, no leading zeros.
_IPV4_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_STRICT_IPV4 = rf"^(?:{_IPV4_OCTET}\.){{3}}{_IPV4_OCTET}$"


@dataclass(frozen=True)
class _Addresses:
    """Which of some IPs are addresses: their row numbers and packed bytes, per family."""

    valid: np.ndarray  # bool per IP
    ipv4_rows: np.ndarray
    ipv4: np.ndarray  # uint8, one row of 4 bytes per address
    ipv6_rows: np.ndarray
    ipv6: np.ndarray  # uint8, one row of 16 bytes per address


def _parse_addresses(ips: list[Any]) -> _Addresses:
    """The strictly written IPv4/IPv6 addresses among ``ips``.

    maxminddb also accepts inet_aton shorthand ("1.2.3", "16908291", "010.0.0.1"),
    which in a log field is garbage, not an address; inet_pton does not, nor does
    `_STRICT_IPV4`. IPv4, nearly all of a log, is parsed by Arrow in one pass.
    """
    texts = pa.array([ip if isinstance(ip, str) else None for ip in ips], type=pa.string())
    is_ipv4 = pc.match_substring_regex(texts, _STRICT_IPV4).fill_null(False)
    octets = pc.list_flatten(pc.split_pattern(texts.filter(is_ipv4), ".")).cast(pa.uint8())
    ipv4_rows = np.flatnonzero(is_ipv4.to_numpy(zero_copy_only=False))
    has_colon = pc.match_substring(texts, ":").fill_null(False)
    candidates = np.flatnonzero(has_colon.to_numpy(zero_copy_only=False))
    packed = [_packed_ipv6(ips[row]) for row in candidates.tolist()]
    ipv6_rows = candidates[np.array([address is not None for address in packed], dtype=bool)]
    valid = np.zeros(len(ips), dtype=bool)
    valid[ipv4_rows] = valid[ipv6_rows] = True
    return _Addresses(
        valid,
        ipv4_rows,
        octets.to_numpy().reshape(-1, 4),
        ipv6_rows,
        np.frombuffer(b"".join(filter(None, packed)), dtype=np.uint8).reshape(-1, 16),
    )


def _packed_ipv6(ip: str) -> bytes | None:
    try:
        return socket.inet_pton(socket.AF_INET6, ip)
    except (OSError, ValueError):
        return None


class _SearchTree:
    """A database's search tree, walked for a whole batch of addresses at once.

    The reader answers one address per call and decodes its record every time, while a
    batch's addresses share far fewer records. The walk gives each address the data
    pointer of its record and its prefix length, so each record is decoded once (by
    the reader, for one address pointing at it). It reads the tree as maxminddb's
    pure-Python reader does (MaxMind DB format 2.0).
    """

    def __init__(self, path: Path, node_count: int, record_size: int, ip_version: int) -> None:
        with path.open("rb") as file:
            # A second read-only mapping of the file: the page cache is shared with the reader's.
            self._buffer = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        self._record_size = record_size
        self._node_bytes = record_size // 4
        # The right record starts after the left one; 28-bit records share the middle byte.
        self._right_offset = 4 if record_size == 32 else 3
        # The four big-endian bytes at every offset of the tree (the 16-byte separator
        # after it covers the last ones): any record is one read away.
        self._words = np.ndarray((node_count * self._node_bytes,), ">u4", self._buffer, 0, (1,))
        self.node_count = node_count
        self._ip_version = ip_version
        # An IPv6 tree holds IPv4 under ::/96: its walks start 96 zero bits down.
        node = 0
        for _ in range(96 if ip_version == 6 else 0):
            if node >= node_count:
                break
            node = int(self._children(np.array([node]), np.array([0]))[0])
        self._ipv4_start = node

    def close(self) -> None:
        self._words = None  # the mapping cannot close while an array uses it
        self._buffer.close()

    def find(self, addresses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each address's walk ends (``node_count``: no record; above: a data
        pointer) and how many of its bits the walk took (the prefix length)."""
        count, width = addresses.shape
        if width == 16 and self._ip_version == 4 and count:
            raise ValueError("You attempted to look up an IPv6 address in an IPv4-only database.")
        values = np.empty(count, dtype=np.int64)
        prefixes = np.empty(count, dtype=np.int64)
        rows = np.arange(count)  # the addresses still walking, and where they are
        nodes = np.full(count, self._ipv4_start if width == 4 else 0, dtype=np.int64)
        for depth in range(width * 8 + 1):
            ended = nodes >= self.node_count
            if ended.any():
                values[rows[ended]] = nodes[ended]
                prefixes[rows[ended]] = depth
                walking = ~ended
                rows, nodes, addresses = rows[walking], nodes[walking], addresses[walking]
            if not rows.size:
                return values, prefixes
            if depth < width * 8:
                nodes = self._children(nodes, addresses[:, depth // 8] >> (7 - depth % 8) & 1)
        raise maxminddb.InvalidDatabaseError("Invalid node in search tree")

    def _children(self, nodes: np.ndarray, bits: np.ndarray) -> np.ndarray:
        """The record of each node that ``bits`` picks (0: left, 1: right)."""
        words = self._words[nodes * self._node_bytes + bits * self._right_offset].astype(np.int64)
        if self._record_size == 24:
            return words >> 8
        if self._record_size == 28:  # the left's top nibble is the high half of the shared byte
            return np.where(bits, words & 0x0FFFFFFF, words >> 8 | (words & 0xF0) << 20)
        return words


@dataclass(frozen=True)
class _Found:
    """One edition's answer for a batch of IPs."""

    records: np.ndarray  # per IP: its record's index in rows, -1 for none
    rows: list[tuple[Any, ...]]  # per distinct record: the values of its edition's columns
    prefixes: np.ndarray  # per IP: the prefix length of its record's network


def _find(database: _Database, ips: list[Any], addresses: _Addresses) -> _Found:
    """The records ``database`` has for ``ips``, each distinct one decoded once."""
    tree = database.tree
    values = np.full(len(ips), tree.node_count, dtype=np.int64)  # not an address: no record
    prefixes = np.zeros(len(ips), dtype=np.int64)
    layout = EDITIONS[database.edition]
    rows: list[tuple[Any, ...]] = []
    try:
        for family_rows, packed in (addresses.ipv4_rows, addresses.ipv4), (addresses.ipv6_rows, addresses.ipv6):
            values[family_rows], prefixes[family_rows] = tree.find(packed)
        pointer_of_ip, first_ips = distinct_rows([values], len(ips))
        row_of_pointer = np.full(len(first_ips), -1)
        for n, (pointer, first_ip) in enumerate(zip(values[first_ips].tolist(), first_ips.tolist())):
            record = database.reader.get(ips[first_ip]) if pointer > tree.node_count else None
            if record:  # MaxMind stores "nothing to say" as an empty map
                row_of_pointer[n] = len(rows)
                rows.append(layout.extract(record))
    except maxminddb.InvalidDatabaseError as error:
        raise _corrupt(database.path, database.edition, error) from error
    return _Found(row_of_pointer[pointer_of_ip], rows, prefixes)


# The decimal text of 0-255: Arrow spells IPv4 networks from it, a byte at a time.
_DECIMAL = pa.array([str(number) for number in range(256)])


def _networks(addresses: _Addresses, prefixes: np.ndarray) -> pa.Array:
    """``first-address/prefix`` of each IP's network; null where its prefix is -1."""
    found = prefixes[addresses.ipv4_rows] >= 0
    ipv4_rows = addresses.ipv4_rows[found]
    ipv4_prefixes = prefixes[ipv4_rows]
    host_bits = 32 - ipv4_prefixes
    first = addresses.ipv4[found].view(">u4").reshape(-1).astype(np.int64) >> host_bits << host_bits
    # Formatting in Python would cost more than the lookup itself.
    octets = [_DECIMAL.take(first >> shift & 0xFF) for shift in (24, 16, 8, 0)]
    addresses_text = pc.binary_join_element_wise(*octets, ".")
    ipv4 = pc.binary_join_element_wise(addresses_text, _DECIMAL.take(ipv4_prefixes), "/")
    found = prefixes[addresses.ipv6_rows] >= 0
    ipv6_rows = addresses.ipv6_rows[found]
    ipv6 = [
        _network(address.tobytes(), prefix)
        for address, prefix in zip(addresses.ipv6[found], prefixes[ipv6_rows].tolist())
    ]
    texts = pa.concat_arrays([ipv4, pa.array(ipv6, pa.string()), pa.nulls(1, pa.string())])
    positions = np.full(len(prefixes), len(texts) - 1)
    positions[ipv4_rows] = np.arange(len(ipv4_rows))
    positions[ipv6_rows] = len(ipv4_rows) + np.arange(len(ipv6_rows))
    return texts.take(positions)


def _network(address: bytes, prefix: int) -> str:
    """``first-address/prefix`` of the network of ``prefix`` bits holding ``address``."""
    host_bits = len(address) * 8 - prefix
    first = int.from_bytes(address) >> host_bits << host_bits
    family = socket.AF_INET if len(address) == 4 else socket.AF_INET6
    return f"{socket.inet_ntop(family, first.to_bytes(len(address)))}/{prefix}"


def _dtype(column: str) -> str:
    if column in _INTEGER_COLUMNS:
        return "Int64"
    if column in ANONYMITY_FLAGS:
        return "boolean"
    return "str"


def _lookup_frame(
    ips: list[Any], networks: pa.Array, merged: list[list[Any]], combinations: np.ndarray
) -> pd.DataFrame:
    """The lookup frame: ``ip`` and ``network`` per IP, the `_MERGED_COLUMNS` spread from
    ``merged`` (a row per combination) by each IP's combination number."""
    columns = {"ip": pd.array(ips, dtype="str"), "network": pd.array(networks, dtype="str")}
    merged_columns = zip(*merged) if merged else [()] * len(_MERGED_COLUMNS)
    for name, values in zip(_MERGED_COLUMNS, merged_columns):
        columns[name] = pd.array(values, dtype=_dtype(name)).take(combinations)
    # The columns are new objects, so the frame may own them without a copy.
    return pd.DataFrame(columns, copy=False)
