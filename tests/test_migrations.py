"""Migrations bring any warehouse to the declared schema, one written before it was declared included."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from connectors.crm.ledger import Attempt, DeliveryLedger, DeliveryStatus
from connectors.migrations import (
    SchemaVersionError,
    alembic_config,
    current_revision,
    ensure_current,
    head_revision,
)
from connectors.schema import WAREHOUSE
from connectors.schema.reporting import DELIVERY_STATUSES
from connectors.warehouse import Warehouse, data_columns

DAYS = ("2026-10-05", "2026-10-06")
# Declared since: the release before the schema never wrote them.
ADDED_SINCE = {
    "ip_companies": {"confidence", "rules_version", "mobile_country_code", "mobile_network_code"},
    "account_activity": {"trigger_events", "surge_topics", "signal_score"},  # 0004
}
TABLES_ADDED_SINCE = {"removed_query_parameters", "prospect_pages", "account_signals"}


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


def write_like_the_release_before_the_schema(connection: sa.Connection, table: str, frame: pd.DataFrame, day: str):
    """What ``Warehouse.replace_partition`` did before tables were declared.

    pandas created the table from the first frame written (types inferred from an empty
    frame: dates are text), with a text ``partition_key`` and an index on it; SQLite got
    timestamps as ISO text in UTC, PostgreSQL the instants.
    """
    frame = frame.assign(partition_key=day)
    if not sa.inspect(connection).has_table(table):
        frame.head(0).to_sql(table, connection, index=False)
        connection.exec_driver_sql(f'CREATE INDEX "ix_{table}_partition" ON "{table}" ("partition_key")')
    if connection.dialect.name == "sqlite":
        iso = {
            name: values.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
            for name, values in frame.items()
            if isinstance(values.dtype, pd.DatetimeTZDtype)
        }
        frame = frame.assign(**iso)
    frame.to_sql(table, connection, index=False, if_exists="append")


def old_frame(table: sa.Table, day: str) -> pd.DataFrame:
    """Three rows of ``table`` as the release before the schema wrote them: every value kind, nulls where allowed."""
    columns = {}
    for column in data_columns(table):
        if column.name in ADDED_SINCE.get(table.name, ()):
            continue
        nullable, kind = column.nullable, column.type
        if isinstance(kind, sa.DateTime):
            values = pd.to_datetime(
                [f"{day}T09:00:00.000001Z", None if nullable else f"{day}T00:00:00Z", f"{day}T23:59:59.999999Z"],
                utc=True,
                format="ISO8601",
            )
        elif isinstance(kind, sa.Date):
            values = pd.Series([day, None if nullable else day, "2000-02-29"], dtype="str")  # days were text
        elif isinstance(kind, sa.Boolean):
            values = pd.array([True, None, False], dtype="boolean") if nullable else [True, False, True]
        elif isinstance(kind, sa.Integer):
            values = pd.array([1, None, 2**53 + 1], dtype="Int64") if nullable else [1, 0, 2**53 + 1]
        elif isinstance(kind, sa.Float):
            values = [0.5, float("nan"), 1 / 3]
        else:
            text = [f"{column.name} {day}", 'a "quoted", comma\nand a line', "ünïcødé"]
            values = pd.Series([text[0], None if nullable else "", text[2]], dtype="str")
        columns[column.name] = values
    return pd.DataFrame(columns)


def _in_order(frame: pd.DataFrame) -> pd.DataFrame:
    keys = [repr(row) for row in frame.itertuples(index=False)]
    return frame.iloc[sorted(range(len(keys)), key=keys.__getitem__)].reset_index(drop=True)


DAILY_TABLES = [
    table for table in WAREHOUSE.sorted_tables if "partition_key" in table.c and table.name not in TABLES_ADDED_SINCE
]


def test_a_warehouse_written_before_the_schema_keeps_every_row_and_value(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        for table in DAILY_TABLES:
            for day in DAYS:
                write_like_the_release_before_the_schema(connection, table.name, old_frame(table, day), day)
    ledger = DeliveryLedger(engine)
    ledger.mark_in_flight("hubspot", dt.date(2026, 10, 6), [Attempt("ACME-001", "hash-1", 72.5, "101")])

    assert ensure_current(engine) is True

    warehouse = Warehouse(engine)
    for table in DAILY_TABLES:
        for day in DAYS:
            expected = warehouse.conform(table.name, old_frame(table, day))
            read = warehouse.read(table.name, [day])
            pd.testing.assert_frame_equal(_in_order(read), _in_order(expected), check_exact=True, obj=table.name)
    assert warehouse.read("traffic_counts", ["2026-10-05"])["day"].tolist()[0] == dt.date(2026, 10, 5)
    assert ledger.entries("hubspot", dt.date(2026, 10, 6))["ACME-001"].intent_score == 72.5
    assert current_revision(engine) == head_revision()
    assert ensure_current(engine) is False


def test_a_warehouse_at_the_first_revision_gains_the_removed_parameter_counts_and_keeps_its_rows(
    engine: sa.Engine,
) -> None:
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), "0001")
    Warehouse(engine).replace_partition("hit_drop_counts", pd.DataFrame({"reason": ["bot"], "hits": [3]}), DAYS[0])

    assert ensure_current(engine) is True

    warehouse = Warehouse(engine)
    counts = pd.DataFrame({"day": [dt.date(2026, 10, 5)], "parameter": ["email"], "hits": [2]})
    warehouse.replace_partition("removed_query_parameters", counts, DAYS[0])
    assert warehouse.read("removed_query_parameters", [DAYS[0]]).to_dict("records") == counts.to_dict("records")
    assert warehouse.read("hit_drop_counts")["hits"].tolist() == [3]


def test_the_migrated_warehouse_is_exactly_the_declared_schema(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        table = WAREHOUSE.tables["clean_hits"]
        write_like_the_release_before_the_schema(connection, table.name, old_frame(table, DAYS[0]), DAYS[0])

    ensure_current(engine)

    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), WAREHOUSE)
        indexes = sa.inspect(connection).get_indexes("clean_hits")
    assert differences == []  # a schema change without its migration fails here
    assert [index["name"] for index in indexes] == ["ix_clean_hits_partition"]


def test_an_old_column_the_schema_does_not_know_stops_the_upgrade_and_changes_nothing(engine: sa.Engine) -> None:
    table = WAREHOUSE.tables["hit_drop_counts"]
    with engine.begin() as connection:
        frame = old_frame(table, DAYS[0]).assign(sampled=True)
        write_like_the_release_before_the_schema(connection, table.name, frame, DAYS[0])

    with pytest.raises(RuntimeError, match="hit_drop_counts.sampled is not part of the declared schema"):
        ensure_current(engine)

    assert current_revision(engine) is None
    with engine.connect() as connection:
        assert set(sa.inspect(connection).get_table_names()) == {"hit_drop_counts"}
        assert connection.scalar(sa.text("SELECT count(*) FROM hit_drop_counts")) == 3


def test_a_warehouse_from_a_newer_release_is_refused(engine: sa.Engine) -> None:
    ensure_current(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))

    with pytest.raises(SchemaVersionError, match=f"revision '9999', newer than this release's '{head_revision()}'"):
        ensure_current(engine)


def test_the_ledger_and_the_schema_know_the_same_delivery_statuses() -> None:
    assert {status.value for status in DeliveryStatus} == set(DELIVERY_STATUSES)


def test_a_warehouse_at_the_first_revision_gains_prospect_pages_and_keeps_its_rows(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
    warehouse = Warehouse(engine)
    days = warehouse.conform("prospect_days", old_frame(WAREHOUSE.tables["prospect_days"], DAYS[0]))
    warehouse.replace_partition("prospect_days", days, DAYS[0])

    ensure_current(engine)

    assert len(warehouse.read("prospect_days", [DAYS[0]])) == len(days)
    assert warehouse.read("prospect_pages", [DAYS[0]]).empty
