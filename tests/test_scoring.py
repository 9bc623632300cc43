"""The intent score: documented examples, and the properties that make it trustworthy."""

from __future__ import annotations

import math

import hypothesis
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from enrichment.scoring import ScoringWeights, score_accounts, score_contributions, score_topics

WINDOW_END = pd.Timestamp("2026-10-14", tz="UTC")
WINDOW_DAYS = 14

# path: (stage, content_type, excluded_from_intent, topics)
PAGES = {
    "/pricing": ("decision", "pricing", False, "pricing"),
    "/demo": ("decision", "demo_request", False, ""),
    "/contact": ("decision", "contact", False, ""),
    "/customers/northwind": ("consideration", "case_study", False, ""),
    "/compare/acme": ("consideration", "comparison", False, ""),
    "/product/fleet-tracker": ("consideration", "product", False, "fleet-tracking;telematics"),
    "/docs/api": ("consideration", "docs", False, "integrations"),
    "/blog/last-mile": ("awareness", "blog", False, "fleet-tracking"),
    "/careers": (None, "careers", True, ""),
    "/support/pricing-faq": ("decision", "support", True, "pricing"),
    "/somewhere-untagged": (None, None, False, ""),
}


def hits(*rows: tuple[str, str | pd.Timestamp, str]) -> pd.DataFrame:
    """Account hits from ``(account_id, time, path)`` rows, tagged from ``PAGES``."""
    frame = pd.DataFrame(rows, columns=["account_id", "timestamp", "path"])
    tags = pd.DataFrame(
        [(path, *tags) for path, tags in PAGES.items()],
        columns=["path", "stage", "content_type", "excluded_from_intent", "topics"],
    )
    return frame.assign(timestamp=pd.to_datetime(frame["timestamp"], utc=True)).merge(tags, on="path", how="left")


def scores(account_hits: pd.DataFrame, weights: ScoringWeights = ScoringWeights()) -> dict[str, float]:
    result = score_accounts(account_hits, window_end=WINDOW_END, weights=weights)
    return dict(zip(result["account_id"], result["intent_score"]))


def points(account_hits: pd.DataFrame) -> dict[str, float]:
    result = score_accounts(account_hits, window_end=WINDOW_END, weights=ScoringWeights())
    return dict(zip(result["account_id"], result["points"]))


# --- the formula, by example --------------------------------------------------------


def test_a_pricing_page_read_on_the_last_day_earns_decision_points_times_its_multiplier() -> None:
    account_hits = hits(("A", "2026-10-14 09:00", "/pricing"))
    assert points(account_hits) == {"A": 8 * 1.5}
    assert scores(account_hits)["A"] == pytest.approx(100 * (1 - math.exp(-12 / 40)))  # 25.9


def test_points_halve_every_half_life() -> None:
    assert points(hits(("A", "2026-10-07 09:00", "/pricing"))) == {"A": pytest.approx(6.0)}
    assert points(hits(("A", "2026-09-30 09:00", "/pricing"))) == {"A": pytest.approx(3.0)}


def test_a_page_counts_once_per_day() -> None:
    reloads = hits(
        ("A", "2026-10-14 09:00", "/pricing"),
        ("A", "2026-10-14 09:01", "/pricing"),
        ("A", "2026-10-14 17:00", "/pricing"),
    )
    assert points(reloads) == {"A": 12.0}


def test_rereading_a_page_on_other_days_earns_less_each_time() -> None:
    three_days = hits(
        ("A", "2026-10-12 09:00", "/pricing"),
        ("A", "2026-10-13 09:00", "/pricing"),
        ("A", "2026-10-14 09:00", "/pricing"),
    )
    # The most recent day in full, the one before half, the third-latest a third.
    assert points(three_days) == {"A": pytest.approx(12 + 12 * 0.5 ** (1 / 7) / 2 + 12 * 0.5 ** (2 / 7) / 3)}


def test_reading_another_page_counts_more_than_rereading_the_same_one() -> None:
    days = ("2026-10-12 09:00", "2026-10-13 09:00", "2026-10-14 09:00")
    broad = hits(*[("A", day, path) for day, path in zip(days, ("/docs/api", "/product/fleet-tracker", "/docs/api"))])
    narrow = hits(*[("B", day, "/docs/api") for day in days])
    assert scores(broad)["A"] > scores(narrow)["B"]


def test_pages_excluded_from_intent_and_untagged_pages_earn_nothing() -> None:
    account_hits = hits(
        ("A", "2026-10-14 09:00", "/careers"),
        ("B", "2026-10-14 09:00", "/support/pricing-faq"),  # excluded, whatever its stage
        ("C", "2026-10-14 09:00", "/somewhere-untagged"),
    )
    assert scores(account_hits) == {"A": 0.0, "B": 0.0, "C": 0.0}


