"""How an account's intent score moved since its previous report window, in one word.

The change is the one ``enrichment.intent`` reports as ``score_change``: this window's
score minus the previous window's. A CRM field holds the word (rising, steady, falling,
new) so that sales can filter on it.
"""

from __future__ import annotations

import math
from enum import StrEnum

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
