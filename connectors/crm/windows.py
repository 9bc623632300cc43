"""One target account's activity in one report window, as every CRM sink sends it.

``account_windows`` turns a ``WindowReport`` into one ``AccountWindow`` per account: the
company-level figures a CRM record can carry (``FIGURES``), the note (HTML or plain
text), the marker that finds the note again, and the account's domains normalised the
one way the project compares domains (``enrichment.matching.registrable_domain``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from connectors.crm.ledger import DeliveryLedger
from connectors.crm.note import NoteForm, note_marker, render_note
from connectors.sinks.base import WindowReport
from connectors.sinks.report_pages import account_page_name
from enrichment.activity import CRM_FIGURES
from enrichment.matching import registrable_domain
from enrichment.trend import intent_trend

# The figures a sink can write onto a CRM record, named as in ``AccountWindow.figures``.
FIGURES = CRM_FIGURES


@dataclass(frozen=True)
class AccountWindow:
    """One target account's activity in one report window, as every CRM sink sends it.

    ``figures`` holds company-level numbers and words only (see ``FIGURES``); ``note`` is
    the note with the account's digital path, or "" for a sink without notes.
    """

    account_id: str
    name: str
    crm_id: str | None
    domains: tuple[str, ...]
    window_start: dt.date
    window_end: dt.date
    intent_score: float
    marker: str
    figures: dict[str, Any]
    note: str
    report_url: str | None


def account_windows(
    report: WindowReport,
    ledger: DeliveryLedger,
    sink: str,
    domains: Mapping[str, Sequence[str]],
    *,
    note_max_chars: int | None = None,
    note_form: NoteForm = "text",
    report_base_url: str | None = None,
) -> list[AccountWindow]:
    """Every account of the report, with its trend since its previous window.

    The previous score is the report's ``previous_score`` (the previous window's, from
    ``enrichment.intent``) when the report carries the score's story, else the score this
    sink last delivered for the account. Without ``note_max_chars`` there is no note.
    """
    rows = records(report.accounts)
    story = "previous_score" in report.accounts.columns
    delivered = {} if story else ledger.previous_scores(sink, report.window_end, [str(r["account_id"]) for r in rows])
    paths = dict(tuple(report.path.groupby("account_id", sort=False)))
    no_pages = report.path.head(0)
    windows = []
    for row in rows:
        account_id = str(row["account_id"])
        previous = row["previous_score"] if story else delivered.get(account_id)
        trend = intent_trend(row["intent_score"], previous)
        marker = note_marker(account_id, report.window_end)
        url = report_url(report_base_url, account_id, report.window_start, report.window_end)
        note = (
            ""
            if note_max_chars is None
            else render_note(
                row,
                paths.get(row["account_id"], no_pages),
                trend=trend,
                marker=marker,
                report_url=url,
                max_chars=note_max_chars,
                form=note_form,
            )
        )
        windows.append(
            AccountWindow(
                account_id=account_id,
                name=str(row["name"]),
                crm_id=crm_text(row.get("crm_id")),
                domains=crm_domains(domains.get(account_id, ())),
                window_start=report.window_start,
                window_end=report.window_end,
                intent_score=float(row["intent_score"]),
                marker=marker,
                figures={
                    "intent_score": round(row["intent_score"]),
                    "intent_trend": trend.value,
                    "furthest_stage": row["furthest_stage"] or "",
                    "top_topics": row["top_topics"] or "",
                    "top_pages": row["top_pages"] or "",
                    "visits": int(row["visits"]),
                    "pageviews": int(row["pageviews"]),
                    "last_visit": utc_iso(row["last_seen"]),
                    "window": f"{report.window_start.isoformat()} to {report.window_end.isoformat()}",
                },
                note=note,
                report_url=url,
            )
        )
    return windows


def crm_domains(values: Sequence[str]) -> tuple[str, ...]:
    """The registrable domains of ``values`` (hosts or URLs), in order, each once; others left out."""
    return tuple(dict.fromkeys(domain for value in values if (domain := registrable_domain(value))))


def field_mapping(fields: Mapping[str, str], crm: str) -> dict[str, str]:
    """A figure → CRM field mapping, checked: a typo in a figure name fails at start-up."""
    unknown = sorted(set(fields) - set(FIGURES))
    if unknown:
        raise ValueError(f"unknown {crm} field mapping keys {unknown}; the figures are {', '.join(FIGURES)}")
    return dict(fields)


def report_url(report_base_url: str | None, account_id: str, window_start: dt.date, window_end: dt.date) -> str | None:
    """Where the file sink's page for this account and window is served, when that is configured."""
    if not report_base_url:
        return None
    folder = f"{window_start.isoformat()}_{window_end.isoformat()}"
    return f"{report_base_url.rstrip('/')}/{folder}/accounts/{account_page_name(account_id)}.html"


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts, with missing values as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def crm_text(value: Any) -> str | None:
    """A CRM id as text (the warehouse declares it text), None when blank."""
    text = "" if value is None else str(value).strip()
    return text or None


def utc_iso(value: Any) -> str:
    timestamp = pd.Timestamp(value)
    timestamp = timestamp.tz_localize("UTC") if timestamp.tzinfo is None else timestamp.tz_convert("UTC")
    return timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")
