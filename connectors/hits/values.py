"""Turning raw field text into hit values: IPs, request targets, statuses, timestamps.

Each function works on one value (parse_timestamps on the distinct values of a list);
the chunk assembler calls them once per distinct value, because logs repeat the same
IPs, URLs and seconds many times.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd

CLF_TIMESTAMP_FORMAT = "%d/%b/%Y:%H:%M:%S %z"
ISO_8601 = "ISO8601"
TRACKING_PIXEL_PATHS = ("/piwik.php", "/matomo.php")
_ABSOLUTE_URL_PREFIXES = ("http://", "https://")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_ZONE_SUFFIX = re.compile(r"(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})$")  # "Z", "+02:00", "-0500"


def canonical_ip(text: object) -> str | None:
    """The canonical text of an IP address (IPv4-mapped IPv6 as IPv4), or None if not an IP."""
    if not isinstance(text, str):
        return None
    if _CANONICAL_IPV4.fullmatch(text):  # most clients; ipaddress is ten times slower
        return text
    try:
        return str(_unmapped(ipaddress.ip_address(text)))
    except ValueError:
        return None


def leftmost_public_ip(forwarded_for: object) -> str | None:
    """The left-most public address of an X-Forwarded-For value, or None if it has none.

    Private, loopback, reserved and documentation addresses are skipped: they are proxies
    or spoofed values that name no organisation.
    """
    if not isinstance(forwarded_for, str):
        return None
    for token in forwarded_for.split(","):
        address = _forwarded_address(token.strip())
        if address is not None and address.is_global:
            return str(address)
    return None


def _forwarded_address(token: str) -> Address | None:
    if token.startswith("["):  # [IPv6]:port
        token = token[1:].partition("]")[0]
    elif token.count(":") == 1:  # IPv4:port
        token = token.partition(":")[0]
    try:
        return _unmapped(ipaddress.ip_address(token))
    except ValueError:
        return None


def _unmapped(address: Address) -> Address:
    return getattr(address, "ipv4_mapped", None) or address


class Target(NamedTuple):
    """What a request target says about the page.

    ``url`` is the path + query (None when the target has no path). ``host`` comes from an
    absolute URL, so it is None for a plain path. For an analytics tracking-pixel hit
    everything describes the tracked page, and ``is_tracking_pixel`` tells the caller to
    prefer these values over the row's own.
    """

    url: str | None
    host: str | None = None
    is_tracking_pixel: bool = False
    referrer: str | None = None
    visitor_id: str | None = None
    page_title: str | None = None


_NO_PATH = Target(url=None)


def resolve_target(target: object) -> Target:
    """Path + query (and host) of a request target: "/path?q", an absolute URL, or a pixel hit."""
    if not isinstance(target, str):
        return _NO_PATH
    if target.startswith("/"):
        url, host = target, None
    elif target[:8].lower().startswith(_ABSOLUTE_URL_PREFIXES):
        url, host = _path_and_host(target)
        if url is None:
            return _NO_PATH
    else:
        return _NO_PATH
    if url.startswith(TRACKING_PIXEL_PATHS):
        return _tracked_page(url) or Target(url, host)
    return Target(url, host)


def _path_and_host(absolute_url: str) -> tuple[str | None, str | None]:
    try:
        parts = urlsplit(absolute_url)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed "[" of an IPv6 host
        return None, None
    path = parts.path or "/"
    return (f"{path}?{parts.query}" if parts.query else path), host


def _tracked_page(pixel_url: str) -> Target | None:
    """The page a Matomo tracking request reports (its ``url=`` parameter), if it has one."""
    path, _, query = pixel_url.partition("?")
    if path not in TRACKING_PIXEL_PATHS:
        return None
    parameters = parse_qs(query)
    page = _first(parameters, "url")
    if page is None or not page[:8].lower().startswith(_ABSOLUTE_URL_PREFIXES):
        return None
    url, host = _path_and_host(page)
    if url is None or host is None:
        return None
    return Target(
        url=url,
        host=host,
        is_tracking_pixel=True,
        referrer=_first(parameters, "urlref"),
        visitor_id=_first(parameters, "_id"),
        page_title=_first(parameters, "action_name"),
    )


def _first(parameters: dict[str, list[str]], name: str) -> str | None:
    values = parameters.get(name)
    return values[0] if values else None


def parse_status(value: object) -> int | None:
    """An HTTP status from text or a number; None when missing or not a 0-999 integer."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 999:
        return value
    return None


