"""The warehouse: every asset's table, in any database SQLAlchemy reaches.

Tables are created from the first frame written to them. Partitioned tables carry a
``partition_key`` column; writing a partition deletes its old rows and inserts the new
ones in one transaction, so a re-run replaces a partition and never appends it twice.
Reads restore the types a database may flatten (SQLite keeps timestamps as text and
integers with gaps as floats) from the table's declared column types.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
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
            created = not sa.inspect(connection).has_table(table)
            if created:
                frame.head(0).to_sql(table, connection, index=False)
            else:
                self._delete(connection, table, partition_key)
            self._insert(connection, table, frame)
            if created and partition_key is not None:
                # Built after the load: one sort is cheaper than updating the index row by row.
                connection.execute(sa.text(f'CREATE INDEX "ix_{table}_partition" ON "{table}" ("{PARTITION_COLUMN}")'))
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
    """Bulk-load through COPY, the CSV written by pyarrow (pandas' to_csv is 7x slower).

    Quoting "needed" quotes every string and leaves NULL an unquoted empty field, PostgreSQL's
    CSV default for NULL: '' stays an empty string, and text such as '\\N' stays text.
    """
    columns = ", ".join(f'"{column}"' for column in frame.columns)
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    raw = connection.connection.dbapi_connection
    copy_sql = f'COPY "{table}" ({columns}) FROM STDIN WITH (FORMAT csv)'
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


def _insert_many(connection: Connection, table: str, frame: pd.DataFrame) -> None:
    """One prepared INSERT run over many rows (DBAPI executemany): pandas' own path is 1.5x slower.

    On SQLite a missing text value is bound as the integer 0 and NULLIF turns it back into NULL:
    sqlite3 looks up an adapter for every None it binds (40% of the insert), never for an int.
    SQLite never finds text equal to an integer, so the text '0' stays text.
    """
    placeholder = _PLACEHOLDERS[connection.dialect.paramstyle]
    stand_in = connection.dialect.name == "sqlite"
    text = [stand_in and _holds_text(frame[column]) for column in frame.columns]
    columns = ", ".join(f'"{column}"' for column in frame.columns)
    markers = ", ".join(f"NULLIF({placeholder}, {_NULL_TEXT})" if is_text else placeholder for is_text in text)
    statement = f'INSERT INTO "{table}" ({columns}) VALUES ({markers})'
    for start in range(0, len(frame), _WRITE_BATCH_ROWS):
        batch = frame.iloc[start : start + _WRITE_BATCH_ROWS]
        values = [
            _database_values(batch[column], _NULL_TEXT if is_text else None)
            for column, is_text in zip(batch.columns, text)
        ]
        connection.exec_driver_sql(statement, list(zip(*values)))


def _holds_text(column: pd.Series) -> bool:
    """Whether every value ``_database_values`` gives for the column is a str (or missing)."""
    return isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.infer_dtype(column, skipna=True) == "string"


def _database_values(column: pd.Series, missing: Any) -> list[Any]:
    """Plain Python values with ``missing`` for missing; timestamps as ISO text in UTC (vectorised)."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        utc = column.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[us]")
        values = np.datetime_as_string(utc, unit="us").astype(object)
        values[column.isna().to_numpy()] = missing
        return values.tolist()
    return column.astype(object).where(column.notna(), missing).tolist()


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
