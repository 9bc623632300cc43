"""Compressed logs: gzip, bzip2, xz and Zstandard, told by their first bytes (not their names).

A compressed stream that ends early or is damaged raises BrokenCompression naming the
quarantine reason (``truncated_gzip``, ``corrupt_xz``, ...); what was read before stays read.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

import zstandard

from connectors.hits.schema import CORRUPT, TRUNCATED

_READ_BYTES = 1024 * 1024
_ZSTD_INPUT_BYTES = 128 * 1024  # compressed bytes fed at a time: a frame may inflate them tenfold


class BrokenCompression(Exception):
    """A compressed stream ended early or is damaged; ``reason`` is the quarantine reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _is_invalid_bz2_data(error: Exception) -> bool:
    # bz2 reports damaged data as an OSError without an errno; a failing disk has one.
    return isinstance(error, OSError) and error.errno is None


@dataclass(frozen=True)
class Codec:
    """How to recognise and open one compression format."""

    name: str  # as in the quarantine reasons: truncated_<name>, corrupt_<name>
    starts_like: Callable[[bytes], bool]
    open: Callable[[Path], BinaryIO]
    is_damage: Callable[[Exception], bool]


class _ZstdFrames(io.RawIOBase):
    """The decompressed bytes of a Zstandard file, one frame after the other (``zstd -c a b``
    writes two); EOFError when the last frame is cut short, which the library's own reader
    does not report."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._decompressor = zstandard.ZstdDecompressor()
        self._frame = self._decompressor.decompressobj()
        self._in_frame = False
        self._output = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._output:
            data = self._file.read(_ZSTD_INPUT_BYTES)
            if not data:
                if self._in_frame:
                    raise EOFError("the last Zstandard frame is cut short")
                return 0
            self._output = memoryview(self._decompress(data))
        size = min(len(buffer), len(self._output))
        buffer[:size] = self._output[:size]
        self._output = self._output[size:]
        return size

    def _decompress(self, data: bytes) -> bytes:
        output = []
        while data:
            self._in_frame = True
            output.append(self._frame.decompress(data))
            if not self._frame.eof:
                break
            data, self._frame, self._in_frame = self._frame.unused_data, self._decompressor.decompressobj(), False
        return b"".join(output)

    def close(self) -> None:
        self._file.close()
        super().close()


CODECS = (
    Codec(
        "gzip",
        lambda head: head.startswith(b"\x1f\x8b"),
        partial(gzip.open, mode="rb"),
        lambda error: isinstance(error, (gzip.BadGzipFile, zlib.error)),
    ),
    Codec(
        "bz2",
        lambda head: head[:3] == b"BZh" and head[3:4] in (b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"9"),
        partial(bz2.open, mode="rb"),
        _is_invalid_bz2_data,
    ),
    Codec(
        "xz",
        lambda head: head.startswith(b"\xfd7zXZ\x00"),
        partial(lzma.open, mode="rb"),
        lambda error: isinstance(error, lzma.LZMAError),
    ),
    Codec(
        "zstd",
        lambda head: head.startswith(b"\x28\xb5\x2f\xfd"),
        lambda path: io.BufferedReader(_ZstdFrames(path), _READ_BYTES),
        lambda error: isinstance(error, zstandard.ZstdError),
    ),
)
_HEAD_BYTES = 6


def codec_of(head: bytes) -> Codec | None:
    """The compression a file starting with ``head`` (its first 6 bytes) is in; None for plain text."""
    return next((codec for codec in CODECS if codec.starts_like(head[:_HEAD_BYTES])), None)


def is_compressed(path: str | Path) -> bool:
    return codec_of(_head(path)) is not None


def open_log(path: str | Path) -> io.BufferedReader:
    """``path`` for binary reading, decompressed when its first bytes say it is compressed."""
    codec = codec_of(_head(path))
    if codec is None:
        return open(path, "rb")
    return io.BufferedReader(_Decompressed(codec, Path(path)), _READ_BYTES)


def _head(path: str | Path) -> bytes:
    with open(path, "rb") as probe:
        return probe.read(_HEAD_BYTES)


class _Decompressed(io.RawIOBase):
    """A codec's stream whose failures are BrokenCompression with the quarantine reason."""

    def __init__(self, codec: Codec, path: Path) -> None:
        self._codec = codec
        self._stream = codec.open(path)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            # read1: what is at hand, so that the lines before a break are not lost with it.
            data = self._stream.read1(len(buffer))
        except EOFError:
            raise BrokenCompression(TRUNCATED.format(codec=self._codec.name)) from None
        except Exception as error:
            if self._codec.is_damage(error):
                raise BrokenCompression(CORRUPT.format(codec=self._codec.name)) from None
            raise
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()
