"""How an account's intent score moved: since its previous report window, and over many.

The change is the one ``enrichment.intent`` reports as ``score_change``: this window's
score minus the previous window's. A CRM field holds the word (rising, steady, falling,
new) so that sales can filter on it.
"""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum

import pandas as pd

from enrichment.activity import hits_in_window
from enrichment.scoring import ScoringWeights, score_accounts

# Score moves smaller than this (points of 100) between two windows are noise, not a trend.
TREND_MIN_CHANGE = 5.0


class Trend(StrEnum):
    """How an account's intent score moved since its previous report window."""

    RISING = "rising"
    STEADY = "steady"
    FALLING = "falling"
    NEW = "new"


def intent_trend(score: float, previous_score: float | None) -> Trend:
    """``new`` without a previous score (None or NaN); otherwise rising, steady or falling."""
    if previous_score is None or math.isnan(previous_score):
        return Trend.NEW
    change = score - previous_score
    if change >= TREND_MIN_CHANGE:
        return Trend.RISING
    if change <= -TREND_MIN_CHANGE:
        return Trend.FALLING
    return Trend.STEADY


HISTORY_COLUMNS = ["account_id", "window_end", "intent_score"]


def score_history(
    account_hits: pd.DataFrame,
    account_ids: pd.Series,
    *,
    window_end: dt.date,
    window_days: int,
    windows: int,
    weights: ScoringWeights,
) -> pd.DataFrame:
    """``HISTORY_COLUMNS``: each account's intent score in each of the last ``windows`` windows.

    The windows end on ``window_end``, ``window_days`` before it, and so on back, oldest
    first; each is scored as the report scores it (``enrichment.scoring``), from the
    attributed ``account_hits``. An account that read nothing in a window scores 0 there.
    """
    ends = [window_end - dt.timedelta(days=window_days * back) for back in reversed(range(windows))]
    scores = []
    for end in ends:
        hits = hits_in_window(account_hits, end - dt.timedelta(days=window_days - 1), end)
        scored = score_accounts(hits, window_end=pd.Timestamp(end, tz="UTC"), weights=weights)
        scores.append(
            scored[["account_id", "intent_score"]].assign(
                window_end=end, intent_score=lambda f: f["intent_score"].round(1)
            )
        )
    grid = pd.MultiIndex.from_product([pd.unique(account_ids), ends], names=["account_id", "window_end"])
    history = pd.concat(scores, ignore_index=True).set_index(["account_id", "window_end"])["intent_score"]
    return history.reindex(grid, fill_value=0.0).reset_index()[HISTORY_COLUMNS]


def history_text(history: pd.DataFrame) -> pd.Series:
    """Per account, its scores oldest first as ``"12;30;52"`` (whole points), for a CSV cell."""
    ordered = history.sort_values(["account_id", "window_end"], kind="stable")
    return ordered.groupby("account_id", sort=False)["intent_score"].agg(
        lambda scores: ";".join(str(round(score)) for score in scores)
    )
