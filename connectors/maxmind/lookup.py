"""Each edition's records for a batch of IPs, merged per IP into the lookup frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import maxminddb
import numpy as np
import pandas as pd
import pyarrow as pa

from connectors.maxmind.addresses import Addresses
from connectors.maxmind.editions import ANONYMOUS_IP, EDITIONS, MERGED_COLUMNS
from connectors.maxmind.files import Database, corrupt_database_error
from enrichment.classification_rules import ANONYMITY_FLAGS
from enrichment.resolution import distinct_rows

_INTEGER_COLUMNS = ("asn", "database_epoch")

EditionValues = tuple[Any, ...]  # one record's values of its edition's `Layout.columns`
Merge = Callable[[list[EditionValues | None], bool], list[Any]]


@dataclass(frozen=True)
class Found:
    """One edition's answer for a batch of IPs."""

    records: np.ndarray  # per IP: its record's index in rows, -1 for none
    rows: list[EditionValues]  # per distinct record: the values of its edition's columns
    prefixes: np.ndarray  # per IP: the prefix length of its record's network


def find_records(database: Database, ips: list[Any], addresses: Addresses) -> Found:
    """The records ``database`` has for ``ips``, each distinct one decoded once."""
    tree = database.tree
    values = np.full(len(ips), tree.node_count, dtype=np.int64)  # not an address: no record
    prefixes = np.zeros(len(ips), dtype=np.int64)
    layout = EDITIONS[database.edition]
    rows: list[EditionValues] = []
    try:
        for family_rows, packed in addresses.families:
            values[family_rows], prefixes[family_rows] = tree.find(packed)
        pointer_of_ip, first_ips = distinct_rows([values], len(ips))
        row_of_pointer = np.full(len(first_ips), -1)
        for n, (pointer, first_ip) in enumerate(zip(values[first_ips].tolist(), first_ips.tolist())):
            record = database.reader.get(ips[first_ip]) if pointer > tree.node_count else None
            if record:  # MaxMind stores "nothing to say" as an empty map
                row_of_pointer[n] = len(rows)
                rows.append(layout.extract(record))
    except maxminddb.InvalidDatabaseError as error:
        raise corrupt_database_error(database.path, database.edition, error) from error
    return Found(row_of_pointer[pointer_of_ip], rows, prefixes)


def merger(databases: list[Database]) -> Merge:
    """A function making the `MERGED_COLUMNS` of a lookup row from each of ``databases``'
    record values (None: no record) and whether the IP is an address.

    ``databases`` come most specific first: the first value a column gets stays.
    """
    slot = {name: n for n, name in enumerate(MERGED_COLUMNS)}
    slots = [[slot[name] for name in EDITIONS[database.edition].columns] for database in databases]
    editions = [database.edition for database in databases]
    # The Anonymous-IP database lists only anonymous networks: no record there means
    # "not anonymous", not "unknown".
    flags = [slot[flag] for flag in ANONYMITY_FLAGS] if ANONYMOUS_IP in editions else []
    newest = max(database.build_epoch for database in databases)

    def merge(records: list[EditionValues | None], is_address: bool) -> list[Any]:
        row: list[Any] = [None] * len(MERGED_COLUMNS)
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


def lookup_frame(ips: list[Any], networks: pa.Array, merged: list[list[Any]], combinations: np.ndarray) -> pd.DataFrame:
    """The lookup frame: ``ip`` and ``network`` per IP, the `MERGED_COLUMNS` spread from
    ``merged`` (a row per combination) by each IP's combination number."""
    columns = {"ip": pd.array(ips, dtype="str"), "network": pd.array(networks, dtype="str")}
    merged_columns = zip(*merged) if merged else [()] * len(MERGED_COLUMNS)
    for name, values in zip(MERGED_COLUMNS, merged_columns):
        columns[name] = pd.array(values, dtype=_dtype(name)).take(combinations)
    # The columns are new objects, so the frame may own them without a copy.
    return pd.DataFrame(columns, copy=False)


def _dtype(column: str) -> str:
    if column in _INTEGER_COLUMNS:
        return "Int64"
    if column in ANONYMITY_FLAGS:
        return "boolean"
    return "str"
