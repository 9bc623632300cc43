"""W3C extended logs (IIS and others) and CloudFront standard logs, which are W3C with tabs.

Columns come from each ``#Fields:`` directive and may change in the middle of a file.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from connectors.hits.line_parser import LineParser, ParseResult
from connectors.hits.schema import NO_FIELDS_DIRECTIVE, UNPARSEABLE
from connectors.hits.values import ISO_8601

# Where each hit value comes from, best source first (lower-case W3C field names).
# CloudFront's cs(Host) is its own domain; x-host-header is the site the visitor asked for.
_SOURCES: dict[str, tuple[str, ...]] = {
    "ip": ("c-ip",),
    "forwarded_for": ("x-forwarded-for", "cs(x-forwarded-for)"),
    "method": ("cs-method",),
    "host": ("x-host-header", "cs-host", "cs(host)"),
    "status": ("sc-status",),
    "referrer": ("cs(referer)",),
    "user_agent": ("cs(user-agent)",),
}
_FIELDS_DIRECTIVE = "#fields:"
# A value is a double-quoted string (which may hold spaces) or a run of non-spaces.
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')


class W3CParser(LineParser):
    """LOG_FORMATS ``w3c``: space-separated, optionally quoted values, ``+`` for a space in the UA."""

    fields = ("timestamp", "url", *_SOURCES)
    timestamp_format = ISO_8601  # W3C times carry no zone: they are UTC

    def __init__(self) -> None:
        self._columns: dict[str, int] = {}

    def directive(self, line: str) -> None:
        if line[: len(_FIELDS_DIRECTIVE)].lower() == _FIELDS_DIRECTIVE:
            names = line[len(_FIELDS_DIRECTIVE) :].lower().split()
            self._columns = {name: position for position, name in enumerate(names)}

    def parse(self, line: str) -> ParseResult:
        if not self._columns:
            return NO_FIELDS_DIRECTIVE
        values = self.split(line)
        if len(values) != len(self._columns):
            return UNPARSEABLE
        record = {name: self._first(values, sources) for name, sources in _SOURCES.items()}
        if record["user_agent"] is not None:
            record["user_agent"] = self.decode_user_agent(record["user_agent"])
        return (self._timestamp(values), self._url(values), *record.values())

    def split(self, line: str) -> list[str]:
        return [quoted or bare for quoted, bare in _TOKEN.findall(line)]

    def decode_user_agent(self, user_agent: str) -> str:
        return user_agent.replace("+", " ")

    def _first(self, values: list[str], sources: tuple[str, ...]) -> str | None:
        for source in sources:
            if source in self._columns:
                return values[self._columns[source]]
        return None

    def _timestamp(self, values: list[str]) -> str | None:
        date, time = self._first(values, ("date",)), self._first(values, ("time",))
        return f"{date} {time}" if date and time else None

    def _url(self, values: list[str]) -> str | None:
        stem = self._first(values, ("cs-uri-stem",))
        query = self._first(values, ("cs-uri-query",))
        if stem is None:
            return self._first(values, ("cs-uri",))
        return f"{stem}?{query}" if query not in (None, "", "-") else stem


class CloudFrontParser(W3CParser):
    """LOG_FORMATS ``cloudfront``: tab-separated W3C; the user agent is URL-encoded twice."""

    def split(self, line: str) -> list[str]:
        return line.split("\t")

    def decode_user_agent(self, user_agent: str) -> str:
        return unquote(unquote(user_agent))
