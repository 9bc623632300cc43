"""The warehouse: every asset's declared table, in any database SQLAlchemy reaches.

Tables are declared in ``connectors.schema`` and created by its migrations. A frame is
written as its table declares it (an undeclared column is an error; a missing nullable
one is NULL) and read back with the table's types. A partition is replaced in one
transaction that only one writer at a time may run, so a re-run, or two runs at once,
replace a day and never append it twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import os
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from connectors.schema import PARTITION_COLUMN, WAREHOUSE

# Rows per INSERT batch or COPY chunk: a batch is held as Python objects, about 1 KiB a row,
# and smaller batches write as fast.
_WRITE_BATCH_ROWS = 10_000
# A writer waits this long for another one's partition on SQLite before it gives up.
SQLITE_BUSY_TIMEOUT_SECONDS = 300


class SchemaError(ValueError):
    """A frame that does not fit its declared table."""


class Warehouse:
    """Reads and writes DataFrames as declared tables, partition by partition."""

    def __init__(self, url_or_engine: str | Engine, schema: sa.MetaData = WAREHOUSE) -> None:
        self.engine: Engine = url_or_engine if isinstance(url_or_engine, Engine) else create_engine(url_or_engine)
        self.schema = schema

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def table(self, name: str) -> sa.Table:
        """The declared table ``name``."""
        try:
            return self.schema.tables[name]
        except KeyError:
            raise LookupError(f"table {name!r} is not declared in connectors/schema") from None

    def conform(self, table: str, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame as the table holds it: its declared columns, in order, with their types.

        A column the table does not declare is an error naming both (declare it, with a
        migration); a missing nullable column is null; a missing or null required one is an error.
        """
        declared = self.table(table)
        undeclared = [name for name in frame.columns if name not in declared.c or name == PARTITION_COLUMN]
        if undeclared:
            raise SchemaError(
                f"table {table!r} has no column {undeclared[0]!r}: declare it in connectors/schema and add a migration"
            )
        columns = {}
        for column in data_columns(declared):
            if column.name in frame.columns:
                values = frame[column.name].reset_index(drop=True)
            elif column.nullable:
                values = pd.Series(None, index=pd.RangeIndex(len(frame)), dtype=object)
            else:
                raise SchemaError(f"{table}.{column.name} is required, and the frame has no such column")
            if not column.nullable and values.isna().any():
                raise SchemaError(f"{table}.{column.name} is required, and the frame has missing values in it")
            try:
                columns[column.name] = as_declared(values, column)
            except (TypeError, ValueError) as error:
                raise SchemaError(f"{table}.{column.name} holds values of another type: {error}") from error
        return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))

    def replace_partition(self, table: str, frames: pd.DataFrame | Iterable[pd.DataFrame], partition_key: str) -> int:
        """Replace one day's rows of a table with a frame's, or with those of several frames
        (a busy day's chunks, conformed and written one at a time); returns the rows written.

        One transaction, and one writer per table and day at a time (a PostgreSQL advisory
        lock, SQLite's write lock): two runs of one day leave exactly one copy of it.
        """
        declared = self.table(table)
        day = dt.date.fromisoformat(partition_key)
        written = 0
        with self.engine.begin() as connection:
            _lock_partition(connection, table, day)
            connection.execute(sa.delete(declared).where(declared.c[PARTITION_COLUMN] == day))
            for frame in [frames] if isinstance(frames, pd.DataFrame) else frames:
                rows = self.conform(table, frame)
                if len(rows):
                    if connection.dialect.name == "postgresql":
                        _copy_into_postgres(connection, declared, rows, day)
                    else:
                        _insert_many(connection, declared, rows, day)
                written += len(rows)
        return written

    def read(self, table: str, partition_keys: Sequence[str] | None = None) -> pd.DataFrame:
        """A table, or only the given partitions (days) of it, with its declared types."""
        declared = self.table(table)
        columns = data_columns(declared)
        query = sa.select(*columns)
        if partition_keys is not None:
            days = [dt.date.fromisoformat(key) for key in partition_keys]
            query = query.where(declared.c[PARTITION_COLUMN].in_(days))
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(query).all()
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as error:
            if not sa.inspect(self.engine).has_table(table):
                raise LookupError(f"table {table!r} does not exist: run `visitor-intent db upgrade`") from error
            raise
        # Column by column, as objects rather than pandas' guess: integers with nulls would become
        # floats and lose digits (and building a frame from rows is five times slower).
        values = zip(*rows) if rows else [()] * len(columns)
        return pd.DataFrame(
            {column.name: as_declared(pd.Series(held, dtype=object), column) for column, held in zip(columns, values)}
        )


def create_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite writers wait for each other instead of failing at once, and
    a SQLite file's folder is created (a new workspace has none yet)."""
    connect_args = {}
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        connect_args["timeout"] = SQLITE_BUSY_TIMEOUT_SECONDS
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(url, connect_args=connect_args)


_SHARED: OrderedDict[str, Warehouse] = OrderedDict()
# Production uses one database per process; tests open many, whose connection pools must not pile up.
_SHARED_KEPT = 4
# A forked child must not use (or close) its parent's connections.
os.register_at_fork(after_in_child=_SHARED.clear)


def shared_warehouse(url: str) -> Warehouse:
    """The process's warehouse for ``url``: one engine and connection pool, however many ask."""
    warehouse = _SHARED.pop(url, None) or Warehouse(url)
    _SHARED[url] = warehouse
    while len(_SHARED) > _SHARED_KEPT:
        _SHARED.popitem(last=False)[1].engine.dispose()
    return warehouse


