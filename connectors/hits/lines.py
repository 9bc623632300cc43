"""Physical lines of a log file, plain or gzip, read with bounded memory."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import BinaryIO

from connectors.hits.schema import CORRUPT_GZIP, LINE_TOO_LONG, TRUNCATED_GZIP

MAX_LINE_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
_SKIP_BLOCK_BYTES = 1024 * 1024


def open_log(path: str | Path) -> BinaryIO:
    """Open ``path`` for binary reading, decompressing it when its first bytes say gzip."""
    with open(path, "rb") as probe:
        compressed = probe.read(2) == GZIP_MAGIC
    return gzip.open(path, "rb") if compressed else open(path, "rb")


def numbered_lines(stream: BinaryIO) -> Iterator[tuple[int, str, str | None]]:
    """``(line_no, text, reason)`` for each physical line (split at ``\\n``), 1-based.

    ``text`` is decoded as UTF-8 with replacement characters, without its line break.
    ``reason`` is None, or a quarantine reason for a line that cannot be a record: a line
    over MAX_LINE_BYTES, or a final pseudo-line where a gzip stream breaks off.
    """
    line_no = 0
    # A bounded readline keeps one enormous line from filling memory.
    read_line = partial(stream.readline, MAX_LINE_BYTES + 1)
    try:
        for raw in iter(read_line, b""):
            line_no += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                _skip_rest_of_line(stream)
                yield line_no, _decode(raw), LINE_TOO_LONG
            else:
                yield line_no, _decode(raw), None
    except EOFError:
        yield line_no + 1, "", TRUNCATED_GZIP
    except (gzip.BadGzipFile, zlib.error):
        yield line_no + 1, "", CORRUPT_GZIP


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\r\n")


def _skip_rest_of_line(stream: BinaryIO) -> None:
    for block in iter(partial(stream.readline, _SKIP_BLOCK_BYTES), b""):
        if block.endswith(b"\n"):
            return
