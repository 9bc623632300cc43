"""Report sinks: where a window's report goes.

The file sink writes a folder of HTML and CSV; CRM connectors will deliver the same
report to HubSpot, Salesforce and others, account by account. All of them take a
``WindowReport`` and say what they delivered in a ``SinkResult``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import pandas as pd

from enrichment.content import ContentPerformance
from enrichment.summary import WindowSummary


@dataclass(frozen=True)
class WindowReport:
    """Everything one report window found, ready to deliver.

    accounts: one row per active target account (``account_id, name, crm_id, owner,
        matched_by, organizations, countries, visits, pageviews, visitors, first_seen,
        last_seen, furthest_stage, top_topics, top_pages, intent_score, window_start,
        window_end``), optionally with the score's story: ``surge`` (0..100, 50 = the
        account's baseline), ``surging``, ``level`` (cold, warm, hot), ``mqa``,
        ``previous_score``, ``score_change``, ``previous_stage``, ``movement`` (new,
        returning, stage_advanced, stage_receded, steady), ``explanation`` and
        ``top_contributions`` (``"/pricing (12.0); /request-demo (9.5)"``).
    path: each account's pages (``account_id, timestamp, visit_id, url, topics, stage,
        content_type, excluded_from_intent, referrer``).
    untagged_pages: URLs no taxonomy rule matched (``url, hits``).
    movements: how accounts moved since the previous window (``account_id, name, movement,
        previous_stage, furthest_stage, previous_score, intent_score, score_change``),
        including ``gone_quiet`` accounts, active then and not now.
    content_performance: which pages, topics, referrers and campaigns reached target accounts.
    score_history: each account's intent score in each of the last windows, this one included
        (``account_id, window_end, intent_score``; see ``enrichment.trend.score_history``).
    signals: the window's trigger events and Company Surge topics per account
        (``enrichment.signals.SIGNAL_COLUMNS``); the account rows may carry their summary,
        ``trigger_events``, ``surge_topics`` and ``signal_score``.
    expected_identification: the identification rate (0..1, like the summary's ``rate``)
        expected per country code, as a ``(low, high)`` band; key ``"*"`` for every other country.
    min_visits_per_country: countries with fewer visits are shown but not judged against a band.
    """

    window_start: date
    window_end: date
    accounts: pd.DataFrame
    path: pd.DataFrame
    # The window-level part: the file sink shows it; CRM sinks deliver account by account.
    summary: WindowSummary | None = None
    untagged_pages: pd.DataFrame | None = None
    movements: pd.DataFrame | None = None
    content_performance: ContentPerformance | None = None
    score_history: pd.DataFrame | None = None
    signals: pd.DataFrame | None = None
    expected_identification: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    min_visits_per_country: int = 1


@dataclass(frozen=True)
class SinkResult:
    """What a sink delivered: how many accounts, where to find them, and sink-specific counts."""

    sink: str
    location: str
    delivered: int
    details: dict[str, int] = field(default_factory=dict)


class ReportSink(Protocol):
    """Somewhere a window's report is delivered: a folder, a CRM, a webhook."""

    name: str

    def deliver(self, report: WindowReport) -> SinkResult:
        """Deliver the report. Delivering the same window again must not duplicate anything."""
        ...
