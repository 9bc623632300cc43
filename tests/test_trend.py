"""An account's score over its last report windows, and its trend word."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from enrichment.scoring import ScoringWeights
from enrichment.trend import TREND_MIN_CHANGE, Trend, history_text, intent_trend, score_history
from tests.test_scoring import hits

END = dt.date(2026, 10, 14)


def history(account_hits: pd.DataFrame, accounts: list[str], windows: int = 3) -> dict[str, list[float]]:
    frame = score_history(
        account_hits, pd.Series(accounts), window_end=END, window_days=14, windows=windows, weights=ScoringWeights()
    )
    assert frame["window_end"].drop_duplicates().tolist() == [
        END - dt.timedelta(days=14 * back) for back in reversed(range(windows))
    ]
    return {account: rows["intent_score"].tolist() for account, rows in frame.groupby("account_id")}


def test_each_window_is_scored_on_its_own_days_oldest_first() -> None:
    account_hits = hits(
        ("A", "2026-09-16 09:00", "/pricing"),  # the oldest window's last day
        ("A", "2026-10-14 09:00", "/pricing"),  # this window's last day
        ("A", "2026-10-14 10:00", "/demo"),
    )
    scores = history(account_hits, ["A"])["A"]
    assert scores[1] == 0.0  # nothing read in the middle window
    assert scores[0] == pytest.approx(25.9, abs=0.05)  # one pricing page on its window's last day
    assert scores[2] > scores[0]


def test_an_account_without_reading_in_a_window_scores_zero_there_and_others_are_left_out() -> None:
    account_hits = hits(("A", "2026-10-14 09:00", "/pricing"), ("OTHER", "2026-10-14 09:00", "/pricing"))
    assert history(account_hits, ["A", "QUIET"]) == {"A": [0.0, 0.0, 25.9], "QUIET": [0.0, 0.0, 0.0]}


def test_the_csv_series_is_whole_points_oldest_first() -> None:
    frame = pd.DataFrame(
        {
            "account_id": ["A", "A", "A"],
            "window_end": [END, END - dt.timedelta(days=28), END - dt.timedelta(days=14)],
            "intent_score": [52.4, 12.0, 29.6],
        }
    )
    assert history_text(frame).to_dict() == {"A": "12;30;52"}


@pytest.mark.parametrize(
    ("previous", "now", "trend"),
    [
        (None, 10.0, Trend.NEW),
        (float("nan"), 10.0, Trend.NEW),
        (10.0, 10.0 + TREND_MIN_CHANGE, Trend.RISING),
        (10.0, 10.0 + TREND_MIN_CHANGE - 0.1, Trend.STEADY),
        (10.0, 10.0 - TREND_MIN_CHANGE, Trend.FALLING),
    ],
)
def test_the_trend_word_follows_the_score_change(previous: float | None, now: float, trend: Trend) -> None:
    assert intent_trend(now, previous) is trend
