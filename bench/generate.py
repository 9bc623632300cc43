"""Seeded benchmark data: an Apache ``combined`` access log of N hits and a demo MaxMind database.

The log is drawn with numpy and written in chunks, so 1M lines take seconds and memory
stays flat at 10M:

- visitors: about ``ip_share`` (3%) of N distinct addresses drawn from the networks of
  the demo MaxMind database (``demo.mmdb.load_demo_networks``), plus a few from space no
  network covers; each visitor keeps one user agent;
- activity per visitor is Zipf-like (a few corporate gateways are busy, most visitors
  come once or twice); about a third of the hits come from bots (crawlers and tools with
  their own user agent from hosting and search-engine networks, plus scrapers posing as
  browsers);
- pages are Zipf-distributed over the demo site's URLs (`demo.site`, which match
  ``config/taxonomy.yaml``) and a long tail of blog posts, with campaign parameters on
  some landings; browsers also fetch static files;
- hits are spread over ``ceil(N / 1M)`` UTC days (at least one) in time order, so a daily
  partition holds about 1M hits at most;
- ``malformed_share`` of the lines are broken (truncated, garbage, impossible clock).

``python -m bench.generate --hits 1000000 --out DIR`` writes ``DIR/access.log``,
``DIR/maxmind/GeoIP2-Enterprise-Demo.mmdb``, ``DIR/ips.tsv`` (each address and its
hits) and ``DIR/summary.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench.log_lines import break_some, clf_clock, combined_lines
from bench.sampling import weighted_choice
from bench.site_requests import BOT_USER_AGENTS, Site, draw_user_agents
from bench.visitor_addresses import Visitors
from demo.mmdb import DEMO_DATABASE_NAME, DemoNetwork, build_demo_database, load_demo_networks

HITS_PER_DAY = 1_000_000
DEFAULT_NETWORKS = 100_000
DEFAULT_SEED = 42
FIRST_DAY = dt.date(2026, 9, 7)
CHUNK_LINES = 200_000

BOT_SHARE = 1 / 3  # of hits
SCRAPER_SHARE = 0.15  # of bot visitors: a browser's user agent


@dataclass(frozen=True)
class Generated:
    """What `generate` wrote and what it drew."""

    log: str
    mmdb: str
    ips_file: str
    hits: int
    days: int
    first_day: str
    last_day: str
    unique_ips: int
    bot_hits: int
    malformed_lines: int
    mmdb_networks: int  # the demo's networks plus the synthetic ones
    unique_urls: int
    unique_user_agents: int
    seed: int
    log_seconds: float
    mmdb_seconds: float


def days_for(hits: int) -> int:
    """One UTC day per million hits (rounded up), at least one."""
    return max(1, math.ceil(hits / HITS_PER_DAY))


def generate(
    out_dir: Path,
    hits: int,
    *,
    seed: int = DEFAULT_SEED,
    networks: int = DEFAULT_NETWORKS,
    ip_share: float = 0.03,
    mmdb_dir: Path | None = None,
    reuse: bool = True,
) -> Generated:
    """Write the log, the per-IP hit counts and a summary into ``out_dir``, the database
    into ``mmdb_dir`` (default ``out_dir/maxmind``).

    With ``reuse``, files an earlier call wrote for the same arguments are kept, so logs
    of several sizes can share one database.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary_file = out_dir / "summary.json"
    mmdb_dir = Path(mmdb_dir) if mmdb_dir else out_dir / "maxmind"
    wanted = {"hits": hits, "seed": seed, "networks": networks, "mmdb": str(mmdb_dir / DEMO_DATABASE_NAME)}
    if reuse and summary_file.exists():
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        fields = Generated.__dataclass_fields__
        if (
            {k: summary.get(k) for k in wanted} == wanted
            and set(fields) <= set(summary)
            and all(Path(summary[k]).exists() for k in ("log", "mmdb", "ips_file"))
        ):
            return Generated(**{k: summary[k] for k in fields})

    mmdb = mmdb_dir / DEMO_DATABASE_NAME
    marker = mmdb_dir / "built-for.json"
    started = time.perf_counter()
    built_for = {"seed": seed, "networks": networks}
    if not (reuse and mmdb.exists() and marker.exists() and json.loads(marker.read_text()) == built_for):
        build_demo_database(mmdb_dir, extra_networks=networks, seed=seed)
        marker.write_text(json.dumps(built_for))
    mmdb_seconds = time.perf_counter() - started

    started = time.perf_counter()
    demo_networks = load_demo_networks(extra_networks=networks, seed=seed)
    log = out_dir / "access.log"
    stats = write_log(log, hits, demo_networks, seed=seed, ip_share=ip_share, ips_file=out_dir / "ips.tsv")
    generated = Generated(
        log=str(log),
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


# --- the log ------------------------------------------------------------------------


def write_log(
    path: Path, hits: int, networks: list[DemoNetwork], *, seed: int, ip_share: float, ips_file: Path
) -> dict[str, object]:
    """Stream ``hits`` lines to ``path``; write each visitor address with its hit count to ``ips_file``."""
    rng = np.random.default_rng(seed)
    days = days_for(hits)
    visitors = Visitors(rng, networks, count=max(20, round(hits * ip_share)))
    site = Site(rng)
    user_agents = draw_user_agents(rng, max(30, hits // 500))
    # Bots keep a bot's user agent, or (scrapers) a browser's; people a browser's.
    n_browser_uas = len(user_agents) - len(BOT_USER_AGENTS)
    visitor_ua = rng.integers(0, n_browser_uas, visitors.count)
    bot_uas = n_browser_uas + rng.integers(0, len(BOT_USER_AGENTS), visitors.count)
    visitor_ua = np.where(visitors.is_bot & (rng.random(visitors.count) >= SCRAPER_SHARE), bot_uas, visitor_ua)

    human_ids, human_p = visitors.pick_weights(bot=False)
    bot_ids, bot_p = visitors.pick_weights(bot=True)
    first_second = (FIRST_DAY - dt.date(1970, 1, 1)).days * 86_400
    seconds_total = days * 86_400
    hit_counts = np.zeros(visitors.count, dtype=np.int64)
    bot_hits = malformed = 0
    urls_seen = np.zeros(len(site.urls), dtype=bool)
    uas_seen = np.zeros(len(user_agents), dtype=bool)

    with path.open("w", encoding="utf-8", newline="\n") as log:
        for start in range(0, hits, CHUNK_LINES):
            n = min(CHUNK_LINES, hits - start)
            # Time order: the chunk's share of the span, sorted uniform seconds inside it.
            t0 = start * seconds_total // hits
            t1 = (start + n) * seconds_total // hits
            seconds = np.sort(rng.integers(t0, max(t1, t0 + 1), n))
            is_bot = rng.random(n) < BOT_SHARE
            visitor = np.where(
                is_bot, bot_ids[weighted_choice(rng, bot_p, n)], human_ids[weighted_choice(rng, human_p, n)]
            )
            url, status, referrer, method = site.draw(rng, is_bot)
            protocol = np.where(is_bot, 0, rng.integers(0, 2, n))
            size = rng.integers(0, len(site.sizes), n)
            ua = visitor_ua[visitor]
            lines = combined_lines(
                visitors.ips[visitor],
                clf_clock(seconds + first_second),
                site.methods[method],
                site.urls[url],
                np.array(["HTTP/1.1", "HTTP/2.0"], dtype=object)[protocol],
                site.statuses[status],
                site.sizes[size],
                site.referrers[referrer],
                user_agents[ua],
            )
            broken = break_some(rng, lines)
            ok = np.ones(n, dtype=bool)
            ok[broken] = False
            np.add.at(hit_counts, visitor[ok], 1)
            bot_hits += int(is_bot.sum())
            malformed += len(broken)
            urls_seen[url] = True
            uas_seen[ua] = True
            log.write("".join(lines.tolist()))

    used = hit_counts > 0
    with ips_file.open("w", encoding="utf-8") as out:
        out.writelines(f"{ip}\t{count}\n" for ip, count in zip(visitors.ips[used].tolist(), hit_counts[used].tolist()))
    last_day = FIRST_DAY + dt.timedelta(days=days - 1)
    return {
        "days": days,
        "first_day": FIRST_DAY.isoformat(),
        "last_day": last_day.isoformat(),
        "unique_ips": int(len(set(visitors.ips[used].tolist()))),
        "bot_hits": bot_hits,
        "malformed_lines": malformed,
        "unique_urls": int(urls_seen.sum()),
        "unique_user_agents": int(uas_seen.sum()),
    }


def read_ip_counts(ips_file: Path) -> tuple[list[str], np.ndarray]:
    """The addresses in the log and their hits (malformed lines not counted), as `write_log` wrote them."""
    ips: list[str] = []
    counts: list[int] = []
    with Path(ips_file).open(encoding="utf-8") as lines:
        for line in lines:
            ip, count = line.rstrip("\n").split("\t")
            ips.append(ip)
            counts.append(int(count))
    # Two visitors may share an address (one IP, two browsers): add them up.
    merged: dict[str, int] = {}
    for ip, count in zip(ips, counts):
        merged[ip] = merged.get(ip, 0) + count
    return list(merged), np.fromiter(merged.values(), dtype=np.int64, count=len(merged))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--networks", type=int, default=DEFAULT_NETWORKS, help="synthetic networks added to the demo's")
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for access.log, maxmind/, ips.tsv, summary.json"
    )
    args = parser.parse_args(argv)
    generated = generate(args.out, args.hits, seed=args.seed, networks=args.networks, reuse=False)
    print(json.dumps(asdict(generated), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
