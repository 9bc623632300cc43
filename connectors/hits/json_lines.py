"""Web-server JSON logs, one object per line: nginx ``log_format ... escape=json`` shapes,
Matomo's example keys, Caddy's structured access log and Traefik's JSON access log."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.hits.line_parser import LineParser, ParseResult, json_object, json_scalar, json_text, split_request
from connectors.hits.schema import UNPARSEABLE

# Top-level keys per hit value, best first. Caddy nests the request (see _caddy_values);
# Traefik's keys are capitalised, its headers "request_<Header>" (when configured to keep
# them), and DownstreamStatus is what the visitor got.
_ALIASES: dict[str, tuple[str, ...]] = {
    "timestamp": ("time_iso8601", "time_local", "date", "ts", "StartUTC"),
    "ip": ("ip", "remote_addr", "ClientHost"),
    "forwarded_for": ("http_x_forwarded_for", "request_X-Forwarded-For"),
    "method": ("request_method", "RequestMethod"),
    "host": ("host", "http_host", "RequestHost"),
    "url": ("path", "request_uri", "RequestPath"),
    "status": ("status", "DownstreamStatus"),
    "referrer": ("referrer", "http_referer", "request_Referer"),
    "user_agent": ("user_agent", "http_user_agent", "request_User-Agent"),
}
_NON_TEXT = ("timestamp", "status")  # may be numbers: an epoch, a status code
# Keys that mark a web-server log rather than an export (used by format detection).
SERVER_KEYS = frozenset(
    {
        "remote_addr",
        "request",
        "request_uri",
        "time_iso8601",
        "time_local",
        "path",
        "date",
        "http_user_agent",
        "ClientHost",
        "RequestPath",
    }
)


class JsonLinesParser(LineParser):
    """LOG_FORMATS ``json_lines``."""

    fields = tuple(_ALIASES)
    timestamp_format = None  # ISO 8601 (nginx, Matomo), Apache's time_local, Caddy's epoch ts

    def parse(self, line: str) -> ParseResult:
        record = json_object(line)
        if record is None:
            return UNPARSEABLE
        values = {name: _first(record, keys) for name, keys in _ALIASES.items()}
        request = record.get("request")
        if isinstance(request, Mapping):
            _fill_missing(values, _caddy_values(request))
        elif isinstance(request, str):
            method, url = split_request(request) or (None, None)
            _fill_missing(values, {"method": method, "url": url})
        return tuple(
            json_scalar(values[name]) if name in _NON_TEXT else json_text(values[name]) for name in self.fields
        )


def _first(record: Mapping, keys: tuple[str, ...]) -> object:
    for key in keys:
        if record.get(key) is not None:
            return record[key]
    return None


def _fill_missing(values: dict[str, object], more: dict[str, object]) -> None:
    for name, value in more.items():
        if values[name] is None:
            values[name] = value


def _caddy_values(request: Mapping) -> dict[str, object]:
    headers = request.get("headers")
    headers = headers if isinstance(headers, Mapping) else {}
    return {
        # Caddy's client_ip already honours its trusted_proxies setting; remote_ip is the peer.
        "ip": _first(request, ("client_ip", "remote_ip")),
        "forwarded_for": _header(headers, "X-Forwarded-For"),
        "method": request.get("method"),
        "host": request.get("host"),
        "url": request.get("uri"),
        "referrer": _header(headers, "Referer"),
        "user_agent": _header(headers, "User-Agent"),
    }


def _header(headers: Mapping, name: str) -> str | None:
    """A header as Caddy logs it (a list of values) joined into one string."""
    values = headers.get(name)
    if isinstance(values, list):
        values = ", ".join(value for value in values if isinstance(value, str))
    return values or None
