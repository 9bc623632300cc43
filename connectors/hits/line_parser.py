"""What every format parser provides, and small helpers several formats share."""

from __future__ import annotations

import json

ParseResult = tuple | str | None


class LineParser:
    """Cuts one record line of a log format into raw field values.

    ``fields`` names the values of each record tuple (a subset of ``chunks.RAW_FIELDS``);
    ``timestamp_format`` tells how to read the timestamp field (see
    ``values.parse_timestamps``; None accepts epoch seconds, ISO 8601 and Apache's format).
    """

    fields: tuple[str, ...]
    timestamp_format: str | None = None

    def parse(self, line: str) -> ParseResult:
        """The line's raw values in ``fields`` order, or a quarantine reason, or None when
        the line holds no record (a CSV header)."""
        raise NotImplementedError

    def parse_block(self, text: str, line_count: int) -> list[tuple] | None:
        """Records for all ``line_count`` lines of ``text`` (lines joined by "\\n") when every
        one is an ordinary record, else None and the lines are parsed one by one.

        A shortcut for formats on the hot path; by default there is none.
        """
        return None

    def directive(self, line: str) -> None:
        """Take note of a ``#`` line; only W3C logs declare anything (their columns) there."""


def split_request(request: str) -> tuple[str | None, str | None] | None:
    """``(method, target)`` of an HTTP request line; None when there was no request at all.

    A request line that is not "METHOD target [HTTP/x]" (e.g. TLS bytes sent to a plain
    HTTP port) gives ``(None, None)``, which ends as ``invalid_url``.
    """
    parts = request.split(" ")
    if parts[0] in ("", "-"):  # Apache logs "-", ELB TCP entries "- - - "
        return None
    if len(parts) < 2:
        return None, None
    if len(parts) > 2 and parts[-1].startswith("HTTP/"):
        parts.pop()
    return parts[0], " ".join(parts[1:])


def json_object(line: str) -> dict | None:
    """The JSON object on a line, or None if the line is not one."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None
    return record if isinstance(record, dict) else None


def json_text(value: object) -> str | None:
    """A JSON value as field text: strings as they are, numbers as text, anything else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def json_scalar(value: object) -> str | int | float | None:
    """A JSON string or number (e.g. an epoch timestamp or a status) kept as it is, else None."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return value
    return None
