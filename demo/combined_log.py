"""One hit as nginx/Apache write it in the ``combined`` log format."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import NamedTuple

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Hit(NamedTuple):
    """One log line before formatting; ``time`` is seconds since the epoch (UTC)."""

    time: int
    ip: str
    method: str
    url: str
    protocol: str
    status: int
    size: int
    referrer: str
    user_agent: str
    server_offset_minutes: int


def format_hit(hit: Hit) -> str:
    """The hit as nginx's default ``combined`` format writes it."""
    return (
        f'{hit.ip} - - [{_clf_time(hit.time, hit.server_offset_minutes)}] "{hit.method} {hit.url} {hit.protocol}" '
        f'{hit.status} {hit.size} "{hit.referrer}" "{hit.user_agent}"\n'
    )


def _clf_time(utc_seconds: int, offset_minutes: int) -> str:
    """``05/Oct/2026:14:03:07 +0100``: local time of a server ``offset_minutes`` east of UTC."""
    day_number, second_of_day = divmod(utc_seconds + offset_minutes * 60, 86_400)
    hours, rest = divmod(second_of_day, 3_600)
    offset_hours, offset_rest = divmod(abs(offset_minutes), 60)
    sign = "+" if offset_minutes >= 0 else "-"
    return f"{_clf_date(day_number)}:{hours:02d}:{rest // 60:02d}:{rest % 60:02d} {sign}{offset_hours:02d}{offset_rest:02d}"


@cache
def _clf_date(day_number: int) -> str:
    day = date(1970, 1, 1) + timedelta(days=day_number)
    return f"{day.day:02d}/{MONTHS[day.month - 1]}/{day.year}"
