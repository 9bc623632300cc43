"""IP addresses in bulk: IPv4 text as integers, so that network tests are array operations.

Python's ``ipaddress`` builds an object per address and tests networks one at a time:
right for one address, but the top cost of cleaning and matching days of tens of
thousands of visitors. Callers leave what is not dotted-quad IPv4 (IPv6, garbage) to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Network

import numpy as np
import pandas as pd

NOT_IPV4 = -1
# A day of more hits than this is cleaned and attributed in chunks of addresses (``address_chunks``),
# so that memory follows the chunk, not the busiest day: hits take about 1 KiB each while worked on.
HITS_PER_CHUNK = 100_000
# As ``ipaddress`` reads IPv4: four decimal octets, ASCII digits only, no leading zeros.
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED_QUAD = re.compile(r"\.".join([_OCTET] * 4))


def ipv4_integers(values: Sequence[object]) -> np.ndarray:
    """Each value's IPv4 address as an integer (int64), or ``NOT_IPV4`` where it is not a dotted-quad IPv4 address."""
    integers = np.full(len(values), NOT_IPV4, dtype=np.int64)
    for index, value in enumerate(values):
        quad = _DOTTED_QUAD.fullmatch(value) if isinstance(value, str) else None
        if quad:
            first, second, third, fourth = map(int, quad.groups())
            integers[index] = (first << 24) | (second << 16) | (third << 8) | fourth
    return integers


def in_networks(integers: np.ndarray, networks: Iterable[IPv4Network]) -> np.ndarray:
    """Whether each IPv4 integer (``NOT_IPV4``: never) lies in any of ``networks``."""
    inside = np.zeros(len(integers), dtype=bool)
    for network in networks:
        inside |= (integers >= int(network.network_address)) & (integers <= int(network.broadcast_address))
    return inside


def chunk_count(hits: int, max_hits: int | None = None) -> int:
    """How many chunks a day of ``hits`` hits is worked in: 1 for a day of at most ``max_hits``
    (by default ``HITS_PER_CHUNK``)."""
    return max(1, -(-hits // (max_hits or HITS_PER_CHUNK)))


def address_chunks(ips: pd.Series, chunks: int) -> np.ndarray:
    """Which of ``chunks`` chunks each hit belongs to, by its IP address (missing ones in chunk 0).

    Every hit of an address lands in the same chunk, whichever log or batch it comes from: what is
    judged per address and user agent (bursts, hashed visitors and their visits) sees all of it.
    """
    codes, distinct = pd.factorize(ips)
    chunk_of_distinct = pd.util.hash_array(np.asarray(distinct, dtype=object)) % chunks
    return np.append(chunk_of_distinct, 0)[codes].astype(np.int64)
