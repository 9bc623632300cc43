"""Privacy in the warehouse: personal data kept only as long as configured, and forgetting on request.

Both find what to work on by the schema's personal-data tags (``connectors.schema``),
never by column names, so a column added or renamed later is covered once it is declared
with its tag. Each kind of personal data has its retention rules (``RETENTION_RULES``):
addresses are cut to their network, visitor keys, visit ids and quarantined lines are
removed. Age is the day a row belongs to: its partition (a report window's last day).

Values are transformed in Python once per distinct value (``enrichment.privacy`` is the
single definition of what an address is) and applied in SQL by joining a temporary
table of those values, so millions of rows are updated or deleted in a few set-based
statements on SQLite and PostgreSQL alike, never row by row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectors.schema import LIST_SEPARATOR, PARTITION_COLUMN, Personal, is_listed, personal_kind
from connectors.warehouse import Warehouse
from enrichment.privacy import Network, ip_networks_in, parse_network, redact_ips_in_text
from enrichment.settings import PrivacySettings


class Action(StrEnum):
    """What a retention rule does to a value past its limit (the text is the inventory's)."""

    TRUNCATE = "addresses cut to their network (/24, /48)"
    REMOVE = "removed"


@dataclass(frozen=True)
class RetentionRule:
    """What happens to one kind of personal data once its day is older than a privacy setting allows."""

    kind: Personal
    action: Action
    setting: str  # the field of PrivacySettings holding the limit in days


RETENTION_RULES = (
    RetentionRule(Personal.IP_ADDRESS, Action.TRUNCATE, "raw_ip_retention_days"),
    RetentionRule(Personal.NETWORK, Action.TRUNCATE, "raw_ip_retention_days"),
    RetentionRule(Personal.RAW_LINE, Action.TRUNCATE, "raw_ip_retention_days"),
    RetentionRule(Personal.RAW_LINE, Action.REMOVE, "quarantine_retention_days"),
    RetentionRule(Personal.VISITOR_KEY, Action.REMOVE, "visitor_key_retention_days"),
    RetentionRule(Personal.VISIT_ID, Action.REMOVE, "visitor_key_retention_days"),
)
"""Organizations and URLs have none: they stay as long as their rows, and ``forget`` removes them."""

# What forgetting a network or an organization searches: rows holding one of its addresses,
# naming it, or belonging to one of the removed hits' visits.
_ADDRESSES = frozenset({Personal.IP_ADDRESS, Personal.RAW_LINE})
_FORGOTTEN = _ADDRESSES | {Personal.ORGANIZATION, Personal.VISIT_ID}


@dataclass(frozen=True)
class RetentionResult:
    """Rows changed per table, for each retention setting that changed something."""

    changed: dict[str, dict[str, int]]


@dataclass(frozen=True)
class Parties:
    """Who a forget is about, as the reports and CRMs know them: accounts and organization names."""

    account_ids: list[str]
    organizations: list[str]


@dataclass(frozen=True)
class ForgetResult:
    """Rows deleted, per table that could hold something about the forgotten party."""

    deleted: dict[str, int]


def retention_cutoffs(privacy: PrivacySettings, today: dt.date) -> dict[str, dt.date]:
    """Per retention setting, the first day whose personal data is still kept whole."""
    return {rule.setting: today - dt.timedelta(days=getattr(privacy, rule.setting)) for rule in RETENTION_RULES}


def enforce_retention(warehouse: Warehouse, privacy: PrivacySettings, *, today: dt.date) -> RetentionResult:
    """Apply every retention rule to every tagged column, each setting's rules in its own transactions."""
    changed: dict[str, dict[str, int]] = {}
    for setting, cutoff in retention_cutoffs(privacy, today).items():
        for action in Action:
            kinds = frozenset(
                rule.kind for rule in RETENTION_RULES if rule.setting == setting and rule.action is action
            )
            if kinds:
                apply = truncate_addresses if action is Action.TRUNCATE else remove_values
                tables = apply(warehouse, kinds, older_than=cutoff)
                changed.setdefault(setting, {}).update({table: rows for table, rows in tables.items() if rows})
    return RetentionResult({setting: tables for setting, tables in changed.items() if tables})


def overdue_personal_data(warehouse: Warehouse, privacy: PrivacySettings, *, today: dt.date) -> dict[str, int]:
    """Per ``"table.column past setting"``, the rows holding personal data older than the setting allows."""
    cutoffs = retention_cutoffs(privacy, today)
    overdue: dict[str, int] = {}
    with warehouse.engine.connect() as connection:
        for rule in RETENTION_RULES:
            for table, columns in _tagged(warehouse, {rule.kind}):
                old = table.c[PARTITION_COLUMN] < cutoffs[rule.setting]
                for column in columns:
                    if rule.action is Action.TRUNCATE:
                        rows = _rows_to_truncate(connection, table, [column], old)
                    else:
                        rows = _count(connection, table, old, column.is_not(None))
                    if rows:
                        overdue[f"{table.name}.{column.name} past {rule.setting}"] = rows
    return overdue


def truncate_addresses(warehouse: Warehouse, kinds: frozenset[Personal], *, older_than: dt.date) -> dict[str, int]:
    """Cut every address in columns of ``kinds`` on days before ``older_than`` to its network.

    Bare addresses and networks become ``truncate_ip`` networks, addresses inside log lines
    too; every other value stays as it is. Each table is done in one transaction, and running
    again changes nothing: a truncated value is its own truncation. Returns rows changed per table.
    """
    changed: dict[str, int] = {}
    for table, columns in _tagged(warehouse, kinds):
        with warehouse.engine.begin() as connection:
            changed[table.name] = _truncate_old_rows(connection, table, columns, table.c[PARTITION_COLUMN] < older_than)
    return changed


def remove_values(warehouse: Warehouse, kinds: frozenset[Personal], *, older_than: dt.date) -> dict[str, int]:
    """Set columns of ``kinds`` to null on days before ``older_than``; returns rows changed per table."""
    changed: dict[str, int] = {}
    for table, columns in _tagged(warehouse, kinds):
        holding = sa.or_(*(column.is_not(None) for column in columns))
        statement = (
            sa.update(table)
            .where(table.c[PARTITION_COLUMN] < older_than, holding)
            .values({column.name: None for column in columns})
        )
        with warehouse.engine.begin() as connection:
            changed[table.name] = connection.execute(statement).rowcount
    return changed


def forget(warehouse: Warehouse, *, network: str | None = None, organization: str | None = None) -> ForgetResult:
    """Delete everything stored about one network or one organization, in every table.

    A network (CIDR, or one address) takes every row with an address, or a log line with
    an address, in it; a truncated value that overlaps it counts, since it may hold the
    network's visitors. An organization (compared ignoring case and spacing) takes the
    rows naming it, report rows listing it among an account's organizations, and every
    row of the addresses it had: its hits, quarantined lines and account matches. Either
    way the rows of the removed hits' visits go too (digital paths). All or nothing: one
    transaction. Reports already written to files or a CRM are not the warehouse's to delete.
    """
    if (network is None) == (organization is None):
        raise ValueError("forget one network or one organization per call")
    tables = _tagged(warehouse, _FORGOTTEN)
    with warehouse.engine.begin() as connection:
        forgotten = _temporary_table(connection, "privacy_forgotten", "kind", "value")
        if network is not None:
            values = _values_with_addresses(connection, tables, _overlapping(parse_network(network)))
        else:
            values = _values_of_organization(connection, tables, organization)
        _insert(connection, forgotten, values)
        _insert(connection, forgotten, _visits_of_forgotten_rows(connection, tables, forgotten))
        deleted = {
            table.name: connection.execute(sa.delete(table).where(_forgotten_rows(table, columns, forgotten))).rowcount
            for table, columns in tables
        }
        forgotten.drop(connection)
    return ForgetResult(deleted)


def forgotten_parties(warehouse: Warehouse, *, network: str | None = None, organization: str | None = None) -> Parties:
    """The target accounts and organizations whose rows ``forget`` would remove: what they
    were delivered as in the report folders and CRMs. Ask before forgetting in the warehouse."""
    matched = _distinct_rows(warehouse, "account_matches", "ip", "organization", "account_id")
    resolved = [(ip, name, None) for ip, name in _distinct_rows(warehouse, "ip_companies", "ip", "organization")]
    if network is not None:
        overlapping = _overlapping(parse_network(network))
        chosen = [row for row in matched + resolved if any(map(overlapping, ip_networks_in(row[0])))]
    else:
        wanted = _comparable(organization or "")
        chosen = [row for row in matched + resolved if row[1] and _comparable(row[1]) == wanted]
    accounts = {account_id for _, _, account_id in chosen if account_id}
    names = {name for _, name, _ in chosen if name} | ({organization} if organization else set())
    return Parties(sorted(accounts), sorted(names))


def _distinct_rows(warehouse: Warehouse, table: str, *columns: str) -> list[tuple]:
    declared = warehouse.table(table)
    with warehouse.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.select(*(declared.c[c] for c in columns)).distinct())]


