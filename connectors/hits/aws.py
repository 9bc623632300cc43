"""AWS load balancer access logs: Application (ALB) and Classic (ELB)."""

from __future__ import annotations

import re

from connectors.hits.line_parser import LineParser, ParseResult, split_request
from connectors.hits.schema import NO_HTTP_REQUEST, UNPARSEABLE
from connectors.hits.values import ISO_8601

# Both start like this after ALB's leading connection type; later fields vary by version.
_COMMON = (
    r"(?P<timestamp>[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+) [^ ]+ (?P<client>[^ ]+) [^ ]+ [^ ]+ [^ ]+ [^ ]+ "
    r'(?P<status>[^ ]+) [^ ]+ [^ ]+ [^ ]+ "(?P<request>[^"]*)" "(?P<user_agent>[^"]*)"'
)
_ALB = re.compile(r"(?:https?|h2|grpcs?|wss?) " + _COMMON)
_ELB = re.compile(_COMMON)


class LoadBalancerParser(LineParser):
    """LOG_FORMATS ``aws_alb`` and ``aws_elb``. Layer-4 (TCP) entries are ``no_http_request``."""

    fields = ("timestamp", "ip", "status", "method", "url", "user_agent")
    timestamp_format = ISO_8601

    def __init__(self, log_format: str) -> None:
        self._pattern = _ALB if log_format == "aws_alb" else _ELB

    def parse(self, line: str) -> ParseResult:
        match = self._pattern.match(line)
        if match is None:
            return UNPARSEABLE
        request = split_request(match["request"])
        if request is None:
            return NO_HTTP_REQUEST
        # "ip:port"; IPv6 clients are not bracketed, so split at the last colon.
        ip = match["client"].rpartition(":")[0] or match["client"]
        return (match["timestamp"], ip, match["status"], *request, match["user_agent"])
