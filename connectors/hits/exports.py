"""Hit exports from other tools (analytics exports, warehouse dumps) as CSV or JSON lines.

A ``ColumnMapping`` names the column that holds each hit value. Exports hold one record
per line: a CSV value with a line break inside quotes is not supported.
"""

from __future__ import annotations

import csv

from pydantic import BaseModel, ConfigDict, Field

from connectors.hits.line_parser import LineParser, ParseResult, json_object, json_scalar, json_text
from connectors.hits.schema import UNPARSEABLE

REQUIRED_FIELDS = ("timestamp", "ip", "url")
OPTIONAL_FIELDS = ("user_agent", "referrer", "visitor_id", "session_id", "page_title", "forwarded_for")


class ColumnMappingError(ValueError):
    """A mapped column is missing from the export's header."""


class ColumnMapping(BaseModel):
    """Source column (CSV header or JSON key) of each hit value in an export.

    The defaults are the hit column names, so an export with those headers needs no
    mapping. Optional values may be None (not in the export). ``url`` may be a path or an
    absolute URL. ``timestamp_format`` is a strftime format; by default ISO 8601 and epoch
    seconds are recognised. Text without a zone is local time in the source's ``timezone`` (UTC by default).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    timestamp: str = "timestamp"
    ip: str = "ip"
    url: str = "url"
    user_agent: str | None = "user_agent"
    referrer: str | None = "referrer"
    visitor_id: str | None = "visitor_id"
    session_id: str | None = "session_id"
    page_title: str | None = "page_title"
    forwarded_for: str | None = "forwarded_for"
    timestamp_format: str | None = None
    delimiter: str = Field(default=",", min_length=1, max_length=1)

    def source_columns(self) -> dict[str, str]:
        """Hit value → source column, for the values this mapping provides."""
        columns = {name: getattr(self, name) for name in (*REQUIRED_FIELDS, *OPTIONAL_FIELDS)}
        return {name: column for name, column in columns.items() if column is not None}

    def must_exist(self, name: str) -> bool:
        """Whether a missing source column for ``name`` is an error (required or set on purpose)."""
        return name in REQUIRED_FIELDS or name in self.model_fields_set


class CsvExportParser(LineParser):
    """LOG_FORMATS ``csv``: the first record line is the header."""

    def __init__(self, mapping: ColumnMapping, source: str) -> None:
        self._mapping = mapping
        self._source = source
        self._sources = mapping.source_columns()
        self.fields = tuple(self._sources)
        self.timestamp_format = mapping.timestamp_format
        self._positions: list[int | None] | None = None
        self._width = 0

    def parse(self, line: str) -> ParseResult:
        try:
            row = next(csv.reader([line], delimiter=self._mapping.delimiter))
        except csv.Error:
            return UNPARSEABLE
        if self._positions is None:
            self._read_header(row)
            return None
        if len(row) != self._width:
            return UNPARSEABLE
        return tuple(None if position is None else row[position] for position in self._positions)

    def _read_header(self, header: list[str]) -> None:
        header = [name.strip() for name in header]
        missing = [
            f"{column!r} (for {name})"
            for name, column in self._sources.items()
            if column not in header and self._mapping.must_exist(name)
        ]
        if missing:
            raise ColumnMappingError(
                f"{self._source}: the CSV header has no column {', '.join(missing)}; it has {header}. "
                f"Name the right columns in the column mapping (delimiter {self._mapping.delimiter!r})."
            )
        self._positions = [header.index(column) if column in header else None for column in self._sources.values()]
        self._width = len(header)


class JsonlExportParser(LineParser):
    """LOG_FORMATS ``jsonl``: one JSON object per line, keys named by the mapping."""

    def __init__(self, mapping: ColumnMapping) -> None:
        self._sources = mapping.source_columns()
        self.fields = tuple(self._sources)
        self.timestamp_format = mapping.timestamp_format

    def parse(self, line: str) -> ParseResult:
        record = json_object(line)
        if record is None:
            return UNPARSEABLE
        return tuple(
            json_scalar(record.get(key)) if name == "timestamp" else json_text(record.get(key))
            for name, key in self._sources.items()
        )
