"""IP address text to packed bytes, and networks back to ``first-address/prefix`` text, in bulk."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Strictly written IPv4, as inet_pton reads it: four decimal octets, no leading zeros.
_IPV4_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_STRICT_IPV4 = rf"^(?:{_IPV4_OCTET}\.){{3}}{_IPV4_OCTET}$"

# The decimal text of 0-255: Arrow spells IPv4 networks from it, a byte at a time.
_DECIMAL = pa.array([str(number) for number in range(256)])


@dataclass(frozen=True)
class Addresses:
    """Which of some IPs are addresses: their row numbers and packed bytes, per family."""

    valid: np.ndarray  # bool per IP
    ipv4_rows: np.ndarray
    ipv4: np.ndarray  # uint8, one row of 4 bytes per address
    ipv6_rows: np.ndarray
    ipv6: np.ndarray  # uint8, one row of 16 bytes per address

    @property
    def families(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """``(rows, packed)`` of the IPv4 addresses, then of the IPv6 ones."""
        return (self.ipv4_rows, self.ipv4), (self.ipv6_rows, self.ipv6)


def parse_addresses(ips: list[Any]) -> Addresses:
    """The strictly written IPv4/IPv6 addresses among ``ips``.

    maxminddb also accepts inet_aton shorthand ("1.2.3", "16908291", "010.0.0.1"),
    which in a log field is garbage, not an address; inet_pton does not, nor does
    `_STRICT_IPV4`. IPv4, nearly all of a log, is parsed by Arrow in one pass.
    """
    texts = pa.array([ip if isinstance(ip, str) else None for ip in ips], type=pa.string())
    is_ipv4 = pc.match_substring_regex(texts, _STRICT_IPV4).fill_null(False)
    octets = pc.list_flatten(pc.split_pattern(texts.filter(is_ipv4), ".")).cast(pa.uint8())
    ipv4_rows = np.flatnonzero(is_ipv4.to_numpy(zero_copy_only=False))
    has_colon = pc.match_substring(texts, ":").fill_null(False)
    candidates = np.flatnonzero(has_colon.to_numpy(zero_copy_only=False))
    packed = [_packed_ipv6(ips[row]) for row in candidates.tolist()]
    ipv6_rows = candidates[np.array([address is not None for address in packed], dtype=bool)]
    valid = np.zeros(len(ips), dtype=bool)
    valid[ipv4_rows] = valid[ipv6_rows] = True
    return Addresses(
        valid,
        ipv4_rows,
        octets.to_numpy().reshape(-1, 4),
        ipv6_rows,
        np.frombuffer(b"".join(filter(None, packed)), dtype=np.uint8).reshape(-1, 16),
    )


def _packed_ipv6(ip: str) -> bytes | None:
    try:
        return socket.inet_pton(socket.AF_INET6, ip)
    except (OSError, ValueError):
        return None


def networks_text(addresses: Addresses, prefixes: np.ndarray) -> pa.Array:
    """``first-address/prefix`` of each IP's network; null where its prefix is -1."""
    found = prefixes[addresses.ipv4_rows] >= 0
    ipv4_rows = addresses.ipv4_rows[found]
    ipv4_prefixes = prefixes[ipv4_rows]
    host_bits = 32 - ipv4_prefixes
    first = addresses.ipv4[found].view(">u4").reshape(-1).astype(np.int64) >> host_bits << host_bits
    # Formatting in Python would cost more than the lookup itself.
    octets = [_DECIMAL.take(first >> shift & 0xFF) for shift in (24, 16, 8, 0)]
    addresses_text = pc.binary_join_element_wise(*octets, ".")
    ipv4 = pc.binary_join_element_wise(addresses_text, _DECIMAL.take(ipv4_prefixes), "/")
    found = prefixes[addresses.ipv6_rows] >= 0
    ipv6_rows = addresses.ipv6_rows[found]
    ipv6 = [
        _network_text(address.tobytes(), prefix)
        for address, prefix in zip(addresses.ipv6[found], prefixes[ipv6_rows].tolist())
    ]
    texts = pa.concat_arrays([ipv4, pa.array(ipv6, pa.string()), pa.nulls(1, pa.string())])
    positions = np.full(len(prefixes), len(texts) - 1)
    positions[ipv4_rows] = np.arange(len(ipv4_rows))
    positions[ipv6_rows] = len(ipv4_rows) + np.arange(len(ipv6_rows))
    return texts.take(positions)


def _network_text(address: bytes, prefix: int) -> str:
    """``first-address/prefix`` of the IPv6 network of ``prefix`` bits holding ``address``."""
    host_bits = 128 - prefix
    first = int.from_bytes(address) >> host_bits << host_bits
    return f"{socket.inet_ntop(socket.AF_INET6, first.to_bytes(16))}/{prefix}"