# --- retention --------------------------------------------------------------------------


def _truncate_old_rows(
    connection: Connection, table: sa.Table, columns: list[sa.Column], old: sa.ColumnElement[bool]
) -> int:
    """Truncate the addresses in ``table``'s old rows; returns how many rows changed."""
    mapping = _truncations(connection, columns, old)
    rows = _count(connection, table, old, _any_in(columns, mapping))
    for column in columns:
        truncate = sa.update(table).where(old, column == mapping.c.value).values({column.name: mapping.c.truncated})
        connection.execute(truncate)
    mapping.drop(connection)
    return rows


def _rows_to_truncate(
    connection: Connection, table: sa.Table, columns: list[sa.Column], old: sa.ColumnElement[bool]
) -> int:
    mapping = _truncations(connection, columns, old)
    rows = _count(connection, table, old, _any_in(columns, mapping))
    mapping.drop(connection)
    return rows


def _truncations(connection: Connection, columns: list[sa.Column], old: sa.ColumnElement[bool]) -> sa.Table:
    """A temporary table of the old values holding an address (``value``) and their truncation."""
    stored = {value for column in columns for value in _distinct(connection, column, old)}
    # A bare address comes out as truncate_ip's network, a log line with its addresses truncated.
    truncations = {(value, truncated) for value in stored if (truncated := redact_ips_in_text(value)) != value}
    mapping = _temporary_table(connection, "privacy_truncations", "value", "truncated")
    _insert(connection, mapping, truncations)
    return mapping