@pytest.mark.parametrize(
    ("path", "earned"),
    [
        ("/demo", 8 * 2.0),  # asking for a demo says most
        ("/contact", 8 * 1.5),
        ("/customers/northwind", 3 * 1.2),  # a case study: weighing a purchase
        ("/compare/acme", 3 * 1.2),
        ("/docs/api", 3.0),
        ("/blog/last-mile", 1.0),
    ],
)
def test_each_content_type_earns_its_default_multiple(path: str, earned: float) -> None:
    assert points(hits(("A", "2026-10-14 09:00", path))) == {"A": pytest.approx(earned)}


def test_content_types_without_a_multiplier_count_once() -> None:
    assert points(hits(("A", "2026-10-14 09:00", "/product/fleet-tracker"))) == {"A": 3.0}


def test_the_score_saturates_towards_100() -> None:
    busy = hits(*[("A", f"2026-10-{day:02d} 09:00", path) for day in range(1, 15) for path in ("/pricing", "/demo")])
    assert 99 < scores(busy, ScoringWeights(saturation=10))["A"] <= 100


def test_weights_come_from_the_settings() -> None:
    weights = ScoringWeights(stage_points={"decision": 20}, content_type_multipliers={}, saturation=10)
    assert scores(hits(("A", "2026-10-14 09:00", "/pricing")), weights)["A"] == pytest.approx(100 * (1 - math.exp(-2)))


