"""AWS access logs: Application (ALB) and Classic (ELB) load balancers, and S3 server access logs."""

from __future__ import annotations

import re

from connectors.hits.line_parser import LineParser, ParseResult, split_request
from connectors.hits.schema import NO_HTTP_REQUEST, UNPARSEABLE
from connectors.hits.values import CLF_TIMESTAMP_FORMAT, ISO_8601

# Both start like this after ALB's leading connection type; later fields vary by version.
_COMMON = (
    r"(?P<timestamp>[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+) [^ ]+ (?P<client>[^ ]+) [^ ]+ [^ ]+ [^ ]+ [^ ]+ "
    r'(?P<status>[^ ]+) [^ ]+ [^ ]+ [^ ]+ "(?P<request>[^"]*)" "(?P<user_agent>[^"]*)"'
)
_ALB = re.compile(r"(?:https?|h2|grpcs?|wss?) " + _COMMON)
_ELB = re.compile(_COMMON)
# bucket_owner bucket [time] remote_ip requester request_id operation key "request_uri"
# status error_code bytes_sent object_size total_time turn_around_time "referer" "user_agent",
# then more fields in newer logs. A website bucket is named after its site: the host.
_S3 = re.compile(
    r'[^ ]+ (?P<host>[^ ]+) \[(?P<timestamp>[^\]]+)\] (?P<ip>[^ ]+) [^ ]+ [^ ]+ [^ ]+ [^ ]+ "(?P<request>[^"]*)" '
    r'(?P<status>[0-9]{3}|-) [^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ "(?P<referrer>[^"]*)" "(?P<user_agent>[^"]*)"(?:[ \t].*)?$'
)


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


class S3AccessParser(LineParser):
    """LOG_FORMATS ``s3``. Requests without an HTTP request line (lifecycle actions) are ``no_http_request``."""

    fields = ("host", "timestamp", "ip", "status", "referrer", "user_agent", "method", "url")
    timestamp_format = CLF_TIMESTAMP_FORMAT

    def parse(self, line: str) -> ParseResult:
        match = _S3.match(line)
        if match is None:
            return UNPARSEABLE
        request = split_request(match["request"])
        if request is None:
            return NO_HTTP_REQUEST
        return (*match.group("host", "timestamp", "ip", "status", "referrer", "user_agent"), *request)
