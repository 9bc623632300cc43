"""Hit parsers: Apache/nginx and hosting access logs, HAProxy, W3C/CloudFront, AWS load
balancers and S3, JSON logs, Snowplow and CSV/JSONL exports (plain or compressed), streamed
as chunks of hits plus quarantined lines."""

from connectors.hits.exports import ColumnMapping, ColumnMappingError
from connectors.hits.formats import EMPTY_LOG, LOG_FORMATS, UnknownLogFormat, detect_format
from connectors.hits.lines import MAX_LINE_BYTES
from connectors.hits.reader import LogInspection, inspect_log, read_hits
from connectors.hits.schema import HIT_COLUMNS, QUARANTINE_COLUMNS, ParsedChunk

__all__ = [
    "EMPTY_LOG",
    "HIT_COLUMNS",
    "LOG_FORMATS",
    "MAX_LINE_BYTES",
    "QUARANTINE_COLUMNS",
    "ColumnMapping",
    "ColumnMappingError",
    "LogInspection",
    "ParsedChunk",
    "UnknownLogFormat",
    "detect_format",
    "inspect_log",
    "read_hits",
]
