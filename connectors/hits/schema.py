"""The shape of parsed hits and quarantined lines, and the reasons a line is quarantined."""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

# Text columns use pandas' default "str" dtype, where a missing value ("-" or "" in the
# log) is NaN: test with pd.isna / Series.isna, not "is None".
HIT_DTYPES: dict[str, str] = {
    "timestamp": "datetime64[us, UTC]",
    "ip": "str",
    "method": "str",
    "host": "str",
    "url": "str",
    "status": "Int64",
    "referrer": "str",
    "user_agent": "str",
    "visitor_id": "str",
    "session_id": "str",
    "page_title": "str",
    "source_file": "str",
    "line_no": "int64",
    # Names of the query parameters scrubbing took out of url and referrer, ";"-separated:
    # counted per day for marketing, never stored with the hit.
    "removed_parameters": "str",
}
HIT_COLUMNS: list[str] = list(HIT_DTYPES)

QUARANTINE_DTYPES: dict[str, str] = {
    "source_file": "str",
    "line_no": "int64",
    "reason": "str",
    "raw": "str",
}
QUARANTINE_COLUMNS: list[str] = list(QUARANTINE_DTYPES)

# Quarantine reasons: short codes users can count, filter and look up.
UNPARSEABLE = "unparseable"  # the line does not have the format's shape
BAD_TIMESTAMP = "bad_timestamp"  # missing, or not a date the format allows
INVALID_IP = "invalid_ip"  # the client field is not an IP address (e.g. a host name)
INVALID_URL = "invalid_url"  # no path: neither "/..." nor an absolute http(s) URL
NO_HTTP_REQUEST = "no_http_request"  # no request line (Apache "-", ELB layer-4 TCP entries)
NOT_A_PAGE_VIEW = "not_a_page_view"  # Snowplow events other than page_view
NO_FIELDS_DIRECTIVE = "no_fields_directive"  # a W3C record before any #Fields: line
LINE_TOO_LONG = "line_too_long"  # more than MAX_LINE_BYTES
UNKNOWN_FORMAT = "unknown_format"  # the whole file (line 0): its log format cannot be told
# A compressed stream (codec gzip, bz2, xz or zstd) that ends early or is damaged: the
# lines before it are kept. E.g. truncated_gzip, corrupt_xz.
TRUNCATED = "truncated_{codec}"
CORRUPT = "corrupt_{codec}"


class ParsedChunk(NamedTuple):
    """One chunk of a log: its hits, its quarantined lines and how many record lines it held.

    ``len(hits) + len(quarantine) == lines_read`` for every chunk. ``local_times`` counts
    the records whose time was written without a zone (read in the source's timezone).
    """

    hits: pd.DataFrame
    quarantine: pd.DataFrame
    lines_read: int
    local_times: int = 0
