"""HAProxy's HTTP log (``option httplog``), with or without the syslog header in front.

HAProxy writes the accept date in the local time of its host without a zone
(``25/Sep/2018:06:05:27.584``): it is read in the source's ``timezone``. Captured headers
(``{...}``) are not read: their order depends on the ``capture request header`` lines.
"""

from __future__ import annotations

import re

from connectors.hits.line_parser import LineParser, ParseResult, split_request
from connectors.hits.schema import NO_HTTP_REQUEST, UNPARSEABLE

# The syslog header ("Sep 25 06:05:27 host haproxy[6801]: ") is skipped up to the client
# "address:port [accept date]"; an IPv6 client is not bracketed, so the port is after the
# last colon.
_START = (
    r"^(?:.*? )??(?P<ip>[^ ]+):[0-9]+ "
    r"\[(?P<timestamp>[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+)\] "
)
# frontend, backend/server, timers Tq/Tw/Tc/Tr/Ta, status, bytes, ..., "request" at the end.
_HTTP = re.compile(_START + r'[^ ]+ [^ ]+ [0-9/+-]+ (?P<status>-?[0-9]+) \+?[0-9]+ .*?"(?P<request>[^"]*)"[ \t]*$')
_ANY = re.compile(_START)  # a TCP-mode line: a connection without an HTTP request


class HAProxyParser(LineParser):
    """LOG_FORMATS ``haproxy``."""

    fields = ("ip", "timestamp", "status", "method", "url")
    timestamp_format = "%d/%b/%Y:%H:%M:%S.%f"

    def parse(self, line: str) -> ParseResult:
        match = _HTTP.match(line)
        if match is None:
            return NO_HTTP_REQUEST if _ANY.match(line) else UNPARSEABLE
        request = split_request(match["request"])
        if request is None:
            return NO_HTTP_REQUEST
        return (match["ip"], match["timestamp"], match["status"], *request)
