"""Benchmark: the numpy search-tree walk against a plain maxminddb loop.

    .venv/bin/python -m bench.tree_walk [--hits 1000000] [--repeat 7] [--workdir DIR]

Both answer the same question for a batch of unique IPs: each IP's record (its
edition's column values) and the prefix length of its network.

- walk: the project's `connectors.maxmind.lookup.find_records` (the search tree walked
  with numpy for the whole batch, then one ``reader.get`` per distinct data pointer);
- loop: ``reader.get_with_prefix_len`` per address in address order, skipping every
  address inside the network answered last (so each network is decoded once).

Inputs: the bench's demo ``GeoIP2-Enterprise`` database (`bench.generate`) with the
unique IPs of its log, and each of MaxMind's test databases in ../shared with as many
addresses drawn inside its own networks (the bench's addresses mostly miss those
small files). Parsing the addresses is common to both and not timed. Prints a markdown
table of medians and the loop/walk ratio (above 1: the walk is faster).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import maxminddb
import numpy as np

from bench.generate import DEFAULT_NETWORKS, DEFAULT_SEED, generate, read_ip_counts
from connectors.maxmind.addresses import Addresses, parse_addresses
from connectors.maxmind.editions import EDITIONS
from connectors.maxmind.files import Database, open_database
from connectors.maxmind.lookup import Found, find_records

MAXMIND_TEST_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "maxmind-test-data"
TEST_EDITIONS = (
    "GeoIP2-Enterprise",
    "GeoIP2-ISP",
    "GeoIP2-Domain",
    "GeoIP2-Connection-Type",
    "GeoIP2-Anonymous-IP",
    "GeoLite2-ASN",
    "GeoIP2-Country",
)
KEEP_WALK_AT = 1.5  # loop/walk on the bench's database: the walk must be at least this much faster

Finder = Callable[[Database, list[Any], Addresses], Found]


def loop_records(database: Database, ips: list[Any], addresses: Addresses) -> Found:
    """`find_records`' answer from maxminddb alone, one network at a time."""
    layout = EDITIONS[database.edition]
    get = database.reader.get_with_prefix_len
    records = np.full(len(ips), -1, dtype=np.int64)
    prefixes = np.zeros(len(ips), dtype=np.int64)
    row_of_values: dict[tuple[Any, ...], int] = {}
    for family_rows, packed in addresses.families:
        bits = packed.shape[1] * 8
        numbers = [int.from_bytes(address.tobytes()) for address in packed]
        ip_rows = family_rows.tolist()
        family_records, family_prefixes = [-1] * len(numbers), [0] * len(numbers)
        last_address, row, prefix = -1, -1, 0
        for n in sorted(range(len(numbers)), key=numbers.__getitem__):
            if numbers[n] > last_address:  # past the network answered last
                record, prefix = get(ips[ip_rows[n]])
                last_address = numbers[n] | ((1 << (bits - prefix)) - 1)
                row = row_of_values.setdefault(layout.extract(record), len(row_of_values)) if record else -1
            family_records[n], family_prefixes[n] = row, prefix
        records[family_rows], prefixes[family_rows] = family_records, family_prefixes
    return Found(records, list(row_of_values), prefixes)


def addresses_inside(path: Path, count: int, seed: int) -> list[str]:
    """``count`` distinct addresses in drawing order, each in a network of the database drawn uniformly."""
    rng = random.Random(seed)
    with maxminddb.open_database(path) as reader:
        networks = [network for network, _ in reader]
    capacity = sum(min(network.num_addresses, count) for network in networks)
    drawn: dict[str, None] = {}
    while len(drawn) < min(count, capacity):
        network = rng.choice(networks)
        drawn[str(network[rng.randrange(network.num_addresses)])] = None
    return list(drawn)


def same_answer(walk: Found, loop: Found) -> bool:
    """Whether both give every IP the same values and, where there is a record, the same prefix."""
    walk_values = [walk.rows[i] if i >= 0 else None for i in walk.records.tolist()]
    loop_values = [loop.rows[i] if i >= 0 else None for i in loop.records.tolist()]
    found = walk.records >= 0
    return walk_values == loop_values and bool((walk.prefixes[found] == loop.prefixes[found]).all())


def measure(edition: str, path: Path, ips: list[str], repeat: int) -> tuple[float, float, int]:
    """Median seconds of the walk and of the loop (run alternately), and the database's network count."""
    database = open_database(edition, path)
    try:
        addresses = parse_addresses(ips)
        timings: dict[Finder, list[float]] = {find_records: [], loop_records: []}
        answers = {}
        for _ in range(repeat):
            for finder, seconds in timings.items():
                started = time.perf_counter()
                answers[finder] = finder(database, ips, addresses)
                seconds.append(time.perf_counter() - started)
        if not same_answer(answers[find_records], answers[loop_records]):
            raise SystemExit(f"{path.name}: the walk and the loop disagree")
        networks = sum(1 for _ in database.reader)
    finally:
        database.close()
    return statistics.median(timings[find_records]), statistics.median(timings[loop_records]), networks


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.tree_walk", description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=1_000_000, help="hits in the bench log (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each, medians reported (default 7)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--networks", type=int, default=DEFAULT_NETWORKS, help="synthetic networks in the .mmdb")
    parser.add_argument("--workdir", type=Path, help="generated data, reused (the layout of bench.run --workdir)")
    return parser


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    args = _parser().parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="vi-bench-"))
    try:
        _bench(args, work, out)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _bench(args: argparse.Namespace, work: Path, out: Callable[[str], None]) -> None:
    data = generate(
        work / f"hits-{args.hits}-seed{args.seed}",
        args.hits,
        seed=args.seed,
        networks=args.networks,
        mmdb_dir=work / f"maxmind-seed{args.seed}-networks{args.networks}",
    )
    bench_ips, _ = read_ip_counts(Path(data.ips_file))
    cases = [("GeoIP2-Enterprise", Path(data.mmdb), bench_ips, "the bench log's unique IPs")]
    for edition in TEST_EDITIONS:
        path = MAXMIND_TEST_DATA / f"{edition}-Test.mmdb"
        if path.exists():
            cases.append(
                (edition, path, addresses_inside(path, len(bench_ips), args.seed), "drawn inside its networks")
            )
    out(f"median of {args.repeat} runs each; loop/walk above 1: the walk is faster")
    out("")
    out("| database | networks | IPs (IPv4) | walk s | loop s | loop / walk |")
    out("|---|---:|---:|---:|---:|---:|")
    ratios = []
    for edition, path, ips, drawn in cases:
        walk, loop, networks = measure(edition, path, ips, args.repeat)
        ratios.append(loop / walk)
        ipv4 = sum(":" not in ip for ip in ips)
        out(
            f"| {path.name} ({drawn}) | {networks:,} | {len(ips):,} ({ipv4:,}) "
            f"| {walk:.4f} | {loop:.4f} | {loop / walk:.2f} |"
        )
    out("")
    verdict = "keep the walk" if ratios[0] >= KEEP_WALK_AT else "use the loop"
    out(f"bench database: the walk is {ratios[0]:.2f}x the loop's speed (threshold {KEEP_WALK_AT}x): {verdict}")


if __name__ == "__main__":
    raise SystemExit(main())
