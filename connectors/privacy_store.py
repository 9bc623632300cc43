"""Privacy in the warehouse: raw IPs kept only as long as configured, and forgetting on request.

Both find the tables to work on by their column names, so an asset added or renamed
later (``attributed_hits`` → ``company_hits``) is covered without a change here:

- ``ip`` holds a visitor's address, ``raw`` a log line with one in it, ``network`` the
  MaxMind network of an address (as telling as the address when it is small);
- ``organization`` holds a MaxMind organization, ``organizations`` a ";"-separated list;
- ``visit_id`` ties the rows derived from a visit (digital paths) to its hits.

Values are transformed in Python once per distinct value (``enrichment.privacy`` is the
single definition of what an address is) and applied in SQL by joining a temporary
table of those values, so millions of rows are updated or deleted in a few set-based
statements on SQLite and PostgreSQL alike, never row by row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectors.warehouse import PARTITION_COLUMN, Warehouse
from enrichment.privacy import Network, ip_networks_in, parse_network, redact_ips_in_text

ADDRESS_COLUMNS = ("ip", "raw")
RETAINED_COLUMNS = (*ADDRESS_COLUMNS, "network")
ORGANIZATION_COLUMN = "organization"
ORGANIZATIONS_COLUMN = "organizations"
ORGANIZATION_SEPARATOR = ";"
VISIT_COLUMN = "visit_id"
FORGOTTEN_COLUMNS = (*ADDRESS_COLUMNS, ORGANIZATION_COLUMN, ORGANIZATIONS_COLUMN, VISIT_COLUMN)


@dataclass(frozen=True)
class RetentionResult:
    """Rows whose addresses were truncated, per table that stores addresses by day."""

    changed: dict[str, int]


@dataclass(frozen=True)
class ForgetResult:
    """Rows deleted, per table that could hold something about the forgotten party."""

    deleted: dict[str, int]


def enforce_raw_ip_retention(warehouse: Warehouse, *, older_than: dt.date) -> RetentionResult:
    """Truncate every address stored for a day before ``older_than`` to its network.

    Works on the partitions (days) of every table with an ``ip``, ``network`` or ``raw``
    column: addresses and networks become ``truncate_ip`` networks, addresses inside
    log lines too; every other column, aggregates included, stays as it is. A table
    without partitions has no day to judge and is left alone. Each table is done in one
    transaction, and running again changes nothing: a truncated value is its own truncation.
    """
    cut = older_than.isoformat()  # partition keys are ISO days: text order is date order
    changed: dict[str, int] = {}
    for table in _tables(warehouse, having_any_of=RETAINED_COLUMNS):
        if PARTITION_COLUMN in table.c:
            with warehouse.engine.begin() as connection:
                changed[table.name] = _truncate_old_rows(connection, table, table.c[PARTITION_COLUMN] < cut)
    return RetentionResult(changed)


def forget(warehouse: Warehouse, *, network: str | None = None, organization: str | None = None) -> ForgetResult:
    """Delete everything stored about one network or one organization, in every table.

    A network (CIDR, or one address) takes every row whose ``ip``, or an address in whose
    ``raw`` line, lies in it; a truncated value that overlaps it counts, since it may hold
    the network's visitors. An organization (compared ignoring case and spacing) takes
    the rows naming it, report rows listing it among an account's ``organizations``,
    and every row of the addresses it had: its hits, quarantined lines and account
    matches. Either way the rows of the removed hits' visits go too (digital paths).
    All or nothing: one transaction. Reports already written to files or a CRM are not
    the warehouse's to delete.
    """
    if (network is None) == (organization is None):
        raise ValueError("forget one network or one organization per call")
    tables = _tables(warehouse, having_any_of=FORGOTTEN_COLUMNS)
    with warehouse.engine.begin() as connection:
        forgotten = _temporary_table(connection, "privacy_forgotten", "column_name", "value")
        if network is not None:
            values = _values_with_addresses(connection, tables, _overlapping(parse_network(network)))
        else:
            values = _values_of_organization(connection, tables, organization)
        _insert(connection, forgotten, values)
        _insert(connection, forgotten, _visits_of_forgotten_rows(connection, tables, forgotten))
        deleted = {
            table.name: connection.execute(sa.delete(table).where(_forgotten_rows(table, forgotten))).rowcount
            for table in tables
        }
        forgotten.drop(connection)
    return ForgetResult(deleted)


# --- retention --------------------------------------------------------------------------


def _truncate_old_rows(connection: Connection, table: sa.Table, old: sa.ColumnElement[bool]) -> int:
    """Truncate the addresses in ``table``'s old rows; returns how many rows changed."""
    columns = [table.c[name] for name in RETAINED_COLUMNS if name in table.c]
    stored = {value for column in columns for value in _distinct(connection, column, old)}
    # A bare address comes out as truncate_ip's network, a log line with its addresses truncated.
    truncations = {(value, truncated) for value in stored if (truncated := redact_ips_in_text(value)) != value}
    if not truncations:
        return 0
    mapping = _temporary_table(connection, "privacy_truncations", "value", "truncated")
    _insert(connection, mapping, truncations)
    changing = sa.or_(*(column.in_(sa.select(mapping.c.value)) for column in columns))
    rows = connection.scalar(sa.select(sa.func.count()).select_from(table).where(old, changing))
    for column in columns:
        truncate = sa.update(table).where(old, column == mapping.c.value).values({column.name: mapping.c.truncated})
        connection.execute(truncate)
    mapping.drop(connection)
    return rows


