"""Snowplow enriched events (the 131-column TSV the enrich step writes, without a header).

Only ``page_view`` events are hits. Every other event (page pings, link clicks, ...) is
quarantined as ``not_a_page_view`` rather than dropped, so the line counts still add up
and a file of pings stands out in ``inspect-log``.
"""

from __future__ import annotations

from connectors.hits.line_parser import LineParser, ParseResult
from connectors.hits.schema import NOT_A_PAGE_VIEW, UNPARSEABLE
from connectors.hits.values import ISO_8601

COLUMN_COUNT = 131
# 0-based positions in Snowplow's canonical event model.
_COLLECTOR_TSTAMP = 3  # when the collector saw the event (UTC); device clocks are not trusted
_EVENT = 5
_USER_IPADDRESS = 13
_DOMAIN_USERID = 15
_PAGE_URL = 29
_PAGE_TITLE = 30
_PAGE_REFERRER = 31
_PAGE_URLHOST = 33
_PAGE_URLPATH = 35
_PAGE_URLQUERY = 36
_USERAGENT = 77
_DOMAIN_SESSIONID = 123


class SnowplowParser(LineParser):
    """LOG_FORMATS ``snowplow_enriched``."""

    fields = ("timestamp", "ip", "host", "url", "referrer", "user_agent", "visitor_id", "session_id", "page_title")
    timestamp_format = ISO_8601

    def parse(self, line: str) -> ParseResult:
        columns = line.split("\t")
        if len(columns) != COLUMN_COUNT:
            return UNPARSEABLE
        if columns[_EVENT] != "page_view":
            return NOT_A_PAGE_VIEW
        return (
            columns[_COLLECTOR_TSTAMP] + "Z",  # "2013-11-26 00:02:05": UTC, without a marker
            columns[_USER_IPADDRESS],
            columns[_PAGE_URLHOST],
            _page_path(columns),
            columns[_PAGE_REFERRER],
            columns[_USERAGENT],
            columns[_DOMAIN_USERID],
            columns[_DOMAIN_SESSIONID],
            columns[_PAGE_TITLE],
        )


def _page_path(columns: list[str]) -> str:
    # Enrichment already split page_url; the parts are the better source when present.
    path, query = columns[_PAGE_URLPATH], columns[_PAGE_URLQUERY]
    if not path:
        return columns[_PAGE_URL]
    return f"{path}?{query}" if query else path