@pytest.mark.parametrize(
    "settings",
    [
        {"stage_points": {"decison": 5}},
        {"content_type_multipliers": {"pricing": -1}},
        {"half_life_days": 0},
        {"saturaton": 40},
    ],
)
def test_mistakes_in_the_weights_are_rejected(settings: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ScoringWeights(**settings)


def test_contributions_explain_a_score_by_page() -> None:
    account_hits = hits(
        ("A", "2026-10-14 09:00", "/blog/last-mile"),
        ("A", "2026-10-13 09:00", "/pricing"),
        ("A", "2026-10-14 09:00", "/pricing"),
        ("A", "2026-10-14 09:30", "/docs/api"),
        ("A", "2026-10-14 10:00", "/careers"),
        ("B", "2026-10-14 09:00", "/demo"),
    )
    contributions = score_contributions(account_hits, window_end=WINDOW_END, weights=ScoringWeights(), top_n=2)
    assert contributions.columns.tolist() == ["account_id", "path", "points"]
    assert contributions[["account_id", "path"]].values.tolist() == [
        ["A", "/pricing"],
        ["A", "/docs/api"],
        ["B", "/demo"],
    ]
    assert contributions["points"].tolist() == pytest.approx([12 + 12 * 0.5 ** (1 / 7) / 2, 3.0, 16.0])


def test_contributions_are_the_five_best_pages_ties_in_path_order() -> None:
    every_page = [("A", "2026-10-14 09:00", path) for path in PAGES]
    contributions = score_contributions(
        hits(*every_page, ("B", "2026-10-07 09:00", "/blog/last-mile")), window_end=WINDOW_END, weights=ScoringWeights()
    )
    assert contributions[["account_id", "path"]].values.tolist() == [
        ["A", "/demo"],  # 16 points
        ["A", "/contact"],  # 12, as many as /pricing
        ["A", "/pricing"],
        ["A", "/compare/acme"],  # 3.6, as many as the case study
        ["A", "/customers/northwind"],
        ["B", "/blog/last-mile"],  # half a point is still a contribution
    ]


def test_pages_that_earned_no_points_are_not_top_pages() -> None:
    account_hits = hits(
        ("A", "2026-10-14 09:00", "/pricing"),
        ("A", "2026-10-14 09:10", "/careers"),  # excluded from intent
        ("A", "2026-10-14 09:20", "/somewhere-untagged"),  # no stage
    )
    contributions = score_contributions(account_hits, window_end=WINDOW_END, weights=ScoringWeights())
    assert contributions["path"].tolist() == ["/pricing"]


def test_topic_scores_apply_the_same_formula_to_each_topics_pages() -> None:
    account_hits = hits(
        ("A", "2026-10-14 09:00", "/product/fleet-tracker"),  # fleet-tracking and telematics
        ("A", "2026-10-14 09:30", "/blog/last-mile"),  # fleet-tracking
        ("A", "2026-10-13 09:00", "/pricing"),
        ("A", "2026-10-14 10:00", "/pricing"),
        ("A", "2026-10-14 11:00", "/support/pricing-faq"),  # excluded: adds nothing to pricing
        ("A", "2026-10-14 12:00", "/demo"),  # no topic
    )
    topics = score_topics(account_hits, window_end=WINDOW_END, weights=ScoringWeights())
    assert topics.columns.tolist() == ["account_id", "topic", "points", "score"]
    assert topics["topic"].tolist() == ["pricing", "fleet-tracking", "telematics"]
    assert topics["points"].tolist() == pytest.approx([12 + 12 * 0.5 ** (1 / 7) / 2, 3 + 1, 3])
    pricing_only = account_hits[account_hits["path"].isin(["/pricing", "/support/pricing-faq"])]
    assert topics["score"].iloc[0] == pytest.approx(scores(pricing_only)["A"])


def test_topic_scores_come_per_account_best_first_ties_in_topic_order() -> None:
    account_hits = hits(
        ("B", "2026-10-14 09:00", "/docs/api"),  # integrations: 3 points
        ("A", "2026-10-14 09:00", "/product/fleet-tracker"),  # fleet-tracking and telematics: 3 each
        ("A", "2026-10-14 09:00", "/pricing"),
    )
    topics = score_topics(account_hits, window_end=WINDOW_END, weights=ScoringWeights())
    expected = pd.DataFrame(
        [("A", "pricing", 12.0), ("A", "fleet-tracking", 3.0), ("A", "telematics", 3.0), ("B", "integrations", 3.0)],
        columns=["account_id", "topic", "points"],
    )
    pd.testing.assert_frame_equal(topics[["account_id", "topic", "points"]], expected, check_dtype=False)


# --- properties -------------------------------------------------------------------

# Building frames takes a few milliseconds, or many more on a busy machine: no deadline.
PROPERTY = hypothesis.settings(deadline=None)

hit_rows = st.tuples(
    st.sampled_from(["A", "B"]),
    st.integers(min_value=0, max_value=WINDOW_DAYS - 1),  # days before the window's last day
    st.integers(min_value=0, max_value=24 * 60 - 1),  # minute of the day
    st.sampled_from(sorted(PAGES)),
)
weight_settings = st.builds(
    ScoringWeights,
    half_life_days=st.floats(min_value=0.1, max_value=60),
    saturation=st.floats(min_value=0.5, max_value=500),
)


def hit_frame(rows: list[tuple[str, int, int, str]]) -> pd.DataFrame:
    """Hits from ``(account, days before the window end, minute of the day, path)`` rows."""
    return hits(
        *[
            (account, WINDOW_END - pd.Timedelta(days=days_before) + pd.Timedelta(minutes=minute), path)
            for account, days_before, minute, path in rows
        ]
    )


@PROPERTY
@given(st.lists(hit_rows, min_size=1, max_size=40), weight_settings)
def test_the_score_is_always_between_0_and_100(rows: list, weights: ScoringWeights) -> None:
    assert all(0 <= score <= 100 for score in scores(hit_frame(rows), weights).values())


@PROPERTY
@given(st.lists(hit_rows, max_size=40), hit_rows)
def test_another_hit_in_the_window_never_lowers_a_score(rows: list, extra: tuple) -> None:
    before, after = scores(hit_frame(rows)), scores(hit_frame([*rows, extra]))
    # A tolerance for the last bit: summing in another order may round differently.
    assert all(after[account] >= score - 1e-9 for account, score in before.items())


@PROPERTY
@given(
    st.sampled_from(["/pricing", "/demo", "/product/fleet-tracker", "/docs/api", "/blog/last-mile"]),
    st.lists(st.integers(min_value=0, max_value=WINDOW_DAYS - 1), min_size=2, max_size=2, unique=True).map(sorted),
)
def test_the_same_page_read_earlier_scores_less(path: str, days_before: list[int]) -> None:
    recent, older = days_before
    assert scores(hit_frame([("A", older, 600, path)]))["A"] < scores(hit_frame([("A", recent, 600, path)]))["A"]


@PROPERTY
@given(st.lists(hit_rows, min_size=1, max_size=40), st.data())
def test_reading_a_page_again_on_the_same_day_adds_nothing(rows: list, data: st.DataObject) -> None:
    account, days_before, _, path = data.draw(st.sampled_from(rows))
    reload = (account, days_before, data.draw(st.integers(min_value=0, max_value=24 * 60 - 1)), path)
    assert scores(hit_frame([*rows, reload])) == scores(hit_frame(rows))


@PROPERTY
@given(
    st.sampled_from(["/pricing", "/demo", "/product/fleet-tracker", "/docs/api", "/blog/last-mile"]),
    st.lists(st.integers(min_value=0, max_value=WINDOW_DAYS - 1), min_size=1, max_size=WINDOW_DAYS, unique=True),
    st.integers(min_value=0, max_value=WINDOW_DAYS - 1),
)
def test_another_day_of_the_same_page_adds_less_than_that_day_would_alone(
    path: str, days_before: list[int], extra_day: int
) -> None:
    read = [("A", day, 600, path) for day in days_before]
    added = points(hit_frame([*read, ("A", extra_day, 600, path)]))["A"] - points(hit_frame(read))["A"]
    alone = points(hit_frame([("A", extra_day, 600, path)]))["A"]
    if extra_day in days_before:
        assert added == pytest.approx(0.0, abs=1e-9)
    else:
        assert 0 < added < alone
