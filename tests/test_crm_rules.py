"""The business rules CRM delivery follows: the score's trend, and which account a contested record carries."""

from __future__ import annotations

import math

import pytest

from enrichment.record_claims import record_claims
from enrichment.trend import TREND_MIN_CHANGE, Trend, intent_trend


@pytest.mark.parametrize(
    ("score", "previous", "trend"),
    [
        (50, None, Trend.NEW),
        (50, math.nan, Trend.NEW),  # the report's previous_score of an account absent last window
        (50, 50 - TREND_MIN_CHANGE, Trend.RISING),  # exactly the threshold counts
        (50, 50 - TREND_MIN_CHANGE + 0.1, Trend.STEADY),
        (50, 50 + TREND_MIN_CHANGE - 0.1, Trend.STEADY),
        (50, 50 + TREND_MIN_CHANGE, Trend.FALLING),
        (0, 0, Trend.STEADY),
    ],
)
def test_a_move_of_at_least_five_points_is_a_trend(score, previous, trend):
    assert intent_trend(score, previous) is trend


def test_the_highest_score_claims_a_contested_record_whatever_the_order():
    claims = [("ACME-DE", "101", 30.0), ("ACME", "101", 80.0), ("GLOBEX", "202", 10.0)]

    assert record_claims(claims) == {"101": "ACME", "202": "GLOBEX"}
    assert record_claims(reversed(claims)) == {"101": "ACME", "202": "GLOBEX"}


def test_a_tie_goes_to_the_lowest_account_id_whatever_the_order():
    claims = [("B", "101", 50.0), ("A", "101", 50.0)]

    assert record_claims(claims) == record_claims(reversed(claims)) == {"101": "A"}
