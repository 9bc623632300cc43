"""IPv4 in bulk reads and places addresses exactly as Python's ``ipaddress`` does."""

from __future__ import annotations

import ipaddress

import numpy as np
import pandas as pd
import pytest

from enrichment.addresses import NOT_IPV4, address_chunks, chunk_count, in_networks, ipv4_integers
from enrichment.cleaning import clean_hits

TEXTS = [
    "81.130.50.10",
    "0.0.0.0",
    "255.255.255.255",
    "01.2.3.4",  # leading zero: ipaddress refuses it
    "1.2.3.256",
    "1.2.3",
    "1.2.3.4.5",
    " 1.2.3.4",
    "1.2.3.4 ",
    "١.2.3.4",  # an Arabic-Indic digit
    "::ffff:1.2.3.4",
    "2001:db8::1",
    "",
    "-",
    "not an ip",
]


def _ipaddress_integer(text: str) -> int:
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError:
        return NOT_IPV4


@pytest.mark.parametrize("text", TEXTS)
def test_ipv4_integers_read_what_ipaddress_reads(text: str) -> None:
    assert ipv4_integers([text]).tolist() == [_ipaddress_integer(text)]


def test_missing_values_are_not_ipv4() -> None:
    assert ipv4_integers([None, float("nan")]).tolist() == [NOT_IPV4, NOT_IPV4]


def test_in_networks_includes_both_ends_and_nothing_beyond() -> None:
    network = ipaddress.IPv4Network("10.1.2.0/24")
    first, last = int(network.network_address), int(network.broadcast_address)
    integers = np.array([first - 1, first, last, last + 1, NOT_IPV4])
    assert in_networks(integers, [network]).tolist() == [False, True, True, False, False]


def _edges_of_special_networks() -> list[str]:
    """Each address just inside and just outside every network ipaddress treats specially."""
    constants = ipaddress.IPv4Address._constants  # the tables is_global and is_private read
    networks = [*constants._private_networks, constants._public_network, constants._multicast_network]
    networks += [ipaddress.IPv4Network("100.64.0.0/10"), ipaddress.IPv4Network("192.0.0.0/24")]
    edges = set()
    for network in networks:
        first, last = int(network.network_address), int(network.broadcast_address)
        edges.update(value for value in (first - 1, first, last, last + 1) if 0 <= value < 2**32)
    edges.update(int(ipaddress.IPv4Address("192.0.0.0")) + offset for offset in range(256))
    return [str(ipaddress.IPv4Address(value)) for value in sorted(edges)]


def test_private_addresses_are_the_ones_ipaddress_calls_not_global_or_multicast() -> None:
    rng = np.random.default_rng(7)
    ips = _edges_of_special_networks() + [str(ipaddress.IPv4Address(int(v))) for v in rng.integers(0, 2**32, 20_000)]
    hits = pd.DataFrame(
        {
            "timestamp": pd.Timestamp("2026-10-05 09:00", tz="UTC"),
            "ip": pd.Series(ips, dtype="str"),
            "method": "GET",
            "url": "/pricing",
            "status": 200,
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        }
    )
    dropped = (clean_hits(hits)["drop_reason"] == "private_address").tolist()
    expected = [not (ipaddress.ip_address(ip).is_global and not ipaddress.ip_address(ip).is_multicast) for ip in ips]
    assert dropped == expected


def test_an_address_falls_in_the_same_chunk_whichever_batch_it_comes_in() -> None:
    first = pd.Series(["198.51.100.10", "203.0.113.5", None, "2001:db8::1", "198.51.100.10"], dtype="str")
    second = pd.Series(["2001:db8::1", "192.0.2.7", "198.51.100.10", "203.0.113.5"], dtype="str")

    in_first = dict(zip(first, address_chunks(first, 3)))
    in_second = dict(zip(second, address_chunks(second, 3)))

    assert {ip: in_first[ip] for ip in in_second if ip in in_first} == {
        ip: in_second[ip] for ip in in_second if ip in in_first
    }
    assert set(in_first.values()) | set(in_second.values()) <= {0, 1, 2}
    assert address_chunks(first, 3)[2] == 0  # a missing address


def test_a_day_is_one_chunk_up_to_the_limit_and_more_chunks_beyond() -> None:
    assert [chunk_count(hits, 100) for hits in (0, 1, 100, 101, 250)] == [1, 1, 1, 2, 3]
