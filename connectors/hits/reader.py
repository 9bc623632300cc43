"""Read a log file as a stream of parsed chunks, and summarise a file for ``inspect-log``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.hits.chunks import HitAssembler, PendingChunk
from connectors.hits.compression import open_log
from connectors.hits.exports import ColumnMapping
from connectors.hits.formats import detect_export_format, detect_format, make_parser
from connectors.hits.line_parser import LineParser
from connectors.hits.lines import LineBlock, Segment, line_blocks, open_segment
from connectors.hits.schema import ParsedChunk
from enrichment.scrubbing import DEFAULT_SCRUB_RULES, ScrubRules

_FIRST_ERRORS = 5


def read_hits(
    path: str | Path,
    *,
    log_format: str | None = None,
    chunk_size: int = 50_000,
    column_mapping: ColumnMapping | None = None,
    trust_forwarded_for: bool = False,
    timezone: str = "UTC",
    segment: Segment | None = None,
    scrub_rules: ScrubRules = DEFAULT_SCRUB_RULES,
) -> Iterator[ParsedChunk]:
    """Parse ``path`` (plain or compressed) into chunks of at most ``chunk_size`` record lines.

    The format is detected unless given; with a ``column_mapping`` the file is a csv or
    jsonl export. Blank lines, ``#`` comments and W3C directives are not records; a file
    without record lines (0 bytes, headers only) gives no chunk. Lines that cannot become a
    hit are quarantined with a reason; per file, hits + quarantined lines == lines read.
    With ``trust_forwarded_for`` the client is the left-most public address of the
    X-Forwarded-For value, when the format carries one. Times written without a zone are
    local times in ``timezone`` (an IANA name such as ``Europe/Berlin``). Memory stays flat
    whatever the file size. With a ``segment`` (of a plain file) only its lines are read.
    Bad arguments and undetectable formats raise at the call.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    check_timezone(timezone)
    source = str(path)
    log_format = resolve_format(path, log_format, column_mapping)
    parser = make_parser(log_format, column_mapping, source)
    assembler = HitAssembler(
        source,
        parser.fields,
        parser.timestamp_format,
        trust_forwarded_for=trust_forwarded_for,
        timezone=timezone,
        scrub_rules=scrub_rules,
    )
    return _read_chunks(path, parser, assembler, chunk_size, segment)


def check_timezone(timezone: str) -> None:
    """Raise ValueError unless ``timezone`` is an IANA time zone name."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {timezone!r}: use an IANA name such as 'UTC' or 'Europe/Berlin'") from None


def resolve_format(path: str | Path, log_format: str | None, column_mapping: ColumnMapping | None) -> str:
    """``log_format`` if given, else the detected one (only csv/jsonl when there is a mapping)."""
    if log_format is not None:
        return log_format
    return detect_export_format(path) if column_mapping is not None else detect_format(path)


def _read_chunks(
    path: str | Path, parser: LineParser, assembler: HitAssembler, chunk_size: int, segment: Segment | None
) -> Iterator[ParsedChunk]:
    chunk = PendingChunk()
    with open_log(path) if segment is None else open_segment(path, segment) as stream:
        for block in line_blocks(stream, 1 if segment is None else segment.first_line_no):
            records = None
            if block.reason is None and chunk.size + len(block.lines) <= chunk_size:
                records = parser.parse_block(block.text, len(block.lines))
            if records is not None:  # the fast way: every line an ordinary record
                chunk.add_block(block.first_line_no, block.lines, records)
                if chunk.size == chunk_size:
                    yield assembler.build(chunk)
                    chunk = PendingChunk()
                continue
            for line_no, line, result in _parse_lines(parser, block):
                chunk.add(line_no, line, result)
                if chunk.size == chunk_size:
                    yield assembler.build(chunk)
                    chunk = PendingChunk()
    if chunk.size:
        yield assembler.build(chunk)


def _parse_lines(parser: LineParser, block: LineBlock) -> Iterator[tuple[int, str, tuple | str]]:
    """``(line_no, line, record or quarantine reason)`` for the record lines of a block."""
    if block.reason is not None:
        yield block.first_line_no, block.text, block.reason
        return
    for line_no, line in enumerate(block.lines, block.first_line_no):
        if not line or line.isspace():
            continue
        if line[0] == "#":
            parser.directive(line)
            continue
        result = parser.parse(line)
        if result is not None:
            yield line_no, line, result


@dataclass
class LogInspection:
    """What ``visitor-intent inspect-log`` reports about one file.

    ``format`` is ``empty`` for a file without record lines. ``lines`` counts record lines
    (not blank, comment or directive lines); ``local_times`` the records whose time was written
    without a zone, read as local time in ``timezone``; ``first_errors`` holds up to five
    ``(line_no, reason, raw)`` of quarantined lines.
    """

    path: str
    format: str
    lines: int
    parsed: int
    quarantined: int
    timezone: str = "UTC"
    local_times: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    first_errors: list[tuple[int, str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; each first error becomes ``{line_no, reason, raw}``."""
        data = asdict(self)
        data["first_errors"] = [
            {"line_no": line_no, "reason": reason, "raw": raw} for line_no, reason, raw in self.first_errors
        ]
        return data


def inspect_log(path: str | Path, **read_hits_kwargs: Any) -> LogInspection:
    """Parse the whole of ``path`` and count hits, quarantined lines and their reasons."""
    log_format = read_hits_kwargs.pop("log_format", None)
    log_format = resolve_format(path, log_format, read_hits_kwargs.get("column_mapping"))
    inspection = LogInspection(
        path=str(path),
        format=log_format,
        lines=0,
        parsed=0,
        quarantined=0,
        timezone=read_hits_kwargs.get("timezone", "UTC"),
    )
    reasons: Counter[str] = Counter()
    for chunk in read_hits(path, log_format=log_format, **read_hits_kwargs):
        inspection.lines += chunk.lines_read
        inspection.parsed += len(chunk.hits)
        inspection.quarantined += len(chunk.quarantine)
        inspection.local_times += chunk.local_times
        reasons.update(chunk.quarantine["reason"])
        missing = _FIRST_ERRORS - len(inspection.first_errors)
        inspection.first_errors += [
            (int(row.line_no), row.reason, row.raw) for row in chunk.quarantine.head(missing).itertuples()
        ]
    inspection.reasons = dict(reasons.most_common())
    return inspection
