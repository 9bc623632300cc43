"""Turn chunks of parsed lines into typed hit and quarantine frames.

Parsers only cut a line into raw field texts. Everything that can be done per column
(timestamps, IP checks, URL reduction, statuses) happens here, once per distinct value:
logs repeat the same IPs, URLs and seconds many times.

Every source passes through here, so this is where personal data is scrubbed
(``enrichment.scrubbing``): urls and referrers keep only allowed query parameters, personal
data in them and in page titles is masked, and so is the raw text of quarantined lines.
Nothing unscrubbed reaches the spool, and so nothing reaches the warehouse or a report.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from typing import Generic, TypeVar

import numpy as np
import pandas as pd

from connectors.hits.schema import (
    BAD_TIMESTAMP,
    HIT_DTYPES,
    INVALID_IP,
    INVALID_URL,
    QUARANTINE_DTYPES,
    ParsedChunk,
)
from connectors.hits.values import (
    Target,
    canonical_ip,
    leftmost_public_ip,
    parse_status,
    parse_timestamps,
    resolve_target,
)
from enrichment.scrubbing import (
    DEFAULT_SCRUB_RULES,
    REMOVED_SEPARATOR,
    ScrubbedUrl,
    ScrubRules,
    mask_personal_data,
    scrub_raw_line,
    scrub_url,
)

# The raw values a parser may extract from a line. "url" is the request target as logged
# (a path, an absolute URL or a tracking-pixel request); the assembler reduces it.
RAW_FIELDS = (
    "timestamp",
    "ip",
    "forwarded_for",
    "method",
    "host",
    "url",
    "status",
    "referrer",
    "user_agent",
    "visitor_id",
    "session_id",
    "page_title",
)
_OPTIONAL_TEXT = ("method", "host", "referrer", "user_agent", "visitor_id", "session_id", "page_title")
MAX_RAW_CHARS = 1000
MEMO_SIZE = 100_000  # distinct values remembered per column, so memory stays bounded

Value = TypeVar("Value", bound=Hashable)
Result = TypeVar("Result")
Columns = dict[str, list | None]
_URL = attrgetter("url")
_HOST = attrgetter("host")


class Memo(Generic[Value, Result]):
    """``function`` applied to a list, computed once per distinct value across chunks."""

    def __init__(self, function: Callable[[Value], Result]) -> None:
        self._function = function
        self._results: dict[Value, Result] = {}

    def __call__(self, values: list[Value]) -> list[Result]:
        results = self._results
        new = [value for value in set(values) if value not in results]
        if len(results) + len(new) > MEMO_SIZE:
            results.clear()
            new = list(set(values))
        results.update(zip(new, map(self._function, new)))
        return list(map(results.__getitem__, values))


@dataclass
class PendingChunk:
    """The lines of a chunk being read: records (raw value tuples) and refused lines."""

    records: list[tuple] = field(default_factory=list)
    record_line_nos: list[int] = field(default_factory=list)
    record_lines: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line_no, reason, line)

    @property
    def size(self) -> int:
        return len(self.records) + len(self.rejected)

    def add(self, line_no: int, line: str, result: tuple | str) -> None:
        """Add a record (a tuple) or a refused line (a quarantine reason)."""
        if type(result) is tuple:
            self.records.append(result)
            self.record_line_nos.append(line_no)
            self.record_lines.append(line)
        else:
            self.rejected.append((line_no, result, line))

    def add_block(self, first_line_no: int, lines: list[str], records: list[tuple]) -> None:
        """Add consecutive lines that are all records."""
        self.records += records
        self.record_line_nos += range(first_line_no, first_line_no + len(lines))
        self.record_lines += lines


class HitAssembler:
    """Builds the ParsedChunks of one file; what it learns about values carries over."""

    def __init__(
        self,
        source_file: str,
        fields: tuple[str, ...],
        timestamp_format: str | None,
        *,
        trust_forwarded_for: bool = False,
        timezone: str = "UTC",
        scrub_rules: ScrubRules = DEFAULT_SCRUB_RULES,
    ) -> None:
        self.source_file = source_file
        self.fields = fields  # names of the values in each record tuple, from RAW_FIELDS
        self.timestamp_format = timestamp_format
        self.trust_forwarded_for = trust_forwarded_for and "forwarded_for" in fields
        self.timezone = timezone  # of timestamps written without a zone
        self._canonical_ips = Memo(canonical_ip)
        self._forwarded_clients = Memo(leftmost_public_ip)
        self._targets = Memo(resolve_target)
        self._statuses = Memo(parse_status)
        self.scrub_rules = scrub_rules
        self._scrubbed_urls = Memo(lambda url: None if url is None else scrub_url(url, scrub_rules))
        self._masked_texts = Memo(lambda text: None if text is None else mask_personal_data(text))

    def build(self, chunk: PendingChunk) -> ParsedChunk:
        """The chunk's hits and quarantine.

        A record whose timestamp, client IP or URL is unusable is quarantined as
        ``bad_timestamp``, ``invalid_ip`` or ``invalid_url`` (the first that applies). A
        record that names no client at all ("-", as IIS writes for some requests) is a hit
        without an IP: the request happened, and cleaning sets it aside.
        """
        record_line_nos, rejected = chunk.record_line_nos, chunk.rejected
        columns = self._raw_columns(chunk.records)
        timestamps, local_times = parse_timestamps(columns["timestamp"], self.timestamp_format, self.timezone)
        named_clients = [columns["ip"], columns["forwarded_for"] if self.trust_forwarded_for else None]
        columns["ip"] = self._client_ips(columns)
        for name in _OPTIONAL_TEXT:
            if columns[name] is not None:
                columns[name] = [None if not value or value == "-" else value for value in columns[name]]
        _apply_targets(columns, self._targets(columns["url"]))
        if columns["status"] is not None:
            columns["status"] = self._statuses(columns["status"])
        self._scrub(columns)

        hits = self._hits_frame(timestamps, columns, record_line_nos)
        reasons = _failures(timestamps, columns, named_clients)
        if reasons is not None:
            is_hit = reasons == ""
            hits = hits[is_hit].reset_index(drop=True)
            rejected = rejected + [
                (record_line_nos[row], str(reasons[row]), chunk.record_lines[row]) for row in np.flatnonzero(~is_hit)
            ]
        return ParsedChunk(hits, self._quarantine_frame(rejected), chunk.size, local_times)

    def _raw_columns(self, records: list[tuple]) -> Columns:
        """Field name → list of raw values; None for a field the format does not have."""
        columns: Columns = dict.fromkeys(RAW_FIELDS)
        for position, name in enumerate(self.fields):
            columns[name] = list(map(itemgetter(position), records))
        return columns

    def _scrub(self, columns: Columns) -> None:
        """Urls and referrers with only allowed parameters and personal data masked, page titles
        masked; ``removed_parameters`` names what each hit's url and referrer lost."""
        urls = self._scrubbed_urls(columns["url"])
        referrers = self._scrubbed_urls(columns["referrer"]) if columns["referrer"] is not None else [None] * len(urls)
        columns["url"] = list(map(_scrubbed_text, urls))
        if columns["referrer"] is not None:
            columns["referrer"] = list(map(_scrubbed_text, referrers))
        if columns["page_title"] is not None:
            columns["page_title"] = self._masked_texts(columns["page_title"])
        columns["removed_parameters"] = list(map(_removed_names, urls, referrers))

    def _client_ips(self, columns: Columns) -> list[str | None]:
        connection = self._canonical_ips(columns["ip"])
        if not self.trust_forwarded_for:
            return connection
        forwarded = self._forwarded_clients(columns["forwarded_for"])
        return [client or peer for client, peer in zip(forwarded, connection)]

    def _hits_frame(self, timestamps: pd.DatetimeIndex, columns: Columns, line_nos: list[int]) -> pd.DataFrame:
        rows = pd.RangeIndex(len(line_nos))
        values = {
            **columns,
            "timestamp": timestamps,
            "source_file": self.source_file,
            "line_no": np.array(line_nos, dtype=np.int64),
        }
        return _frame(values, HIT_DTYPES, rows)

    def _quarantine_frame(self, rejected: list[tuple[int, str, str]]) -> pd.DataFrame:
        rejected = sorted(rejected)
        rows = pd.RangeIndex(len(rejected))
        values = {
            "source_file": self.source_file,
            "line_no": [line_no for line_no, _, _ in rejected],
            "reason": [reason for _, reason, _ in rejected],
            "raw": [scrub_raw_line(line, self.scrub_rules)[:MAX_RAW_CHARS] for _, _, line in rejected],
        }
        return _frame(values, QUARANTINE_DTYPES, rows)


