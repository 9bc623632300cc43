"""A database's search tree, walked with numpy for a whole batch of addresses at once.

maxminddb answers one address per call and decodes that address's record every time,
but a batch's addresses share far fewer records than they have networks (a residential
ISP's record, say, serves thousands of networks). The walk gives every address the
data pointer of its record and its prefix length, so the lookup decodes each distinct
record once, with the reader, for one address pointing at it.

Kept because it is clearly faster than a plain maxminddb loop (``get_with_prefix_len``
per address in address order, skipping addresses inside the network answered last),
measured with ``python -m bench.tree_walk`` (2026-12-05, 2 shared cores, medians of 11):
on the bench's demo GeoIP2-Enterprise database (100,021 networks) and the 29,937
unique IPs of its 1M-hit log, walk 0.042 s, loop 0.236 s: 5.6x (5.3x in a second run);
the loop's maxminddb calls alone take about 0.10 s. The gain is the shared records: on
MaxMind's small test databases (25 to 2,129 networks, 30k addresses drawn inside them)
the two are even (0.5x to 1.45x), the walk slowest on IPv6-heavy input (128 levels).
"""

from __future__ import annotations

import mmap
from pathlib import Path

import maxminddb
import numpy as np


class SearchTree:
    """The search tree of one ``.mmdb`` file (MaxMind DB format 2.0), read as maxminddb's
    pure-Python reader reads it, from a second read-only mapping of the file."""

    def __init__(self, path: Path, node_count: int, record_size: int, ip_version: int) -> None:
        with path.open("rb") as file:
            # The page cache is shared with the reader's mapping.
            self._buffer = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        self._record_size = record_size
        self._node_bytes = record_size // 4
        # The right record starts after the left one; 28-bit records share the middle byte.
        self._right_offset = 4 if record_size == 32 else 3
        # The four big-endian bytes at every offset of the tree (the 16-byte separator
        # after it covers the last ones): any record is one read away.
        self._words = np.ndarray((node_count * self._node_bytes,), ">u4", self._buffer, 0, (1,))
        self.node_count = node_count
        self._ip_version = ip_version
        # An IPv6 tree holds IPv4 under ::/96: its walks start 96 zero bits down.
        node = 0
        for _ in range(96 if ip_version == 6 else 0):
            if node >= node_count:
                break
            node = int(self._children(np.array([node]), np.array([0]))[0])
        self._ipv4_start = node

    def close(self) -> None:
        self._words = None  # the mapping cannot close while an array uses it
        self._buffer.close()

    def find(self, addresses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each address's walk ends and how many of its bits the walk took.

        ``addresses`` is one row of packed bytes per address (4 for IPv4, 16 for IPv6).
        A walk ending at ``node_count`` found no record; above it, it ended on a data
        pointer. An IPv4-only tree has no record for any IPv6 address.
        """
        count, width = addresses.shape
        values = np.full(count, self.node_count, dtype=np.int64)
        prefixes = np.zeros(count, dtype=np.int64)
        if width == 16 and self._ip_version == 4:
            return values, prefixes
        rows = np.arange(count)  # the addresses still walking, and where they are
        nodes = np.full(count, self._ipv4_start if width == 4 else 0, dtype=np.int64)
        for depth in range(width * 8 + 1):
            ended = nodes >= self.node_count
            if ended.any():
                values[rows[ended]] = nodes[ended]
                prefixes[rows[ended]] = depth
                walking = ~ended
                rows, nodes, addresses = rows[walking], nodes[walking], addresses[walking]
            if not rows.size:
                return values, prefixes
            if depth < width * 8:
                nodes = self._children(nodes, addresses[:, depth // 8] >> (7 - depth % 8) & 1)
        raise maxminddb.InvalidDatabaseError("Invalid node in search tree")

    def _children(self, nodes: np.ndarray, bits: np.ndarray) -> np.ndarray:
        """The record of each node that ``bits`` picks (0: left, 1: right)."""
        words = self._words[nodes * self._node_bytes + bits * self._right_offset].astype(np.int64)
        if self._record_size == 24:
            return words >> 8
        if self._record_size == 28:  # the left's top nibble is the high half of the shared byte
            return np.where(bits, words & 0x0FFFFFFF, words >> 8 | (words & 0xF0) << 20)
        return words
