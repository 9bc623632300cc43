"""The supported log formats: a parser for each name, and detection from a file's first lines."""

from __future__ import annotations

import re
from pathlib import Path

from connectors.hits.apache import APACHE_LAYOUTS, ApacheParser
from connectors.hits.aws import LoadBalancerParser, S3AccessParser
from connectors.hits.compression import open_log
from connectors.hits.exports import REQUIRED_FIELDS, ColumnMapping, CsvExportParser, JsonlExportParser
from connectors.hits.haproxy import HAProxyParser
from connectors.hits.json_lines import SERVER_KEYS, JsonLinesParser
from connectors.hits.line_parser import LineParser, ParseResult, json_object
from connectors.hits.lines import line_blocks
from connectors.hits.schema import UNPARSEABLE
from connectors.hits.snowplow import COLUMN_COUNT as SNOWPLOW_COLUMN_COUNT
from connectors.hits.snowplow import SnowplowParser
from connectors.hits.w3c import CloudFrontParser, W3CParser

# Formats told apart by the shape of their lines, in order of preference on a tie: a format
# whose lines also fit a more general one comes before it.
_LINE_SHAPED_FORMATS = (*APACHE_LAYOUTS, "haproxy", "s3", "aws_alb", "aws_elb")
EXPORT_FORMATS = ("csv", "jsonl")
LOG_FORMATS = (*_LINE_SHAPED_FORMATS, "w3c", "cloudfront", "json_lines", "snowplow_enriched", *EXPORT_FORMATS)
EMPTY_LOG = "empty"  # what detection says of a file without record lines (0 bytes, or headers only)
_SAMPLE_RECORDS = 20  # record lines read for detection
# Lines of these formats also fit a more general one (apache_combined): a line counts for
# them only when the field that tells them apart looks the part.
_FORWARDED_ADDRESS = r"(?:unknown|\[?[0-9A-Fa-f:.]+\]?(?::[0-9]+)?)"  # as in X-Forwarded-For
_TELLING_FIELDS = {
    "nginx_main": ("forwarded_for", re.compile(rf"-|{_FORWARDED_ADDRESS}(?:, ?{_FORWARDED_ADDRESS})*")),
    "ovh": ("host", re.compile(r"(?=[^ ]*[A-Za-z])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")),  # a host name
}


class UnknownLogFormat(ValueError):
    """The format of a log file could not be detected.

    ``why`` says so without quoting the file (it may be kept where log lines may not);
    ``first_line`` is the file's first record line.
    """

    def __init__(self, path: str | Path, why: str, first_line: str = "") -> None:
        quoted = f": {first_line[:120]!r}" if first_line else ""
        super().__init__(
            f"{path}: cannot tell its log format ({why}{quoted}); tried {', '.join(LOG_FORMATS)}. "
            "Pass log_format= with one of them (with a column_mapping for csv or jsonl exports)."
        )
        self.why = f"cannot tell its log format: {why}"
        self.first_line = first_line


class _EmptyLogParser(LineParser):
    """A file without record lines: only its broken parts (a cut-off archive) are quarantined."""

    fields = ("timestamp", "ip", "url")

    def parse(self, line: str) -> ParseResult:
        return UNPARSEABLE


def make_parser(log_format: str, column_mapping: ColumnMapping | None, source: str) -> LineParser:
    """A fresh parser for ``log_format`` (parsers keep per-file state such as W3C columns)."""
    if column_mapping is not None and log_format not in EXPORT_FORMATS:
        raise ValueError(f"column_mapping applies to the {' and '.join(EXPORT_FORMATS)} formats, not {log_format!r}")
    mapping = column_mapping or ColumnMapping()
    if log_format in APACHE_LAYOUTS:
        return ApacheParser(log_format)
    match log_format:
        case "haproxy":
            return HAProxyParser()
        case "s3":
            return S3AccessParser()
        case "aws_alb" | "aws_elb":
            return LoadBalancerParser(log_format)
        case "w3c":
            return W3CParser()
        case "cloudfront":
            return CloudFrontParser()
        case "json_lines":
            return JsonLinesParser()
        case "snowplow_enriched":
            return SnowplowParser()
        case "csv":
            return CsvExportParser(mapping, source)
        case "jsonl":
            return JsonlExportParser(mapping)
        case "empty":
            return _EmptyLogParser()
    raise ValueError(f"unknown log format {log_format!r}; choose one of {', '.join(LOG_FORMATS)}")