def _scrubbed_text(scrubbed: ScrubbedUrl | None) -> str | None:
    return None if scrubbed is None else scrubbed.url


def _removed_names(url: ScrubbedUrl | None, referrer: ScrubbedUrl | None) -> str | None:
    """The parameter names taken out of a hit's url and referrer, ";"-separated (None when none were)."""
    names = [*(url.removed if url else ()), *(referrer.removed if referrer else ())]
    return REMOVED_SEPARATOR.join(dict.fromkeys(names)) or None


def _apply_targets(columns: Columns, targets: list[Target]) -> None:
    """Reduce request targets to path + query; let absolute URLs and tracking pixels fill in."""
    columns["url"] = list(map(_URL, targets))
    if not any(map(_HOST, targets)):  # plain paths only: the usual case
        return
    for name in ("host", "referrer", "visitor_id", "page_title"):
        if columns[name] is None:
            columns[name] = [None] * len(targets)
    hosts, referrers = columns["host"], columns["referrer"]
    visitor_ids, page_titles = columns["visitor_id"], columns["page_title"]
    for row, target in enumerate(targets):
        if target.is_tracking_pixel:
            # The pixel request's own Referer is the tracked page; the page's referrer is urlref.
            hosts[row] = target.host
            referrers[row] = target.referrer
            visitor_ids[row] = target.visitor_id or visitor_ids[row]
            page_titles[row] = target.page_title or page_titles[row]
        elif target.host and hosts[row] is None:
            hosts[row] = target.host


