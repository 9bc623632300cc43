"""Apache/nginx access logs and the hosting variants built on them (LOG_FORMATS in APACHE_LAYOUTS).

Every layout is the common log format (CLF, ``%h %l %u %t "%r" %>s %b``) with some
fields before, inside or after it, and may end with any number of further fields
(Icecast's session time, ``%D``, ...), which are not read.

This is the hot path. A strict pattern covers ordinary lines and yields record tuples
straight from the regex engine, a whole block of lines per call when they are all
ordinary; anything else (backslash escapes, "-" requests, odd request lines) takes a
tolerant pattern and a slower look.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from connectors.hits.line_parser import LineParser, ParseResult, split_request
from connectors.hits.schema import NO_HTTP_REQUEST, UNPARSEABLE
from connectors.hits.values import CLF_TIMESTAMP_FORMAT


@dataclass(frozen=True)
class Layout:
    """Where a layout adds fields to CLF."""

    host_first: bool = False  # Apache's %v before the client (vhost_common, vhost_combined, Gandi)
    host_as_identity: bool = False  # OVH writes the site where CLF has the identity (%l)
    response_time: bool = False  # Gandi's "(0 s)" after the time
    headers: bool = False  # "%{Referer}i" "%{User-Agent}i": the combined format
    forwarded_for: bool = False  # nginx's main format: "$http_x_forwarded_for" after combined


# In order of preference when a line fits several: nginx_main and ovh lines fit apache_combined.
APACHE_LAYOUTS = {
    "nginx_main": Layout(headers=True, forwarded_for=True),
    "ovh": Layout(host_as_identity=True, headers=True),
    "apache_combined": Layout(headers=True),
    "apache_vhost_combined": Layout(host_first=True, headers=True),
    "gandi": Layout(host_first=True, response_time=True, headers=True),
    "apache_vhost_common": Layout(host_first=True),
    "apache_common": Layout(),
}

# [^ ] and [^"] are the engine's fastest loops; a quote inside a value is always escaped,
# and a line with a backslash goes the tolerant way.
_FAST_QUOTED = '"([^"]*)"'
_ANY_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_FAST_REQUEST = r'"(?P<method>[A-Z]+) (?P<url>[^ ]+) HTTP/[0-9.]+"'
_ANY_REQUEST = r'"(?P<request>(?:[^"\\]|\\.)*)"'
_MORE_FIELDS = r"(?:$|[ \t][^\n]*$)"  # nothing, or further fields after a blank
_ESCAPED = re.compile(r'\\(["\\])')


def _pattern(layout: Layout, *, fast: bool) -> re.Pattern[str]:
    quoted = _FAST_QUOTED if fast else _ANY_QUOTED

    def named(name: str) -> str:
        return quoted.replace("(", f"(?P<{name}>", 1)

    pattern = "^"
    if layout.host_first:
        pattern += r"(?P<host>[^ ]+) "
    pattern += r"(?P<ip>[^ ]+) " + (r"(?P<host>[^ ]+) " if layout.host_as_identity else r"[^ ]+ ")
    pattern += r"[^ ]+ \[(?P<timestamp>[^\]]+)\] "
    if layout.response_time:
        pattern += r"\([^)]*\) "
    pattern += _FAST_REQUEST if fast else _ANY_REQUEST
    pattern += " (?P<status>[0-9]{3}) " if fast else " (?P<status>[0-9]{3}|-) "
    pattern += "(?:[0-9]+|-)"
    if layout.headers:
        pattern += f" {named('referrer')} {named('user_agent')}"
    if layout.forwarded_for:
        pattern += f" {named('forwarded_for')}"
    # MULTILINE: the same pattern matches one line, or every line of a block with findall.
    return re.compile(pattern + _MORE_FIELDS, re.MULTILINE)


class ApacheParser(LineParser):
    """One of the LOG_FORMATS in APACHE_LAYOUTS."""

    timestamp_format = CLF_TIMESTAMP_FORMAT

    def __init__(self, log_format: str) -> None:
        layout = APACHE_LAYOUTS[log_format]
        self._fast = _pattern(layout, fast=True)
        self._tolerant = _pattern(layout, fast=False)
        self.fields = tuple(sorted(self._fast.groupindex, key=self._fast.groupindex.get))

    def parse(self, line: str) -> ParseResult:
        match = self._fast.match(line)
        if match is not None and "\\" not in line:  # escapes need the tolerant pattern
            return match.groups()
        return self._parse_unusual(line)

    def parse_block(self, text: str, line_count: int) -> list[tuple] | None:
        if "\\" in text:
            return None
        records = self._fast.findall(text)
        # One match per line start, none overlapping: equal counts mean one per line.
        return records if len(records) == line_count else None

    def _parse_unusual(self, line: str) -> ParseResult:
        match = self._tolerant.match(line)
        if match is None:
            return UNPARSEABLE
        values = {name: _unescape(value) for name, value in match.groupdict().items()}
        request = split_request(values.pop("request"))
        if request is None:
            return NO_HTTP_REQUEST
        values["method"], values["url"] = request
        return tuple(values[name] for name in self.fields)


def _unescape(value: str) -> str:
    # Apache writes a quote inside a quoted field as \" and a backslash as \\.
    return _ESCAPED.sub(r"\1", value) if "\\" in value else value