def _any_in(columns: list[sa.Column], mapping: sa.Table) -> sa.ColumnElement[bool]:
    return sa.or_(*(column.in_(sa.select(mapping.c.value)) for column in columns))


# --- forgetting -------------------------------------------------------------------------

Pair = tuple[str, str]  # (kind of personal data, stored value)
Tagged = list[tuple[sa.Table, list[sa.Column]]]


def _overlapping(target: Network) -> Callable[[Network], bool]:
    return lambda network: network.version == target.version and network.overlaps(target)


def _values_with_addresses(connection: Connection, tables: Tagged, forgotten: Callable[[Network], bool]) -> set[Pair]:
    """Every stored address and log line holding an address that ``forgotten`` accepts."""
    return {
        (kind, value)
        for _, columns in tables
        for column in columns
        if (kind := personal_kind(column)) in _ADDRESSES
        for value in _distinct(connection, column)
        if any(map(forgotten, ip_networks_in(value)))
    }


def _values_of_organization(connection: Connection, tables: Tagged, organization: str) -> set[Pair]:
    """The stored names (and lists of names) of ``organization``, and every address value it had."""
    wanted = _comparable(organization)
    names: set[str] = set()
    lists: set[str] = set()
    for _, columns in tables:
        for column in _of_kind(columns, Personal.ORGANIZATION):
            for value in _distinct(connection, column):
                if not is_listed(column) and _comparable(value) == wanted:
                    names.add(value)
                elif is_listed(column) and wanted in map(_comparable, value.split(LIST_SEPARATOR)):
                    lists.add(value)
    its_networks = {
        network
        for _, columns in tables
        if (named := [column.in_(names) for column in _of_kind(columns, Personal.ORGANIZATION)])
        for column in _of_kind(columns, Personal.IP_ADDRESS)
        for ip in _distinct(connection, column, sa.or_(*named))
        for network in ip_networks_in(ip)
    }
    pairs = {(Personal.ORGANIZATION.value, value) for value in names | lists}
    return pairs | _values_with_addresses(connection, tables, lambda network: network in its_networks)


def _visits_of_forgotten_rows(connection: Connection, tables: Tagged, forgotten: sa.Table) -> set[Pair]:
    return {
        (Personal.VISIT_ID.value, visit)
        for table, columns in tables
        for column in _of_kind(columns, Personal.VISIT_ID)
        for visit in _distinct(connection, column, _forgotten_rows(table, columns, forgotten))
    }


def _forgotten_rows(table: sa.Table, columns: list[sa.Column], forgotten: sa.Table) -> sa.ColumnElement[bool]:
    return sa.or_(
        *(
            column.in_(sa.select(forgotten.c.value).where(forgotten.c.kind == personal_kind(column)))
            for column in columns
        )
    )


def _comparable(name: str) -> str:
    return " ".join(name.split()).casefold()


# --- shared -----------------------------------------------------------------------------


def _tagged(warehouse: Warehouse, kinds: Iterable[Personal]) -> Tagged:
    """Each table with columns tagged as one of ``kinds``, and those columns."""
    wanted = set(kinds)
    found = [
        (table, [column for column in table.columns if personal_kind(column) in wanted])
        for table in warehouse.schema.sorted_tables
    ]
    return [(table, columns) for table, columns in found if columns]


def _of_kind(columns: list[sa.Column], kind: Personal) -> list[sa.Column]:
    return [column for column in columns if personal_kind(column) is kind]


def _count(connection: Connection, table: sa.Table, *conditions: sa.ColumnElement[bool]) -> int:
    return connection.scalar(sa.select(sa.func.count()).select_from(table).where(*conditions))


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
