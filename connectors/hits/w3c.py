"""W3C extended logs (IIS, IIS Advanced Logging, NetScaler, SHOUTcast, Incapsula, ...) and
CloudFront standard logs, which are W3C with tabs.

Columns come from each ``#Fields:`` directive and may change in the middle of a file.
``date``/``time`` are UTC by the W3C definition; ``date-local``/``time-local`` (IIS
Advanced Logging) are the server's local time, read in the source's ``timezone``.
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
    "forwarded_for": ("x-forwarded-for", "cs(x-forwarded-for)", "s-xff"),
    "method": ("cs-method",),
    "host": ("x-host-header", "cs-host", "cs(host)"),
    "status": ("sc-status", "c-status"),  # SHOUTcast says c-status
    "referrer": ("cs(referer)", "cs(referrer)"),  # Incapsula spells it "Referrer"
    "user_agent": ("cs(user-agent)",),
}
_FIELDS_DIRECTIVE = "#fields:"
# A value is a double-quoted string (which may hold spaces) or a run of non-spaces.
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
# Incapsula logs the URI without a scheme: "www.example.com/page.php".
_HOST_AND_PATH = re.compile(r"(?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::[0-9]+)?)(?P<path>/.*)")


class W3CParser(LineParser):
    """LOG_FORMATS ``w3c``: space-separated, optionally quoted values, ``+`` for a space in the UA."""

    fields = ("timestamp", "url", *_SOURCES)
    timestamp_format = ISO_8601

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
        # A trailing separator (CloudFront's trailing tab) adds empty values, nothing more.
        if len(values) < len(self._columns) or any(values[len(self._columns) :]):
            return UNPARSEABLE
        record = {name: self._first(values, sources) for name, sources in _SOURCES.items()}
        if record["user_agent"] is not None:
            record["user_agent"] = self.decode_user_agent(record["user_agent"])
        url, host = self._url(values)
        if record["host"] in (None, "", "-"):
            record["host"] = host
        return (self._timestamp(values), url, *record.values())

    def split(self, line: str) -> list[str]:
        return [quoted or bare for quoted, bare in _TOKEN.findall(line)]

    def decode_user_agent(self, user_agent: str) -> str:
        # IIS writes a space as "+"; SHOUTcast percent-encodes.
        user_agent = user_agent.replace("+", " ")
        return unquote(user_agent) if "%" in user_agent else user_agent

    def _first(self, values: list[str], sources: tuple[str, ...]) -> str | None:
        for source in sources:
            if source in self._columns:
                return values[self._columns[source]]
        return None

    def _timestamp(self, values: list[str]) -> str | None:
        date, time = self._first(values, ("date",)), self._first(values, ("time",))
        if date and time:
            return f"{date} {time}Z"  # UTC by definition, whatever the source's timezone
        date, time = self._first(values, ("date-local",)), self._first(values, ("time-local",))
        return f"{date} {time}" if date and time else None  # no zone: the source's timezone

    def _url(self, values: list[str]) -> tuple[str | None, str | None]:
        """The request target (path and query), and a host when the URI carries one without a scheme."""
        path, host = self._first(values, ("cs-uri-stem",)), None
        if path is None:
            path = self._first(values, ("cs-uri",))
            bare = _HOST_AND_PATH.fullmatch(path) if path else None
            if bare is not None:
                host, path = bare["host"], bare["path"]
        query = self._first(values, ("cs-uri-query",))
        if path is not None and "?" not in path and query not in (None, "", "-"):
            path = f"{path}?{query}"
        return path, host


class CloudFrontParser(W3CParser):
    """LOG_FORMATS ``cloudfront``: tab-separated W3C; the user agent is URL-encoded twice."""

    def split(self, line: str) -> list[str]:
        return line.split("\t")

    def decode_user_agent(self, user_agent: str) -> str:
        return unquote(unquote(user_agent))
