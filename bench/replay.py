"""A multi-day benchmark log replayed from a real Apache log (``--shape replay``).

The real log (``../shared/sample-hits/apache-combined_basjes-hackers-access.log``, 3,456
lines over six days) is written again and again until the log holds N hits:

- every line keeps its request, status, size, referrer and user agent byte for byte;
- each replay round moves the source's clock into its own slice of the span (at least
  ``MIN_DAYS`` UTC days, one more per million hits past 10M), in time order, keeping the
  source's gaps in proportion;
- each (source address, round) becomes one visitor address drawn from the demo MaxMind
  database's networks, deterministically from the seed: a pool of ``max(MIN_UNIQUE_IPS,
  N * IP_SHARE)`` addresses is used round-robin, so visitors keep their sessions inside
  a round and the log has tens of thousands of unique IPs.

It writes the same files as `bench.generate` (``access.log``, ``ips.tsv``,
``summary.json``) and returns its `Generated`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from bench.generate import CHUNK_LINES, FIRST_DAY, Generated
from bench.log_lines import clf_clock
from bench.visitor_addresses import addresses_in
from demo.mmdb import DEMO_DATABASE_NAME, build_demo_database, load_demo_networks

SOURCE_LOG = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "sample-hits"
    / ("apache-combined_basjes-hackers-access.log")
)
MIN_DAYS = 11
MIN_UNIQUE_IPS = 45_000
IP_SHARE = 0.02  # of hits, for logs past a few million hits
_LINE = re.compile(r"^(\S+)( .*?\[)([^\]]+)(\].*)$")
_BOT = re.compile(r"bot|crawl|spider|slurp|curl|wget|python|java|libwww", re.IGNORECASE)


def replay_days(hits: int) -> int:
    """``MIN_DAYS`` UTC days, one more per million hits past ten million."""
    return max(MIN_DAYS, -(-hits // 1_000_000))


def generate_replay(
    out_dir: Path, hits: int, *, seed: int, networks: int, mmdb_dir: Path, source: Path = SOURCE_LOG
) -> Generated:
    """Write the replayed log of ``hits`` lines into ``out_dir`` (reused when an earlier call wrote it)
    and the demo database into ``mmdb_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary_file = out_dir / "summary.json"
    mmdb = mmdb_dir / DEMO_DATABASE_NAME
    wanted = {"hits": hits, "seed": seed, "networks": networks, "mmdb": str(mmdb), "shape": "replay"}
    if summary_file.exists():
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        if {k: summary.get(k) for k in wanted} == wanted and Path(summary["log"]).exists():
            return Generated(**{k: summary[k] for k in Generated.__dataclass_fields__})

    started = time.perf_counter()
    marker = mmdb_dir / "built-for.json"
    built_for = {"seed": seed, "networks": networks}
    if not (mmdb.exists() and marker.exists() and json.loads(marker.read_text()) == built_for):
        build_demo_database(mmdb_dir, extra_networks=networks, seed=seed)
        marker.write_text(json.dumps(built_for))
    mmdb_seconds = time.perf_counter() - started

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    demo_networks = load_demo_networks(extra_networks=networks, seed=seed)
    v4 = [n for n in demo_networks if n.network.version == 4]
    pool = np.unique(addresses_in(rng, v4, max(MIN_UNIQUE_IPS, int(hits * IP_SHARE))))
    pool = pool[rng.permutation(len(pool))]
    stats = _write(out_dir, hits, _read_source(source), pool)
    generated = Generated(
        log=str(out_dir / "access.log"),
        mmdb=str(mmdb),
        ips_file=str(out_dir / "ips.tsv"),
        hits=hits,
        seed=seed,
        mmdb_networks=len(demo_networks),
        log_seconds=time.perf_counter() - started,
        mmdb_seconds=mmdb_seconds,
        **stats,
    )
    summary_file.write_text(json.dumps({**asdict(generated), **wanted}, indent=2), encoding="utf-8")
    return generated


def _read_source(source: Path) -> dict[str, np.ndarray]:
    """The source's lines split around address and clock, with each line's second since its first."""
    addresses, heads, tails, seconds = [], [], [], []
    for line in source.read_text(encoding="utf-8", errors="replace").splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        address, head, clock, tail = match.groups()
        addresses.append(address)
        heads.append(head)
        tails.append(tail + "\n")
        seconds.append(dt.datetime.strptime(clock, "%d/%b/%Y:%H:%M:%S %z").timestamp())
    offsets = np.array(seconds) - min(seconds)
    order = np.argsort(offsets, kind="stable")
    _, visitor = np.unique(np.array(addresses, dtype=object)[order], return_inverse=True)
    return {
        "visitor": visitor,
        "head": np.array(heads, dtype=object)[order],
        "tail": np.array(tails, dtype=object)[order],
        "offset": offsets[order] / (offsets.max() + 1.0),  # [0, 1) of the source's span
        "is_bot": np.array([bool(_BOT.search(t.rsplit('"', 3)[-2])) for t in tails], dtype=bool)[order],
    }


def _write(out_dir: Path, hits: int, source: dict[str, np.ndarray], pool: np.ndarray) -> dict[str, object]:
    """Stream the rounds to ``access.log``; write each address's hits to ``ips.tsv``."""
    size = len(source["head"])
    rounds = -(-hits // size)
    visitors = int(source["visitor"].max()) + 1
    days = replay_days(hits)
    first_second = (FIRST_DAY - dt.date(1970, 1, 1)).days * 86_400
    round_seconds = days * 86_400 / rounds
    hit_counts = np.zeros(len(pool), dtype=np.int64)
    bot_hits = 0
    with (out_dir / "access.log").open("w", encoding="utf-8", newline="\n") as log:
        for start in range(0, hits, CHUNK_LINES):
            index = np.arange(start, min(start + CHUNK_LINES, hits))
            round_, line = np.divmod(index, size)
            address = (source["visitor"][line] + round_ * visitors) % len(pool)
            seconds = first_second + ((round_ + source["offset"][line]) * round_seconds).astype(np.int64)
            ips = np.array([socket.inet_ntoa(int(a).to_bytes(4, "big")) for a in pool[address].tolist()], dtype=object)
            log.write("".join((ips + source["head"][line] + clf_clock(seconds) + source["tail"][line]).tolist()))
            np.add.at(hit_counts, address, 1)
            bot_hits += int(source["is_bot"][line].sum())
    used = np.flatnonzero(hit_counts)
    with (out_dir / "ips.tsv").open("w", encoding="utf-8") as out:
        out.writelines(f"{socket.inet_ntoa(int(pool[i]).to_bytes(4, 'big'))}\t{hit_counts[i]}\n" for i in used.tolist())
    covered = min(hits, size)
    return {
        "days": days,
        "first_day": FIRST_DAY.isoformat(),
        "last_day": (FIRST_DAY + dt.timedelta(days=days - 1)).isoformat(),
        "unique_ips": len(used),
        "bot_hits": bot_hits,
        "malformed_lines": 0,
        "unique_urls": len({h.split('"', 1)[1].split(" ")[1] for h in source["tail"][:covered].tolist() if '"' in h}),
        "unique_user_agents": len({t.rsplit('"', 3)[-2] for t in source["tail"][:covered].tolist()}),
    }
