"""Cleaning: set aside hits that are not a person reading a page, each with the reason why.

Every hit gets at most one ``drop_reason``, the first of these that applies:

``private_address``  the IP is not a public unicast address (private, loopback, link-local,
                     shared/CGNAT, documentation, reserved, multicast, unspecified), not an IP,
                     or missing (a log line that names no client)
``own_office``       the IP is in one of our ``office_networks``
``not_a_page``       the method is neither GET nor POST, the status is 400 or above, or it
                     is a redirect (3xx but 304): the page it points to is the page view,
                     counting both would read one page twice (a missing method or status is
                     fine: many exports have neither; 304 is a page served from cache)
``static_asset``     a file the browser fetches for a page (scripts, styles, images, fonts,
                     video) or a machine file (robots.txt, sitemaps, /.well-known/). PDFs are
                     kept: whitepapers and data sheets are content people read
``bot_user_agent``   a known crawler, tool or library (crawlerdetect), or no user agent at
                     all: every browser sends one
``bot_behaviour``    an IP + user agent that, somewhere in the input, requested more than
                     ``max_pages_per_minute`` pages within 60 seconds; all its hits in the
                     input are dropped, since a scraper with a browser's user agent does not
                     become a reader between bursts

Work is done per unique IP, URL and user agent; the burst check is one sort.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from crawlerdetect import CrawlerDetect

from enrichment.addresses import NOT_IPV4, in_networks, ipv4_integers

PRIVATE_ADDRESS = "private_address"
OWN_OFFICE = "own_office"
NOT_A_PAGE = "not_a_page"
STATIC_ASSET = "static_asset"
BOT_USER_AGENT = "bot_user_agent"
BOT_BEHAVIOUR = "bot_behaviour"
DROP_REASONS = (PRIVATE_ADDRESS, OWN_OFFICE, NOT_A_PAGE, STATIC_ASSET, BOT_USER_AGENT, BOT_BEHAVIOUR)
"""Drop reasons in the order they are checked."""

STATIC_EXTENSIONS = (
    "js",
    "mjs",
    "css",
    "map",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "svg",
    "ico",
    "webp",
    "avif",
    "woff",
    "woff2",
    "ttf",
    "otf",
    "eot",
    "mp4",
    "webm",
)
PAGE_METHODS = frozenset({"GET", "POST"})
FIRST_ERROR_STATUS = 400
NOT_MODIFIED = 304
BURST_WINDOW = np.timedelta64(60, "s")

_MACHINE_FILES = re.compile(r"^/(?:robots\.txt|sitemap[\w-]*\.xml|\.well-known/)", re.IGNORECASE)
_MISSING_USER_AGENTS = frozenset({"", "-"})  # log formats write "-" for an absent header
# The IPv4 networks that are not public unicast: what ``ipaddress`` calls not global, and multicast.
_NOT_PUBLIC_IPV4 = [
    ipaddress.IPv4Network(network)
    for network in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
]
# Mixed, and mixed differently by each Python release (IANA's table changed): asked address by address.
_ASK_IPADDRESS_IPV4 = [ipaddress.IPv4Network("192.0.0.0/24")]


def clean_hits(
    hits: pd.DataFrame,
    *,
    office_networks: Sequence[str] = (),
    max_pages_per_minute: int = 30,
    static_extensions: Sequence[str] = STATIC_EXTENSIONS,
) -> pd.DataFrame:
    """The hits with a ``drop_reason`` column: one of DROP_REASONS, or missing for a hit that is kept.

    ``hits`` needs ``timestamp, ip, method, url, status, user_agent``; other columns pass through.
    """
    if max_pages_per_minute < 1:
        raise ValueError(f"max_pages_per_minute must be at least 1, not {max_pages_per_minute}")
    offices = [ipaddress.ip_network(network, strict=False) for network in office_networks]
    extensions = frozenset(extension.lower().lstrip(".") for extension in static_extensions)
    checks = [
        (PRIVATE_ADDRESS, hits["ip"].isna() | _not_public(hits["ip"])),
        (OWN_OFFICE, _in_offices(hits["ip"], offices)),
        (NOT_A_PAGE, _not_a_page(hits)),
        (STATIC_ASSET, _per_unique(hits["url"], lambda url: _is_static(url, extensions))),
        (BOT_USER_AGENT, _bot_user_agents(hits["user_agent"])),
    ]
    reasons = pd.Series(None, index=hits.index, dtype="str")
    for reason, applies in checks:
        reasons = reasons.mask(reasons.isna() & applies, reason)
    in_burst = _in_burst(hits[reasons.isna()], max_pages_per_minute).reindex(hits.index, fill_value=False)
    return hits.assign(drop_reason=reasons.mask(in_burst, BOT_BEHAVIOUR))


def drop_counts(cleaned: pd.DataFrame) -> pd.DataFrame:
    """Dropped hits per reason (``reason, hits``), most first; reasons that dropped nothing are left out."""
    counts = cleaned["drop_reason"].value_counts().reindex(list(DROP_REASONS), fill_value=0)
    counts = counts[counts > 0].rename_axis("reason").reset_index(name="hits")
    # A stable sort keeps the check order among reasons with equal counts.
    return counts.sort_values("hits", ascending=False, kind="stable", ignore_index=True)


def _per_unique(values: pd.Series, test: Callable[[str], bool]) -> pd.Series:
    """``test`` run once per distinct value, as a boolean per row (False where the value is missing)."""
    codes, distinct = pd.factorize(values)
    # factorize codes a missing value -1, which picks the False appended at the end.
    verdicts = np.array([*map(test, distinct), False], dtype=bool)
    return pd.Series(verdicts[codes], index=values.index)


def _not_public(ips: pd.Series) -> pd.Series:
    """Whether each IP is not a public unicast address (False where it is missing)."""
    codes, distinct = pd.factorize(ips)
    integers = ipv4_integers(distinct)
    verdicts = in_networks(integers, _NOT_PUBLIC_IPV4)
    ask = (integers == NOT_IPV4) | in_networks(integers, _ASK_IPADDRESS_IPV4)
    verdicts[ask] = [not _is_public(ip) for ip in distinct[ask]]
    return pd.Series(np.append(verdicts, False)[codes], index=ips.index)


def _in_offices(ips: pd.Series, offices: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> pd.Series:
    """Whether each IP is in one of ``offices`` (False where it is missing)."""
    if not offices:
        return pd.Series(False, index=ips.index)
    codes, distinct = pd.factorize(ips)
    integers = ipv4_integers(distinct)
    verdicts = in_networks(integers, [network for network in offices if network.version == 4])
    other = integers == NOT_IPV4
    verdicts[other] = [_in_any(ip, offices) for ip in distinct[other]]
    return pd.Series(np.append(verdicts, False)[codes], index=ips.index)


def _is_public(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    # is_global leaves out private, loopback, link-local, shared, documentation and reserved
    # ranges, but counts multicast as global.
    return address.is_global and not address.is_multicast


def _in_any(ip: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _not_a_page(hits: pd.DataFrame) -> pd.Series:
    other_method = _per_unique(hits["method"], lambda method: method.upper() not in PAGE_METHODS)
    status = hits["status"]
    not_a_view = (status >= FIRST_ERROR_STATUS) | ((status >= 300) & (status != NOT_MODIFIED))
    return other_method | not_a_view.fillna(False).astype(bool)


def _is_static(url: str, extensions: frozenset[str]) -> bool:
    path = url.split("?", 1)[0].split("#", 1)[0]
    last_segment = path.rsplit("/", 1)[-1]
    extension = last_segment.rsplit(".", 1)[-1].lower() if "." in last_segment else ""
    return extension in extensions or bool(_MACHINE_FILES.match(path))


def _bot_user_agents(user_agents: pd.Series) -> pd.Series:
    detector = _crawler_detect()

    def is_bot(user_agent: str) -> bool:
        return user_agent.strip() in _MISSING_USER_AGENTS or detector.is_crawler(user_agent)

    return user_agents.isna() | _per_unique(user_agents, is_bot)


# One detector per process: it remembers its verdicts, and the same browsers come back every
# day and in every chunk of a busy day.
@functools.cache
def _crawler_detect() -> CrawlerDetect:
    return CrawlerDetect()


def _in_burst(pages: pd.DataFrame, max_pages_per_minute: int) -> pd.Series:
    """True for every hit of an IP + user agent that had more than the limit of pages within 60 s.

    Sorted by visitor and time, a visitor has a burst exactly when some hit comes less than
    60 s after the hit ``max_pages_per_minute`` places before it, from the same visitor.
    """
    visitors = pages.groupby(["ip", "user_agent"], sort=False, dropna=False).ngroup().to_numpy()
    times = pages["timestamp"].to_numpy(dtype="datetime64[ns]")  # UTC; without a dtype: slow Timestamp objects
    order = np.lexsort((times, visitors))
    visitor, time = visitors[order], times[order]
    step = max_pages_per_minute
    burst_ends = (visitor[step:] == visitor[:-step]) & (time[step:] - time[:-step] < BURST_WINDOW)
    return pd.Series(np.isin(visitors, visitor[step:][burst_ends]), index=pages.index)