def detect_format(path: str | Path) -> str:
    """The log format of ``path``, judged from its first record lines (compressed files are opened transparently).

    - no record lines at all (0 bytes, blank, comments or headers only) → ``empty``;
    - a W3C ``#Fields:`` directive → ``cloudfront`` if it lists x-edge-location, else ``w3c``;
    - a JSON object line → ``json_lines`` if it has a web-server key (see
      ``json_lines.SERVER_KEYS``), else ``jsonl`` if it has the keys timestamp, ip and url;
    - 131 tab-separated columns → ``snowplow_enriched``;
    - the line-shaped format (Apache/nginx family, HAProxy, S3, AWS load balancers) that fits
      most of the first 20 lines;
    - a comma-separated header with the columns timestamp, ip and url → ``csv``.

    Raises UnknownLogFormat naming the file and the formats tried.
    """
    fields_directive, records = _sample(path)
    if fields_directive is not None:
        return "cloudfront" if "x-edge-location" in fields_directive.lower().split() else "w3c"
    if not records:
        return EMPTY_LOG
    first = records[0]
    if first.startswith("{"):
        return _json_format(path, first)
    if first.count("\t") == SNOWPLOW_COLUMN_COUNT - 1:
        return "snowplow_enriched"
    shaped = {name: _count_shaped(name, records) for name in _LINE_SHAPED_FORMATS}
    best = max(shaped, key=shaped.__getitem__)
    if shaped[best]:
        return best
    if set(REQUIRED_FIELDS) <= {name.strip() for name in first.split(",")}:
        return "csv"
    raise UnknownLogFormat(path, "its first record line fits none of them", first)


def detect_export_format(path: str | Path) -> str:
    """``jsonl`` if the export's first record line is a JSON object, else ``csv``."""
    _, records = _sample(path)
    return "jsonl" if records and records[0].startswith("{") else "csv"


def _sample(path: str | Path) -> tuple[str | None, list[str]]:
    """The first W3C ``#Fields:`` directive (if one comes first) and the first record lines."""
    fields_directive = None
    records: list[str] = []
    with open_log(path) as stream:
        for block in line_blocks(stream):
            if block.reason is not None:
                continue
            for line in block.lines:
                if not line.strip():
                    continue
                if line.startswith("#"):
                    if line.lower().startswith("#fields:") and not records:
                        fields_directive = line.partition(":")[2]
                    continue
                records.append(line)
                if len(records) == _SAMPLE_RECORDS:
                    return fields_directive, records
    return fields_directive, records


def _json_format(path: str | Path, line: str) -> str:
    record = json_object(line)
    if record is None:
        raise UnknownLogFormat(path, "its first record starts like JSON but is not a JSON object", line)
    keys = set(record)
    if keys & SERVER_KEYS:
        return "json_lines"
    if set(REQUIRED_FIELDS) <= keys:
        return "jsonl"
    raise UnknownLogFormat(
        path, f"its JSON keys {sorted(keys)[:12]} are neither a web-server log's nor timestamp/ip/url", line
    )


def _count_shaped(log_format: str, lines: list[str]) -> int:
    """How many lines have the format's layout (even if a field in them is unusable)."""
    parser = make_parser(log_format, None, source="")
    results = [parser.parse(line) for line in lines]
    if log_format not in _TELLING_FIELDS:
        return sum(result != UNPARSEABLE for result in results)
    field, looks_right = _TELLING_FIELDS[log_format]
    position = parser.fields.index(field)
    return sum(type(result) is tuple and bool(looks_right.fullmatch(result[position] or "")) for result in results)