# --- forgetting -------------------------------------------------------------------------

Pair = tuple[str, str]  # (column name, stored value)


def _overlapping(target: Network) -> Callable[[Network], bool]:
    return lambda network: network.version == target.version and network.overlaps(target)


def _values_with_addresses(
    connection: Connection, tables: list[sa.Table], forgotten: Callable[[Network], bool]
) -> set[Pair]:
    """Every stored ``ip`` and ``raw`` value holding an address that ``forgotten`` accepts."""
    return {
        (name, value)
        for table in tables
        for name in ADDRESS_COLUMNS
        if name in table.c
        for value in _distinct(connection, table.c[name])
        if any(map(forgotten, ip_networks_in(value)))
    }


def _values_of_organization(connection: Connection, tables: list[sa.Table], organization: str) -> set[Pair]:
    """The stored names of ``organization`` and every ``ip`` and ``raw`` value of the addresses it had."""
    wanted = _comparable(organization)
    pairs: set[Pair] = set()
    for table in tables:
        if ORGANIZATION_COLUMN in table.c:
            names = _distinct(connection, table.c[ORGANIZATION_COLUMN])
            pairs.update((ORGANIZATION_COLUMN, name) for name in names if _comparable(name) == wanted)
        if ORGANIZATIONS_COLUMN in table.c:
            lists = _distinct(connection, table.c[ORGANIZATIONS_COLUMN])
            pairs.update(
                (ORGANIZATIONS_COLUMN, names)
                for names in lists
                if wanted in map(_comparable, names.split(ORGANIZATION_SEPARATOR))
            )
    its_names = [name for column, name in pairs if column == ORGANIZATION_COLUMN]
    its_networks = {
        network
        for table in tables
        if ORGANIZATION_COLUMN in table.c and "ip" in table.c
        for ip in _distinct(connection, table.c.ip, table.c[ORGANIZATION_COLUMN].in_(its_names))
        for network in ip_networks_in(ip)
    }
    return pairs | _values_with_addresses(connection, tables, lambda network: network in its_networks)


def _visits_of_forgotten_rows(connection: Connection, tables: list[sa.Table], forgotten: sa.Table) -> set[Pair]:
    return {
        (VISIT_COLUMN, visit)
        for table in tables
        if VISIT_COLUMN in table.c
        for visit in _distinct(connection, table.c[VISIT_COLUMN], _forgotten_rows(table, forgotten))
    }


def _forgotten_rows(table: sa.Table, forgotten: sa.Table) -> sa.ColumnElement[bool]:
    return sa.or_(
        *(
            table.c[name].in_(sa.select(forgotten.c.value).where(forgotten.c.column_name == name))
            for name in FORGOTTEN_COLUMNS
            if name in table.c
        )
    )


def _comparable(name: str) -> str:
    return " ".join(name.split()).casefold()


# --- shared -----------------------------------------------------------------------------


def _tables(warehouse: Warehouse, *, having_any_of: Iterable[str]) -> list[sa.Table]:
    metadata = sa.MetaData()
    metadata.reflect(warehouse.engine)
    wanted = set(having_any_of)
    return [table for table in metadata.sorted_tables if wanted & set(table.c.keys())]


def _distinct(connection: Connection, column: sa.Column, where: sa.ColumnElement[bool] = sa.true()) -> list[str]:
    return list(connection.scalars(sa.select(column).distinct().where(where, column.is_not(None))))


def _temporary_table(connection: Connection, name: str, *columns: str) -> sa.Table:
    """An empty temporary table of text columns, seen only by this connection."""
    table = sa.Table(name, sa.MetaData(), *(sa.Column(column, sa.Text) for column in columns), prefixes=["TEMPORARY"])
    # A run that failed on SQLite can leave it behind on the pooled connection.
    table.drop(connection, checkfirst=True)
    table.create(connection)
    return table


def _insert(connection: Connection, table: sa.Table, rows: Iterable[tuple[str, str]]) -> None:
    names = table.c.keys()
    parameters = [dict(zip(names, row)) for row in rows]
    if parameters:  # an empty list would insert one row of nulls
        connection.execute(table.insert(), parameters)
