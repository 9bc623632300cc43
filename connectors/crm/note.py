"""The note a target account's CRM record gets for one report window, as compact HTML.

Only company-level figures, page paths, topics and funnel stages go into it: no IP
addresses, visitor or visit ids, user agents, query strings or referrers (a query string
or a referrer can carry an e-mail address or a token). URLs and topics come from logs
and the taxonomy, so every value is HTML-escaped.

Each note carries a marker, one token per account and window, so that a run which died
after the CRM stored the note but before the ledger recorded it can find the note again
instead of adding a second one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from enum import StrEnum
from html import escape
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from enrichment.tagging import STAGES

# HubSpot's limit for hs_note_body; other CRMs allow at least as much.
NOTE_MAX_CHARS = 65_536
# Score moves smaller than this between two windows are noise, not a trend.
TREND_THRESHOLD = 5.0


class Trend(StrEnum):
    """How an account's intent score moved since its previous report window."""

    RISING = "rising"
    STEADY = "steady"
    FALLING = "falling"
    NEW = "new"


def intent_trend(score: float, previous_score: float | None) -> Trend:
    """``new`` without an earlier window; otherwise rising, steady or falling."""
    if previous_score is None:
        return Trend.NEW
    change = score - previous_score
    if change >= TREND_THRESHOLD:
        return Trend.RISING
    if change <= -TREND_THRESHOLD:
        return Trend.FALLING
    return Trend.STEADY


def note_marker(account_id: str, window_end: dt.date) -> str:
    """The token identifying an account's note for a window, e.g. ``vi3f9a…`` (26 characters).

    Letters and digits only: CRM search splits text into tokens at punctuation, so a
    readable ``vi:ACME-003:2026-11-15`` would not be found as one token.
    """
    digest = hashlib.sha256(f"{account_id}\n{window_end.isoformat()}".encode()).hexdigest()
    return f"vi{digest[:24]}"


def render_note(
    account: Mapping[str, Any],
    path: pd.DataFrame,
    *,
    trend: Trend,
    marker: str,
    report_url: str | None = None,
    max_chars: int = NOTE_MAX_CHARS,
) -> str:
    """The note for one row of the report's accounts and that account's rows of its path.

    The digital path lists one line per visit, oldest first. When the note would exceed
    ``max_chars``, the oldest visits are left out and a line points to the full report.
    """
    head = _summary(account, trend)
    foot = f"<p>Visitor Intent · {escape(str(account['account_id']))} · ref {marker}</p>"
    visits = _visit_lines(path)
    room = max_chars - len(head) - len(foot) - len("<ul></ul>")
    shown = (
        visits
        if sum(map(len, visits)) <= room
        else _newest_that_fit(visits, room - len(_pointer(len(visits), report_url)))
    )
    omitted = len(visits) - len(shown)
    return "".join(
        [
            head,
            _pointer(omitted, report_url) if omitted else "",
            f"<ul>{''.join(shown)}</ul>" if shown else "",
            foot,
        ]
    )


def _summary(account: Mapping[str, Any], trend: Trend) -> str:
    start, end = _day(account["window_start"]), _day(account["window_end"])
    figures = [
        f"Intent score <strong>{round(account['intent_score'])}</strong>/100 ({trend.value})",
        f"furthest stage: {escape(account['furthest_stage'] or 'none')}",
        f"{int(account['visits'])} visits, {int(account['pageviews'])} pageviews",
        f"last visit {_minute(account['last_seen'])} UTC",
    ]
    return (
        f"<p><strong>Website activity {start} to {end}</strong></p>"
        f"<p>{' · '.join(figures)}</p>"
        f"<p><strong>Top topics:</strong> {escape(account['top_topics'] or '-')}</p>"
        f"<p><strong>Top pages:</strong> {escape(account['top_pages'] or '-')}</p>"
        "<p><strong>Digital path</strong> (one line per visit, UTC)</p>"
    )


def _visit_lines(path: pd.DataFrame) -> list[str]:
    """One ``<li>`` per visit, oldest first: its start, its pages in order, its furthest stage."""
    ordered = path.sort_values("timestamp", kind="stable")
    lines = []
    for _, pages in ordered.groupby("visit_id", sort=False):
        trail = " → ".join(escape(_page_path(url)) for url in pages["url"])
        stage = _furthest_stage(pages["stage"])
        lines.append(f"<li>{_minute(pages['timestamp'].iloc[0])}: {trail}{f' ({stage})' if stage else ''}</li>")
    return lines


def _newest_that_fit(lines: list[str], budget: int) -> list[str]:
    """The longest run of the newest lines whose total length stays within the budget."""
    kept = 0
    for line in reversed(lines):
        if len(line) > budget:
            break
        budget -= len(line)
        kept += 1
    return lines[len(lines) - kept :]


def _pointer(omitted: int, report_url: str | None) -> str:
    report = f'<a href="{escape(report_url)}">the full report</a>' if report_url else "the full report"
    return f"<p>{omitted} earlier visits are not shown here: see {report}.</p>"


def _page_path(url: str) -> str:
    """The URL's path only: query strings and fragments may carry personal data."""
    return urlsplit(url).path or url


def _furthest_stage(stages: pd.Series) -> str | None:
    reached = set(stages.dropna())
    return next((stage for stage in reversed(STAGES) if stage in reached), None)


def _day(value: Any) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def _minute(value: Any) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")
