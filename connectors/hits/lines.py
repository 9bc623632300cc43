"""Physical lines of a log file, plain or compressed, read in blocks with bounded memory."""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import NamedTuple

from connectors.hits.compression import BrokenCompression
from connectors.hits.schema import LINE_TOO_LONG

MAX_LINE_BYTES = 64 * 1024
BLOCK_BYTES = 1024 * 1024
_TRAILING_CARRIAGE_RETURNS = re.compile(r"\r+$", re.MULTILINE)


class LineBlock(NamedTuple):
    """Consecutive physical lines (split at ``\\n``): ``lines[i]`` is line ``first_line_no + i``.

    Lines are decoded as UTF-8 with replacement characters, without their line break and
    trailing carriage returns; ``text`` is the same lines joined by ``\\n``. ``reason`` is
    None, or a quarantine reason for a single line that cannot be a record: a line over
    MAX_LINE_BYTES (its start), or the point where a compressed stream breaks off (empty).
    """

    first_line_no: int
    lines: list[str]
    text: str
    reason: str | None = None


class Segment(NamedTuple):
    """Bytes ``start`` to ``end`` of a plain file, cut at line starts; its first line is ``first_line_no``."""

    start: int
    end: int
    first_line_no: int


def open_segment(path: str | Path, segment: Segment) -> io.BufferedReader:
    """A binary stream of one segment of a plain (not compressed) file."""
    return io.BufferedReader(_BoundedFile(path, segment.start, segment.end), BLOCK_BYTES)


def segments(path: str | Path, count: int) -> list[Segment]:
    """``path`` cut into ``count`` segments of about equal size at line starts (fewer for a short file)."""
    size = Path(path).stat().st_size
    with open(path, "rb") as stream:
        cuts = [0]
        for n in range(1, count):
            stream.seek(max(size * n // count, cuts[-1]))
            stream.readline()  # on to the start of the next line
            if cuts[-1] < stream.tell() < size:
                cuts.append(stream.tell())
        cuts.append(size)
        stream.seek(0)
        first_line_nos = [1]
        for start, end in zip(cuts[:-2], cuts[1:-1]):
            first_line_nos.append(first_line_nos[-1] + _line_breaks(stream, end - start))
    return [Segment(start, end, first) for start, end, first in zip(cuts, cuts[1:], first_line_nos)]


def _line_breaks(stream: io.BufferedReader, length: int) -> int:
    """Line breaks in the next ``length`` bytes of ``stream``."""
    breaks = 0
    while length > 0 and (data := stream.read(min(length, 16 * BLOCK_BYTES))):
        breaks += data.count(b"\n")
        length -= len(data)
    return breaks


class _BoundedFile(io.RawIOBase):
    """The bytes of a file from ``start`` up to ``end``."""

    def __init__(self, path: str | Path, start: int, end: int) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._file.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        view = memoryview(buffer)[: self._left]
        read = self._file.readinto(view)
        self._left -= read
        return read

    def close(self) -> None:
        self._file.close()
        super().close()


def line_blocks(stream: io.BufferedReader, first_line_no: int = 1) -> Iterator[LineBlock]:
    """The stream's lines, up to about BLOCK_BYTES at a time, numbered from ``first_line_no``.

    A UTF-8 byte order mark at the start of a file is not part of its first line.
    """
    next_line_no = first_line_no
    partial_line = b""  # the start of a line whose end has not been read yet
    try:
        at_file_start = first_line_no == 1
        if at_file_start and stream.peek(len(codecs.BOM_UTF8)).startswith(codecs.BOM_UTF8):  # Excel, IIS
            stream.read(len(codecs.BOM_UTF8))
        # read1 returns what is at hand, so a broken compressed stream loses little.
        for data in iter(partial(stream.read1, BLOCK_BYTES), b""):
            data = partial_line + data
            end = data.rfind(b"\n")
            if end < 0 and len(data) > MAX_LINE_BYTES:
                yield _rejected(next_line_no, data[:MAX_LINE_BYTES], LINE_TOO_LONG)
                next_line_no, partial_line = next_line_no + 1, b""
                _skip_rest_of_line(stream)
            elif end < 0:
                partial_line = data
            else:
                partial_line = data[end + 1 :]
                for block in _blocks(data[:end], next_line_no):
                    yield block
                    next_line_no = block.first_line_no + len(block.lines)
        if partial_line:  # a last line without a line break
            yield from _blocks(partial_line, next_line_no)
    except BrokenCompression as broken:
        yield _rejected(next_line_no, b"", broken.reason)


def _blocks(complete_lines: bytes, first_line_no: int) -> list[LineBlock]:
    if not _may_hold_a_long_line(complete_lines):
        text = _decode(complete_lines)
        return [LineBlock(first_line_no, text.split("\n"), text)]
    blocks = []
    for line_no, line in enumerate(complete_lines.split(b"\n"), first_line_no):
        if len(line) > MAX_LINE_BYTES:
            blocks.append(_rejected(line_no, line[:MAX_LINE_BYTES], LINE_TOO_LONG))
        else:
            text = _decode(line)
            blocks.append(LineBlock(line_no, [text], text))
    return blocks


def _may_hold_a_long_line(data: bytes) -> bool:
    # A line over MAX_LINE_BYTES covers a whole aligned window of half that size, so if
    # every whole window holds a line break there is no such line. Finding one break per
    # window is much cheaper than splitting the block.
    window = MAX_LINE_BYTES // 2
    return any(data.find(b"\n", start, start + window) < 0 for start in range(0, len(data) - window + 1, window))


def _rejected(line_no: int, data: bytes, reason: str) -> LineBlock:
    text = _decode(data)
    return LineBlock(line_no, [text], text, reason)


def _skip_rest_of_line(stream: io.BufferedReader) -> None:
    for piece in iter(partial(stream.readline, BLOCK_BYTES), b""):
        if piece.endswith(b"\n"):
            return


def _decode(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    return _TRAILING_CARRIAGE_RETURNS.sub("", text) if "\r" in text else text