def data_columns(table: sa.Table) -> list[sa.Column]:
    """The columns a frame of the table has: all but the partition key."""
    return [column for column in table.columns if column.name != PARTITION_COLUMN]


def declared_dtype(column: sa.Column) -> Any:
    """The pandas dtype of a declared column; integers and booleans are nullable where the column is."""
    kind = column.type
    if isinstance(kind, sa.DateTime):
        return "datetime64[us, UTC]"
    if isinstance(kind, sa.Date):
        return object  # datetime.date values, None where missing
    if isinstance(kind, sa.Boolean):
        return "boolean" if column.nullable else "bool"
    if isinstance(kind, sa.Integer):
        return "Int64" if column.nullable else "int64"
    if isinstance(kind, sa.Float):
        return "float64"
    return "str"


def as_declared(values: pd.Series, column: sa.Column) -> pd.Series:
    """``values`` in the column's declared dtype (a no-op when they already are)."""
    dtype = declared_dtype(column)
    if isinstance(column.type, sa.DateTime):
        return pd.to_datetime(values, utc=True, format="ISO8601").astype(dtype)
    if isinstance(column.type, sa.Date):
        dates = pd.to_datetime(values, format="ISO8601").dt.date
        return dates.astype(object).where(dates.notna(), None)
    return values.astype(dtype)


def _lock_partition(connection: Connection, table: str, day: dt.date) -> None:
    """Wait until no other transaction writes this table's day; held until this one ends."""
    if connection.dialect.name == "postgresql":
        # A transaction-level advisory lock on a 64-bit key of (table, day): released at commit.
        digest = hashlib.blake2b(f"{table}/{day.isoformat()}".encode(), digest_size=8).digest()
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(int.from_bytes(digest, "big", signed=True))))
    elif connection.dialect.name == "sqlite":
        # The database's write lock, taken now rather than at the first write: a reader that
        # waited to write could deadlock with another writer. The busy timeout makes others wait.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _copy_into_postgres(connection: Connection, table: sa.Table, frame: pd.DataFrame, day: dt.date) -> None:
    """Bulk-load through COPY, the CSV written by pyarrow (pandas' to_csv is 7x slower).

    Quoting "needed" quotes every string and leaves NULL an unquoted empty field, PostgreSQL's
    CSV default for NULL: '' stays an empty string, and text such as '\\N' stays text.
    """
    frame = frame.assign(**{PARTITION_COLUMN: day.isoformat()})
    columns = ", ".join(f'"{column}"' for column in frame.columns)
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    raw = connection.connection.dbapi_connection
    copy_sql = f'COPY "{table.name}" ({columns}) FROM STDIN WITH (FORMAT csv)'
    with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:  # type: ignore[union-attr]
        for batch in _arrow_table(frame).to_batches(max_chunksize=_WRITE_BATCH_ROWS):
            buffer = io.BytesIO()
            pa_csv.write_csv(batch, buffer, options)
            copy.write(buffer.getbuffer())


def _arrow_table(frame: pd.DataFrame) -> pa.Table:
    """The frame in Arrow, timestamps floored to microseconds (PostgreSQL would round nanoseconds)."""
    microseconds = {
        name: column.dt.as_unit("us") for name, column in frame.items() if pd.api.types.is_datetime64_any_dtype(column)
    }
    return pa.Table.from_pandas(frame.assign(**microseconds), preserve_index=False)


_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_NULL_TEXT = 0  # binds a missing SQLite text value; see _insert_many
_TEXT_TYPES = (sa.String, sa.DateTime, sa.Date)  # the types whose values go to the database as str


def _insert_many(connection: Connection, table: sa.Table, frame: pd.DataFrame, day: dt.date) -> None:
    """One prepared INSERT run over many rows (DBAPI executemany): pandas' own path is 1.5x slower.

    On SQLite a missing text value is bound as the integer 0 and NULLIF turns it back into NULL:
    sqlite3 looks up an adapter for every None it binds (40% of the insert), never for an int.
    SQLite never finds text equal to an integer, so the text '0' stays text.
    """
    placeholder = _PLACEHOLDERS[connection.dialect.paramstyle]
    stand_in = connection.dialect.name == "sqlite"
    declared = [table.c[name] for name in frame.columns]
    text = [stand_in and isinstance(column.type, _TEXT_TYPES) for column in declared]
    columns = ", ".join(f'"{column}"' for column in [*frame.columns, PARTITION_COLUMN])
    markers = [f"NULLIF({placeholder}, {_NULL_TEXT})" if is_text else placeholder for is_text in text]
    statement = f'INSERT INTO "{table.name}" ({columns}) VALUES ({", ".join([*markers, placeholder])})'
    for start in range(0, len(frame), _WRITE_BATCH_ROWS):
        batch = frame.iloc[start : start + _WRITE_BATCH_ROWS]
        values = [
            _database_values(batch[column.name], column, _NULL_TEXT if is_text else None)
            for column, is_text in zip(declared, text)
        ]
        connection.exec_driver_sql(statement, list(zip(*values, itertools.repeat(day.isoformat()))))


def _database_values(values: pd.Series, column: sa.Column, missing: Any) -> list[Any]:
    """Plain Python values with ``missing`` for missing; timestamps as ISO text in UTC (vectorised), dates as ISO text."""
    if isinstance(column.type, sa.DateTime):
        utc = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[us]")
        text = np.datetime_as_string(utc, unit="us").astype(object)
        text[values.isna().to_numpy()] = missing
        return text.tolist()
    if isinstance(column.type, sa.Date):
        return [missing if day is None else day.isoformat() for day in values]
    return values.astype(object).where(values.notna(), missing).tolist()