class Timestamps(NamedTuple):
    """Parsed timestamps, and how many were written without a zone (read in the source's timezone)."""

    utc: pd.DatetimeIndex
    local_count: int


def parse_timestamps(values: list[object], timestamp_format: str | None, timezone: str = "UTC") -> Timestamps:
    """UTC timestamps for ``values``, NaT where a value does not parse.

    ``timestamp_format`` is a strftime format, ``"ISO8601"``, or None to accept epoch
    seconds (numbers or numeric text), ISO 8601 and Apache's ``10/Oct/2000:13:55:36 -0700``.
    Text without a zone is local time in ``timezone`` (an IANA name); an hour that comes
    twice when clocks go back is read as its first occurrence, a time that does not exist
    when they go forward as the moment after the gap. Each distinct value is parsed once.
    """
    codes, distinct = pd.factorize(np.asarray(values, dtype=object))
    if timestamp_format is None:
        parsed = _parse_any_timestamps(distinct)
    else:
        parsed = _to_utc(_text_only(distinct), format=timestamp_format)
    if timestamp_format is not None and "%z" in timestamp_format:  # the format demands a zone
        return Timestamps(parsed.take(codes, allow_fill=True, fill_value=pd.NaT), 0)
    zoneless = np.array([isinstance(value, str) and not _ZONE_SUFFIX.search(value) for value in distinct], dtype=bool)
    if timestamp_format is None:  # epoch seconds, even as text, are UTC
        zoneless &= np.isnan(pd.to_numeric(distinct, errors="coerce"))
    if timezone != "UTC" and zoneless.any():
        parsed = parsed.where(~zoneless, _local_to_utc(parsed, timezone))
    zoneless &= ~parsed.isna()
    local_count = int(np.append(zoneless, False)[codes].sum())  # code -1 (missing) picks the False
    return Timestamps(parsed.take(codes, allow_fill=True, fill_value=pd.NaT), local_count)


def _local_to_utc(wall_times: pd.DatetimeIndex, timezone: str) -> pd.DatetimeIndex:
    """``wall_times`` (parsed as if UTC) taken as local times in ``timezone``."""
    first_occurrence = np.ones(len(wall_times), dtype=bool)
    local = wall_times.tz_localize(None).tz_localize(timezone, ambiguous=first_occurrence, nonexistent="shift_forward")
    return local.tz_convert("UTC")


def _parse_any_timestamps(values: np.ndarray) -> pd.DatetimeIndex:
    numbers = pd.to_numeric(values, errors="coerce")
    is_epoch = ~np.isnan(numbers)
    texts = _text_only(np.where(is_epoch, None, values))
    parsed = _to_utc(texts, format=ISO_8601).where(~is_epoch, _to_utc(numbers, unit="s"))
    is_clf_candidate = parsed.isna() & ~is_epoch
    if is_clf_candidate.any():
        parsed = parsed.where(~is_clf_candidate, _to_utc(texts, format=CLF_TIMESTAMP_FORMAT))
    return parsed


def _text_only(values: np.ndarray) -> np.ndarray:
    # pandas would read numbers as epochs whatever the format; only text has a format.
    return np.array([value if isinstance(value, str) else None for value in values], dtype=object)


def _to_utc(values: np.ndarray, **how: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True, errors="coerce", **how)).as_unit("us")
