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
import ipaddress
import json
import math
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from demo.mmdb import DEMO_DATABASE_NAME, DemoNetwork, build_demo_database, load_demo_networks
from demo.site import (
    APP,
    ASSETS,
    CAREERS,
    DEVELOPER,
    FAVICON,
    MARKETING,
    MISSING,
    RU_AWARENESS,
    RU_CONSIDERATION,
    SCANNER_PROBES,
    SITE,
    UNTAGGED,
)
from demo.visitors import DESKTOP, GOOGLEBOT, MOBILE, SCRIPTS, UPTIME_MONITOR

HITS_PER_DAY = 1_000_000
DEFAULT_NETWORKS = 100_000
DEFAULT_SEED = 42
FIRST_DAY = dt.date(2026, 9, 7)
CHUNK_LINES = 200_000

BOT_SHARE = 1 / 3  # of hits
BOT_VISITOR_SHARE = 0.04  # of visitors: few bots, many hits each
SCRAPER_SHARE = 0.15  # of bot visitors: a browser's user agent
UNKNOWN_VISITOR_SHARE = 0.01  # of human visitors: addresses no network covers
TARGET_VISITOR_SHARE = 0.01  # of human visitors: from the listed (named) company networks
STATIC_SHARE = 0.25  # of human hits: scripts, styles, images
CAMPAIGN_SHARE = 0.05  # of human page hits: ?utm_... on the URL
MALFORMED_SHARE = 0.002
VISITOR_ZIPF = 0.8
PAGE_ZIPF = 1.1

