"""The warehouse: every asset's table, in any database SQLAlchemy reaches.

Tables are created from the first frame written to them. Partitioned tables carry a
``partition_key`` column; writing a partition deletes its old rows and inserts the new
ones in one transaction, so a re-run replaces a partition and never appends it twice.
Reads restore the types a database may flatten (SQLite keeps timestamps as text and
integers with gaps as floats) from the table's declared column types.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

PARTITION_COLUMN = "partition_key"
_WRITE_BATCH_ROWS = 50_000


class Warehouse:
    """Reads and writes DataFrames as tables, partition by partition."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = sa.create_engine(url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def has_table(self, table: str) -> bool:
        return sa.inspect(self.engine).has_table(table)

    def replace_partition(self, table: str, frame: pd.DataFrame, partition_key: str | None) -> int:
        """Replace one partition's rows (or the whole table when ``partition_key`` is None)."""
        frame = frame.copy()
        if partition_key is not None:
            frame[PARTITION_COLUMN] = partition_key
        with self.engine.begin() as connection:
            if not sa.inspect(connection).has_table(table):
                frame.head(0).to_sql(table, connection, index=False)
                if partition_key is not None:
                    connection.execute(
                        sa.text(f'CREATE INDEX "ix_{table}_partition" ON "{table}" ("{PARTITION_COLUMN}")')
                    )
            else:
                self._delete(connection, table, partition_key)
            self._insert(connection, table, frame)
        return len(frame)

    def read(self, table: str, partition_keys: Sequence[str] | None = None) -> pd.DataFrame:
        """Read a table, or only the given partitions of it, with its column types restored."""
        if not self.has_table(table):
            raise LookupError(f"table {table!r} does not exist yet: materialize its asset first")
        sql_table = sa.Table(table, sa.MetaData(), autoload_with=self.engine)
        query = sa.select(sql_table)
        if partition_keys is not None:
            query = query.where(sql_table.c[PARTITION_COLUMN].in_(list(partition_keys)))
        with self.engine.connect() as connection:
            frame = pd.read_sql_query(query, connection)
        frame = _restore_types(frame, sql_table)
        return frame.drop(columns=[PARTITION_COLUMN], errors="ignore")

    def delete_where(self, table: str, condition: sa.ColumnElement[bool]) -> int:
        """Delete rows matching a condition built on ``self.table(table)``; returns the count."""
        with self.engine.begin() as connection:
            return connection.execute(sa.delete(self.table(table)).where(condition)).rowcount

    def table(self, table: str) -> sa.Table:
        """The reflected table, for queries the frame API doesn't cover."""
        return sa.Table(table, sa.MetaData(), autoload_with=self.engine)

    def _delete(self, connection: Connection, table: str, partition_key: str | None) -> None:
        sql_table = sa.Table(table, sa.MetaData(), autoload_with=connection)
        statement = sa.delete(sql_table)
        if partition_key is not None:
            statement = statement.where(sql_table.c[PARTITION_COLUMN] == partition_key)
        connection.execute(statement)

    def _insert(self, connection: Connection, table: str, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        if connection.dialect.name == "postgresql":
            _copy_into_postgres(connection, table, frame)
        else:
            _insert_many(connection, table, frame)


def _copy_into_postgres(connection: Connection, table: str, frame: pd.DataFrame) -> None:
    """Bulk-load through COPY: an order of magnitude faster than INSERT batches."""
    columns = ", ".join(f'"{column}"' for column in frame.columns)
    raw = connection.connection.dbapi_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN WITH (FORMAT csv, NULL \'\\N\')') as copy:
            for start in range(0, len(frame), _WRITE_BATCH_ROWS):
                buffer = io.StringIO()
                frame.iloc[start : start + _WRITE_BATCH_ROWS].to_csv(
                    buffer, index=False, header=False, na_rep="\\N", quoting=csv.QUOTE_MINIMAL,
                    date_format="%Y-%m-%d %H:%M:%S.%f%z",
                )
                copy.write(buffer.getvalue())


_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _insert_many(connection: Connection, table: str, frame: pd.DataFrame) -> None:
    """One prepared INSERT run over many rows (DBAPI executemany): pandas' own path is 1.5x slower."""
    placeholder = _PLACEHOLDERS[connection.dialect.paramstyle]
    columns = ", ".join(f'"{column}"' for column in frame.columns)
    statement = f'INSERT INTO "{table}" ({columns}) VALUES ({", ".join([placeholder] * len(frame.columns))})'
    for start in range(0, len(frame), _WRITE_BATCH_ROWS):
        batch = frame.iloc[start : start + _WRITE_BATCH_ROWS]
        values = [_database_values(batch[column]) for column in batch.columns]
        connection.exec_driver_sql(statement, list(zip(*values)))


def _database_values(column: pd.Series) -> list[Any]:
    """Plain Python values with None for missing; timestamps as ISO text in UTC (vectorised)."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        utc = column.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[us]")
        column_values = pd.Series(np.datetime_as_string(utc, unit="us"), index=column.index)
        return column_values.astype(object).where(column.notna(), None).tolist()
    return column.astype(object).where(column.notna(), None).tolist()


def _restore_types(frame: pd.DataFrame, table: sa.Table) -> pd.DataFrame:
    converters: dict[str, Any] = {}
    for column in table.columns:
        if column.name not in frame.columns:
            continue
        kind = column.type
        if isinstance(kind, sa.DateTime):
            converters[column.name] = lambda s: pd.to_datetime(s, utc=True, format="ISO8601")
        elif isinstance(kind, sa.Date):
            converters[column.name] = lambda s: pd.to_datetime(s).dt.date
        elif isinstance(kind, sa.Boolean):
            converters[column.name] = lambda s: s.astype("boolean")
        elif isinstance(kind, sa.Integer):
            converters[column.name] = lambda s: pd.to_numeric(s).astype("Int64")
    for name, convert in converters.items():
        frame[name] = convert(frame[name])
    return frame