def _failures(timestamps: pd.DatetimeIndex, columns: Columns, raw_clients: list[list | None]) -> np.ndarray | None:
    """Per record, why it cannot be a hit ("" when it can); None when every record can.

    ``raw_clients`` are the raw fields that may name the client (the address, and the
    forwarded-for value when trusted): a record whose every one is blank has no IP, which is
    no failure.
    """
    bad_timestamps = timestamps.isna()
    if not bad_timestamps.any() and None not in columns["ip"] and None not in columns["url"]:
        return None
    named = np.logical_or.reduce([~_is_blank(values) for values in raw_clients if values is not None])
    return np.select(
        [bad_timestamps, _is_missing(columns["ip"]) & named, _is_missing(columns["url"])],
        [BAD_TIMESTAMP, INVALID_IP, INVALID_URL],
        default="",
    )


def _is_missing(values: list[object]) -> np.ndarray:
    return pd.isna(np.array(values, dtype=object))


def _is_blank(values: list[object]) -> np.ndarray:
    """Per value, whether a log field is absent: missing, empty or "-"."""
    return np.array([value is None or value == "" or value == "-" for value in values], dtype=bool)


def _frame(values: dict[str, object], dtypes: dict[str, str], rows: pd.RangeIndex) -> pd.DataFrame:
    columns = {name: _typed(values[name], dtype, rows) for name, dtype in dtypes.items()}
    return pd.DataFrame(columns, index=rows, copy=False)


def _typed(values: object, dtype: str, rows: pd.RangeIndex) -> pd.api.extensions.ExtensionArray:
    if values is None or isinstance(values, str):  # one value for all rows: broadcasting is fast
        return pd.Series(values, index=rows, dtype=dtype).array
    return pd.array(values, dtype=dtype)
