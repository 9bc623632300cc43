"""The note a target account's CRM record gets for one report window, from a template.

``templates/note.html.j2`` renders it as compact HTML (HubSpot), ``templates/note.txt.j2``
as plain text (Salesforce Task comments, Bitrix24 timeline comments). Only company-level
figures, page paths, topics and funnel stages go into it: no IP addresses, visitor or
visit ids, user agents, query strings or referrers (a query string or a referrer can
carry an e-mail address or a token). URLs and topics come from logs and the taxonomy,
so the HTML template escapes every value.

Each note carries a marker, one token per account and window, so that a run which died
after the CRM stored the note but before the ledger recorded it can find the note again
instead of adding a second one.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from enrichment.tagging import STAGES
from enrichment.trend import Trend

# HubSpot's limit for hs_note_body; other CRMs allow at least as much.
NOTE_MAX_CHARS = 65_536

NoteForm = Literal["html", "text"]
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def note_marker(account_id: str, window_end: dt.date) -> str:
    """The token identifying an account's note for a window, e.g. ``vi3f9a…`` (26 characters).

    Letters and digits only: CRM search splits text into tokens at punctuation, so a
    readable ``vi:ACME-003:2026-11-15`` would not be found as one token.
    """
    digest = hashlib.sha256(f"{account_id}\n{window_end.isoformat()}".encode()).hexdigest()
    return f"vi{digest[:24]}"


@dataclass(frozen=True)
class _Visit:
    start: str  # "2026-11-03 10:02", UTC
    pages: list[str]  # paths, in reading order
    stage: str | None  # the furthest funnel stage of its pages


def render_note(
    account: Mapping[str, Any],
    path: pd.DataFrame,
    *,
    trend: Trend,
    marker: str,
    report_url: str | None = None,
    max_chars: int = NOTE_MAX_CHARS,
    form: NoteForm = "html",
) -> str:
    """The note for one row of the report's accounts and that account's rows of its path.

    The digital path lists one line per visit, oldest first. When the note would exceed
    ``max_chars``, the oldest visits are left out and a line points to the full report.
    """
    template = _TEMPLATES.get_template(f"note.{'html' if form == 'html' else 'txt'}.j2")
    figures = _figures(account, trend, marker, report_url)
    visits = _visits(path)

    def rendered(shown: int) -> str:
        kept = visits[len(visits) - shown :] if shown else []
        return template.render(**figures, shown=kept, omitted=len(visits) - shown)

    note = rendered(len(visits))
    if len(note) <= max_chars or not visits:
        return note
    # The note grows with each visit shown: the most that fit, found by bisection.
    fitting = bisect.bisect_right(range(len(visits)), max_chars, key=lambda shown: len(rendered(shown)))
    return rendered(max(0, fitting - 1))


def _figures(account: Mapping[str, Any], trend: Trend, marker: str, report_url: str | None) -> dict[str, Any]:
    return {
        "start": _day(account["window_start"]),
        "end": _day(account["window_end"]),
        "score": round(account["intent_score"]),
        "trend": trend.value,
        "stage": account["furthest_stage"],
        "visits": int(account["visits"]),
        "pageviews": int(account["pageviews"]),
        "last_visit": _minute(account["last_seen"]),
        "top_topics": account["top_topics"],
        "top_pages": account["top_pages"],
        "signals": _signals_line(account),
        "account_id": str(account["account_id"]),
        "marker": marker,
        "report_url": report_url,
    }


def _signals_line(account: Mapping[str, Any]) -> str | None:
    """``"2 trigger events · surging on Cloud Security 82; Data Warehousing 71 · signal score 74"``,
    or None without signals. Company-level only: the events' titles stay in the report."""
    events, topics = account.get("trigger_events"), account.get("surge_topics")
    parts = []
    if events and not pd.isna(events):
        parts.append(f"{int(events)} trigger event{'s' if events != 1 else ''}")
    if topics and not pd.isna(topics):
        parts.append(f"surging on {topics}")
    if parts and account.get("signal_score") is not None:
        parts.append(f"signal score {round(account['signal_score'])}")
    return " · ".join(parts) or None


def _visits(path: pd.DataFrame) -> list[_Visit]:
    """Each visit, oldest first: its start, its pages in order, its furthest stage."""
    ordered = path.sort_values("timestamp", kind="stable")
    return [
        _Visit(
            start=_minute(pages["timestamp"].iloc[0]),
            pages=[_page_path(url) for url in pages["url"]],
            stage=_furthest_stage(pages["stage"]),
        )
        for _, pages in ordered.groupby("visit_id", sort=False)
    ]


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
