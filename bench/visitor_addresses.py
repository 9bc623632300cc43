"""The benchmark's visitors: addresses in the demo database's networks (people and bots), a few outside them."""

from __future__ import annotations

import ipaddress
import socket

import numpy as np

from bench.sampling import zipf_cumulative
from demo.mmdb import DemoNetwork

BOT_VISITOR_SHARE = 0.04  # of visitors: few bots, many hits each
UNKNOWN_VISITOR_SHARE = 0.01  # of human visitors: addresses no network covers
TARGET_VISITOR_SHARE = 0.01  # of human visitors: from the listed (named) company networks
VISITOR_ZIPF = 0.8


class Visitors:
    """Visitor addresses from the database's networks: people from access and company
    networks, bots from hosting and search-engine networks."""

    def __init__(self, rng: np.random.Generator, networks: list[DemoNetwork], *, count: int) -> None:
        self.count = count
        bots = max(5, round(count * BOT_VISITOR_SHARE))
        self.is_bot = np.zeros(count, dtype=bool)
        self.is_bot[rng.choice(count, bots, replace=False)] = True
        v4 = [n for n in networks if n.network.version == 4]
        bot_networks = [n for n in v4 if n.user_type in ("hosting", "search_engine_spider") or n.is_hosting_provider]
        bot_set = set(bot_networks)
        human_networks = [n for n in v4 if n not in bot_set]
        listed = [n for n in human_networks if n.user_type == "business" and n.network.prefixlen >= 24][:20]
        addresses = np.empty(count, dtype=np.uint32)
        kind = rng.random(count)
        humans = ~self.is_bot
        unknown = humans & (kind < UNKNOWN_VISITOR_SHARE)
        targeted = humans & ~unknown & (kind < UNKNOWN_VISITOR_SHARE + TARGET_VISITOR_SHARE)
        for mask, pool in (
            (self.is_bot, bot_networks),
            (humans & ~unknown & ~targeted, human_networks),
            (targeted, listed or human_networks),
        ):
            addresses[mask] = addresses_in(rng, pool, int(mask.sum()))
        addresses[unknown] = _uncovered_addresses(rng, networks, int(unknown.sum()))
        self.ips = np.array([socket.inet_ntoa(int(a).to_bytes(4, "big")) for a in addresses.tolist()], dtype=object)

    def pick_weights(self, *, bot: bool) -> tuple[np.ndarray, np.ndarray]:
        """Visitor ids of one kind in a seeded order, and the running sum of their Zipf weights."""
        ids = np.flatnonzero(self.is_bot == bot)
        return ids, zipf_cumulative(len(ids), VISITOR_ZIPF)


def addresses_in(rng: np.random.Generator, pool: list[DemoNetwork], count: int) -> np.ndarray:
    """``count`` host addresses (not the network or broadcast address), each in a random network of ``pool``."""
    bases = np.array([int(n.network.network_address) for n in pool], dtype=np.uint64)
    sizes = np.array([n.network.num_addresses for n in pool], dtype=np.uint64)
    pick = rng.integers(0, len(pool), count)
    span = np.maximum(sizes[pick], 3) - 2
    offsets = 1 + (rng.random(count) * span).astype(np.uint64)
    return (bases[pick] + offsets).astype(np.uint32)


def _uncovered_addresses(rng: np.random.Generator, networks: list[DemoNetwork], count: int) -> np.ndarray:
    """Public addresses outside every network of the database (MaxMind has no record)."""
    taken = set()
    for n in networks:
        if n.network.version == 4:
            first = int(n.network.network_address) >> 8
            taken.update(range(first, (int(n.network.broadcast_address) >> 8) + 1))
    chosen: list[int] = []
    while len(chosen) < count:
        slash24 = int(rng.integers(1 << 24))
        address = (slash24 << 8) | int(rng.integers(1, 255))
        if slash24 not in taken and ipaddress.IPv4Address(address).is_global:
            chosen.append(address)
    return np.array(chosen, dtype=np.uint32)
