"""Apache/nginx access logs: common (CLF), combined, and combined with the virtual host first.

This is the hot path. A strict pattern covers ordinary lines and yields record tuples
straight from the regex engine, a whole block of lines per call when they are all
ordinary; anything else (backslash escapes, "-" requests, odd request lines) takes a
tolerant pattern and a slower look.
"""

from __future__ import annotations

import re

from connectors.hits.line_parser import LineParser, ParseResult, split_request
from connectors.hits.schema import NO_HTTP_REQUEST, UNPARSEABLE
from connectors.hits.values import CLF_TIMESTAMP_FORMAT

# [^ ] and [^"] are the engine's fastest loops; a quote inside a value is always escaped,
# and a line with a backslash goes the tolerant way.
_FAST_REQUEST = r'"(?P<method>[A-Z]+) (?P<url>[^ ]+) HTTP/[0-9.]+"'
_ANY_REQUEST = r'"(?P<request>(?:[^"\\]|\\.)*)"'
_FAST_HEADERS = r' "(?P<referrer>[^"]*)" "(?P<user_agent>[^"]*)"'
_ANY_HEADERS = r' "(?P<referrer>(?:[^"\\]|\\.)*)" "(?P<user_agent>(?:[^"\\]|\\.)*)"'
_ESCAPED = re.compile(r'\\(["\\])')


def _pattern(*, vhost: bool, request: str, status: str, headers: str, end: str) -> re.Pattern[str]:
    host = r"(?P<host>[^ ]+) " if vhost else ""
    # MULTILINE: the same pattern matches one line, or every line of a block with findall.
    return re.compile(
        "^"
        + host
        + r"(?P<ip>[^ ]+) [^ ]+ [^ ]+ \[(?P<timestamp>[^\]]+)\] "
        + request
        + f" (?P<status>{status}) (?:[0-9]+|-)"
        + headers
        + end,
        re.MULTILINE,
    )


class ApacheParser(LineParser):
    """One of LOG_FORMATS ``apache_common``, ``apache_combined``, ``apache_vhost_combined``."""

    timestamp_format = CLF_TIMESTAMP_FORMAT

    def __init__(self, log_format: str) -> None:
        vhost = log_format == "apache_vhost_combined"
        combined = log_format in ("apache_combined", "apache_vhost_combined")
        self._fast = _pattern(
            vhost=vhost, request=_FAST_REQUEST, status="[0-9]{3}", headers=_FAST_HEADERS if combined else "", end="$"
        )
        self._tolerant = _pattern(
            vhost=vhost,
            request=_ANY_REQUEST,
            status="[0-9]{3}|-",
            headers=_ANY_HEADERS if combined else "",
            end=r"[ \t]*$",  # trailing blanks
        )
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