_BOT_USER_AGENTS = (
    *GOOGLEBOT,
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    UPTIME_MONITOR,
    *SCRIPTS,
    "Wget/1.21.4",
    "Apache-HttpClient/4.5.14 (Java/17.0.9)",
)
_STATIC = (
    *(asset for asset, _ in ASSETS),
    FAVICON[0],
    "/static/fonts/inter-var.woff2",
    "/img/hero-routes.webp",
    "/static/vendor.js",
)
_REFERRERS = (
    "-",
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://www.linkedin.com/",
    "https://yandex.ru/",
)
_CAMPAIGNS = (
    "?utm_source=linkedin&utm_medium=social&utm_campaign=route-planning-2026",
    "?utm_source=newsletter&utm_medium=email&utm_campaign=october-digest",
    "?utm_source=google&utm_medium=cpc&utm_campaign=brand",
    "?gclid=Cj0KCQjw",
)
_BLOG_TOPICS = ("route", "last-mile", "delivery", "fleet", "telematics", "fuel", "warehouse", "inventory", "logistics")
_LANDINGS = 60  # the most read pages are where campaigns land
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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
    visitors = _Visitors(rng, networks, count=max(20, round(hits * ip_share)))
    site = _Site(rng)
    user_agents = _user_agents(rng, max(30, hits // 500))
    # Bots keep a bot's user agent, or (scrapers) a browser's; people a browser's.
    n_browser_uas = len(user_agents) - len(_BOT_USER_AGENTS)
    visitor_ua = rng.integers(0, n_browser_uas, visitors.count)
    bot_uas = n_browser_uas + rng.integers(0, len(_BOT_USER_AGENTS), visitors.count)
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
            visitor = np.where(is_bot, bot_ids[_choice(rng, bot_p, n)], human_ids[_choice(rng, human_p, n)])
            url, status, referrer, method = site.draw(rng, is_bot)
            protocol = np.where(is_bot, 0, rng.integers(0, 2, n))
            size = rng.integers(0, len(site.sizes), n)
            ua = visitor_ua[visitor]
            lines = _format(
                visitors.ips[visitor],
                _clock(seconds + first_second),
                site.methods[method],
                site.urls[url],
                np.array(["HTTP/1.1", "HTTP/2.0"], dtype=object)[protocol],
                site.statuses[status],
                site.sizes[size],
                site.referrers[referrer],
                user_agents[ua],
            )
            broken = _break_some(rng, lines)
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


def _choice(rng: np.random.Generator, p_cumulative: np.ndarray, n: int) -> np.ndarray:
    """Indices drawn with the probabilities whose running sum is ``p_cumulative``."""
    return np.minimum(np.searchsorted(p_cumulative, rng.random(n), side="right"), len(p_cumulative) - 1)


def _zipf_cumulative(count: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** exponent
    cumulative = np.cumsum(weights)
    return cumulative / cumulative[-1]


class _Visitors:
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
            addresses[mask] = _addresses_in(rng, pool, int(mask.sum()))
        addresses[unknown] = _uncovered_addresses(rng, networks, int(unknown.sum()))
        self.ips = np.array([socket.inet_ntoa(int(a).to_bytes(4, "big")) for a in addresses.tolist()], dtype=object)

    def pick_weights(self, *, bot: bool) -> tuple[np.ndarray, np.ndarray]:
        """Visitor ids of one kind in a seeded order, and the running sum of their Zipf weights."""
        ids = np.flatnonzero(self.is_bot == bot)
        return ids, _zipf_cumulative(len(ids), VISITOR_ZIPF)


def _addresses_in(rng: np.random.Generator, pool: list[DemoNetwork], count: int) -> np.ndarray:
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


class _Site:
    """The demo site's URLs (Zipf-ranked), static files, statuses, sizes and referrers."""

    def __init__(self, rng: np.random.Generator) -> None:
        pages = list(
            dict.fromkeys(
                (
                    "/",
                    "/pricing",
                    "/product/route-optimizer",
                    *MARKETING,
                    *DEVELOPER,
                    *RU_AWARENESS,
                    *RU_CONSIDERATION,
                    "/ru/pricing",
                    *CAREERS,
                    *APP,
                    *UNTAGGED,
                    *MISSING,
                )
            )
        )
        # The long tail: a blog archive that taxonomy rules still tag by topic words.
        words = rng.choice(_BLOG_TOPICS, 2_000)
        pages += [f"/blog/{word}-notes-{n}" for n, word in enumerate(words.tolist())]
        self.n_pages = len(pages)
        self.page_p = _zipf_cumulative(self.n_pages, PAGE_ZIPF)
        static_first = self.n_pages
        campaign_first = static_first + len(_STATIC)
        landings = pages[:_LANDINGS]
        campaign_urls = [page + campaign for page in landings for campaign in _CAMPAIGNS]
        crawler_extra = ["/robots.txt", "/sitemap.xml", *SCANNER_PROBES]
        self.crawler_first = campaign_first + len(campaign_urls)
        self.urls = np.array([*pages, *_STATIC, *campaign_urls, *crawler_extra], dtype=object)
        self.static_first, self.campaign_first = static_first, campaign_first
        self.n_campaigns = len(campaign_urls)
        missing = set(MISSING) | set(SCANNER_PROBES)
        self.url_missing = np.array([u in missing for u in self.urls.tolist()])
        self.statuses = np.array(["200", "304", "404", "301", "500"], dtype=object)
        self.sizes = np.array([str(s) for s in rng.integers(300, 80_000, 4_096).tolist()], dtype=object)
        self.methods = np.array(["GET", "HEAD", "POST"], dtype=object)
        self.n_fixed_referrers = len(_REFERRERS)
        self.referrers = np.array([*_REFERRERS, *(SITE + page for page in pages[:200])], dtype=object)

    def draw(self, rng: np.random.Generator, is_bot: np.ndarray) -> tuple[np.ndarray, ...]:
        n = len(is_bot)
        url = _choice(rng, self.page_p, n)
        roll = rng.random(n)
        static = ~is_bot & (roll < STATIC_SHARE)
        url = np.where(static, self.static_first + rng.integers(0, len(_STATIC), n), url)
        campaign = ~is_bot & ~static & (roll > 1 - CAMPAIGN_SHARE) & (url < _LANDINGS)
        with_campaign = self.campaign_first + url * len(_CAMPAIGNS) + rng.integers(0, len(_CAMPAIGNS), n)
        url = np.where(campaign, with_campaign, url)
        crawler_files = is_bot & (roll < 0.05)
        url = np.where(crawler_files, self.crawler_first + rng.integers(0, len(self.urls) - self.crawler_first, n), url)

        status = np.zeros(n, dtype=np.int64)  # 200
        status[static & (rng.random(n) < 0.3)] = 1  # 304 from the browser cache
        rare = rng.random(n)
        status[rare < 0.004] = 3  # 301
        status[rare > 0.9995] = 4  # 500
        status[self.url_missing[url]] = 2  # 404

        referrer = np.zeros(n, dtype=np.int64)  # "-"
        people = ~is_bot
        source = rng.random(n)
        referrer[people & (source < 0.25)] = 1
        referrer[people & (source >= 0.25) & (source < 0.3)] = 2
        referrer[people & (source >= 0.3) & (source < 0.33)] = 3
        referrer[people & (source >= 0.33) & (source < 0.35)] = 4
        internal = people & (source >= 0.6)
        referrer[internal] = (
            self.n_fixed_referrers + rng.integers(0, len(self.referrers) - self.n_fixed_referrers, n)[internal]
        )

        method = np.zeros(n, dtype=np.int64)  # GET
        method[is_bot & (rare > 0.98)] = 1  # HEAD
        method[people & ~static & (rare > 0.995)] = 2  # POST
        return url, status, referrer, method


def _user_agents(rng: np.random.Generator, browsers: int) -> np.ndarray:
    """``browsers`` browser user agents (real templates, varied build numbers), then the bots'."""
    templates = (*DESKTOP, *MOBILE)
    agents = []
    for n in range(browsers):
        template = templates[n % len(templates)]
        major = int(rng.integers(118, 132))
        build = f"{major}.0.{int(rng.integers(5000, 6800))}.{int(rng.integers(0, 200))}"
        agents.append(template.replace("130.0.0.0", build).replace("131.0", f"{major}.0", 1))
    return np.array([*dict.fromkeys(agents), *_BOT_USER_AGENTS], dtype=object)


def _clock(epoch_seconds: np.ndarray) -> np.ndarray:
    """``07/Sep/2026:13:04:59 +0000`` for each second (formatted once per distinct second)."""
    distinct, inverse = np.unique(epoch_seconds, return_inverse=True)
    texts = []
    for second in distinct.tolist():
        moment = dt.datetime.fromtimestamp(second, dt.UTC)
        texts.append(
            f"{moment.day:02d}/{_MONTHS[moment.month - 1]}/{moment.year}:"
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} +0000"
        )
    return np.array(texts, dtype=object)[inverse]


def _format(ip, clock, method, url, protocol, status, size, referrer, user_agent) -> np.ndarray:
    """Apache ``combined`` lines, vectorised (object arrays of str concatenate element-wise)."""
    return (
        ip
        + " - - ["
        + clock
        + '] "'
        + method
        + " "
        + url
        + " "
        + protocol
        + '" '
        + status
        + " "
        + size
        + ' "'
        + referrer
        + '" "'
        + user_agent
        + '"\n'
    )


def _break_some(rng: np.random.Generator, lines: np.ndarray) -> np.ndarray:
    """Break ``MALFORMED_SHARE`` of the lines in place the ways real logs break; returns their indices."""
    n = len(lines)
    broken = np.flatnonzero(rng.random(n) < MALFORMED_SHARE)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789{}[]<>|#%&*~ "
    for index, how in zip(broken.tolist(), rng.random(len(broken)).tolist()):
        line = lines[index]
        if how < 0.5:  # the writer died mid-line
            lines[index] = line[: int(len(line) * (0.2 + 0.6 * how))] + "\n"
        elif how < 0.8:  # bytes that were never a log line
            lines[index] = "".join(rng.choice(list(alphabet), int(rng.integers(8, 120)))) + "\n"
        else:  # a clock that cannot exist
            clock = line.index("[") + 12  # after "[07/Sep/2026"
            lines[index] = line[:clock] + ":25:61:61" + line[clock + 9 :]
    return broken


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
