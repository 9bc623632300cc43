"""Intent sales can trust: surge against the account's own habit, levels, MQA, movement and the reasons."""

from __future__ import annotations

import datetime as dt

import hypothesis
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from enrichment.activity import build_account_activity
from enrichment.intent import (
    ASSESSMENT_COLUMNS,
    MOVEMENT_COLUMNS,
    SURGE_COLUMNS,
    IntentSettings,
    assess_accounts,
    explain_accounts,
    intent_levels,
    marketing_qualified,
    movements,
    surge_scores,
)
from enrichment.scoring import ScoringWeights
from enrichment.trend import TREND_MIN_CHANGE

WINDOW_START, WINDOW_END = dt.date(2026, 10, 1), dt.date(2026, 10, 14)
WINDOW_DAYS = 14
BASELINE_DAYS = 12 * 7
SETTINGS = IntentSettings()

# path: (topics, stage, content_type, excluded_from_intent)
PAGES = {
    "/pricing": ("pricing", "decision", "pricing", False),
    "/demo": ("", "decision", "demo_request", False),
    "/product/fleet-tracker": ("fleet-tracking", "consideration", "product", False),
    "/docs/api": ("integrations", "consideration", "docs", False),
    "/blog/last-mile": ("fleet-tracking", "awareness", "blog", False),
    "/careers": ("", None, "careers", True),
}
ACCOUNTS = pd.DataFrame(
    [("NORTHWIND", "Northwind Logistics", "crm-1", "EMEA team"), ("CONTOSO", "Contoso GmbH", None, "DACH team")],
    columns=["account_id", "name", "crm_id", "owner"],
)


def hits(*rows: tuple[str, str | pd.Timestamp, str]) -> pd.DataFrame:
    """Attributed hits of target accounts from ``(account_id, time, path)`` rows, tagged from ``PAGES``."""
    frame = pd.DataFrame(rows, columns=["account_id", "timestamp", "path"])
    tags = pd.DataFrame(
        [(path, *tags) for path, tags in PAGES.items()],
        columns=["path", "topics", "stage", "content_type", "excluded_from_intent"],
    )
    timestamps = pd.to_datetime(frame["timestamp"], utc=True)
    return frame.assign(
        timestamp=timestamps,
        url=frame["path"],
        visitor_key="reader-" + frame["account_id"],
        visit_id="reader-" + frame["account_id"] + "@" + timestamps.dt.strftime("%Y-%m-%d"),
        matched_by="domain",
        organization=frame["account_id"],
        country="US",
        referrer=None,
    ).merge(tags, on="path", how="left")


def daily(account: str, first_day: dt.date, days: int, paths: list[str]) -> list[tuple[str, pd.Timestamp, str]]:
    """``account`` reads ``paths`` on each of ``days`` days from ``first_day``."""
    start = pd.Timestamp(first_day, tz="UTC") + pd.Timedelta(hours=9)
    return [
        (account, start + pd.Timedelta(days=day, minutes=minute), path)
        for day in range(days)
        for minute, path in enumerate(paths)
    ]


def surge_of(current: pd.DataFrame, baseline: pd.DataFrame, settings: IntentSettings = SETTINGS) -> pd.DataFrame:
    result = surge_scores(current, baseline, window_days=WINDOW_DAYS, baseline_days=BASELINE_DAYS, settings=settings)
    return result.set_index("account_id")


NO_HITS = hits()
BASELINE_START = WINDOW_START - dt.timedelta(days=BASELINE_DAYS)


# --- settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {"surge_treshold": 80},  # a typo
        {"surge_min_days": 1},  # would let a single visit surge
        {"surge_threshold": 50},  # "surging" at baseline
        {"hot_score": 30},  # hot below warm
        {"mqa_min_stage": "purchase"},
        {"surge_threshold": 101},  # scores end at 100
        {"hot_score": 101},
        {"mqa_min_score": 101},
    ],
)
def test_impossible_intent_settings_are_rejected(settings: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        IntentSettings(**settings)


@pytest.mark.parametrize(
    "settings",
    [
        {"baseline_weeks": 1},
        {"surge_min_days": 2},
        {"surge_threshold": 50.5},  # just above "as usual"
        {"surge_threshold": 100},
        {"warm_score": 0, "hot_score": 0, "mqa_min_score": 0},  # every account at least hot
        {"warm_score": 100, "hot_score": 100, "mqa_min_score": 100},
        {"warm_score": 55, "hot_score": 55},  # no warm band
    ],
)
def test_the_extremes_of_the_intent_settings_are_accepted(settings: dict[str, object]) -> None:
    assert IntentSettings(**settings).model_dump(include=set(settings)) == settings


# --- surge, by example ------------------------------------------------------------------


def test_reading_three_times_as_much_as_usual_is_a_surge() -> None:
    baseline = hits(*daily("NORTHWIND", BASELINE_START, BASELINE_DAYS, ["/blog/last-mile"]))
    current = hits(*daily("NORTHWIND", WINDOW_START, WINDOW_DAYS, ["/pricing", "/demo", "/docs/api"]))
    surge = surge_of(current, baseline).loc["NORTHWIND"]
    assert (surge["current_rate"], surge["baseline_rate"]) == (3.0, 1.0)
    assert surge["surge"] == pytest.approx(
        100 * 3.3 / (3.3 + 1.3)
    )  # 71.7: the prior of 0.3 pages/day tempers 3× to 2.5×
    assert surge["surging"]
    assert surge["surge_reason"] == "3.0× its 12-week baseline (3.0 pages/day vs 1.0)"


def test_a_new_account_surges_on_strong_reading_but_not_on_the_bare_minimum() -> None:
    strong = daily("NORTHWIND", WINDOW_START, 2, sorted(set(PAGES) - {"/careers"}))
    bare_minimum = daily("CONTOSO", WINDOW_START, 2, ["/pricing", "/demo", "/docs/api"])[:5]
    surges = surge_of(hits(*strong, *bare_minimum), NO_HITS)
    assert surges.loc["NORTHWIND", "surging"] and not surges.loc["CONTOSO", "surging"]
    assert surges.loc["NORTHWIND", "surge_reason"] == "0.71 pages/day, none in its 12-week baseline"
    # Exactly the minimum evidence (5 pages on 2 days) is judged, though not a surge.
    assert surges.loc["CONTOSO", "surge_reason"] == "0.36 pages/day, none in its 12-week baseline"


def test_the_default_surge_threshold_is_70() -> None:
    # 6 pages in 14 days after a silent baseline: (0.43 + 0.3) / 0.3 = 2.43 times, a surge of 70.8.
    six_pages = hits(*daily("NORTHWIND", WINDOW_START, 2, ["/pricing", "/demo", "/docs/api"]))
    surge = surge_of(six_pages, NO_HITS).loc["NORTHWIND"]
    assert 70 < surge["surge"] < 71
    assert surge["surging"]


def test_the_surge_reason_shows_the_multiple_to_one_decimal() -> None:
    baseline = hits(*daily("NORTHWIND", BASELINE_START, 59, ["/blog/last-mile"]))  # 0.70 pages/day
    current = hits(*daily("NORTHWIND", WINDOW_START, WINDOW_DAYS, ["/pricing", "/demo", "/docs/api"]))
    assert surge_of(current, baseline).loc["NORTHWIND", "surge_reason"] == (
        "4.3× its 12-week baseline (3.0 pages/day vs 0.7)"
    )


def test_a_surge_exactly_at_the_threshold_is_surging() -> None:
    # Numbers exact in binary: baseline 0.5 pages/day, window 2.5, prior 0.5: ratio 3, surge 75.
    settings = IntentSettings(surge_prior_pages_per_day=0.5, surge_threshold=75)
    baseline = hits(*daily("NORTHWIND", BASELINE_START, 42, ["/blog/last-mile"]))
    current = hits(*daily("NORTHWIND", WINDOW_START, 7, sorted(set(PAGES) - {"/careers"})))
    surge = surge_of(current, baseline, settings).loc["NORTHWIND"]
    assert (surge["current_rate"], surge["baseline_rate"], surge["surge"]) == (2.5, 0.5, 75.0)
    assert surge["surging"]


def test_one_long_visit_or_reloading_a_page_is_never_a_surge() -> None:
    one_visit = daily("NORTHWIND", WINDOW_START, 1, list(PAGES) * 3)
    reloads = daily("CONTOSO", WINDOW_START, 2, ["/pricing"] * 10)
    surges = surge_of(hits(*one_visit, *reloads), NO_HITS)
    assert surges["surge"].tolist() == [50.0, 50.0]
    assert not surges["surging"].any()
    assert surges.loc["CONTOSO", "surge_reason"] == (
        "too little reading to judge: 2 pages on 2 days (a surge needs 5 pages on 2 days)"
    )


def test_pages_excluded_from_intent_are_no_evidence_of_a_surge() -> None:
    surges = surge_of(hits(*daily("NORTHWIND", WINDOW_START, 7, ["/careers"])), NO_HITS)
    assert surges.columns.tolist() == SURGE_COLUMNS[1:]
    assert surges.loc["NORTHWIND", ["surge", "current_rate", "surging"]].tolist() == [50.0, 0.0, False]


# --- surge, properties -------------------------------------------------------------------

# Building frames takes a few milliseconds, or many more on a busy machine: no deadline.
PROPERTY = hypothesis.settings(deadline=None)

reading = st.tuples(
    st.sampled_from(["NORTHWIND", "CONTOSO"]),
    st.integers(min_value=0, max_value=WINDOW_DAYS - 1),  # day of the window (or of a 14-day stretch of the baseline)
    st.sampled_from(sorted(PAGES)),
)


def window_frame(rows: list[tuple[str, int, str]]) -> pd.DataFrame:
    start = pd.Timestamp(WINDOW_START, tz="UTC") + pd.Timedelta(hours=9)
    return hits(*[(account, start + pd.Timedelta(days=day), path) for account, day, path in rows])


def baseline_frame(rows: list[tuple[str, int, str]], cycles: int = BASELINE_DAYS // WINDOW_DAYS) -> pd.DataFrame:
    """``rows`` repeated in each 14-day stretch of the baseline."""
    return hits(
        *[
            (
                account,
                pd.Timestamp(BASELINE_START, tz="UTC") + pd.Timedelta(days=cycle * WINDOW_DAYS + day, hours=9),
                path,
            )
            for cycle in range(cycles)
            for account, day, path in rows
        ]
    )


@PROPERTY
@given(st.lists(reading, min_size=1, max_size=40), st.lists(reading, max_size=40))
def test_the_surge_is_always_between_0_and_100(current: list, baseline: list) -> None:
    assert surge_of(window_frame(current), baseline_frame(baseline))["surge"].between(0, 100).all()


@PROPERTY
@given(st.lists(reading, min_size=1, max_size=40), st.lists(reading, max_size=40), reading)
def test_more_reading_in_the_window_never_ends_or_lowers_a_surge(current: list, baseline: list, extra: tuple) -> None:
    before = surge_of(window_frame(current), baseline_frame(baseline))
    after = surge_of(window_frame([*current, extra]), baseline_frame(baseline)).loc[before.index]
    assert (after["surging"] >= before["surging"]).all()
    # Until the evidence suffices the surge is a neutral 50, which the real figure may undercut.
    judged = ~before["surge_reason"].str.startswith("too little")
    assert (after.loc[judged, "surge"] >= before.loc[judged, "surge"]).all()


@PROPERTY
@given(st.lists(reading, min_size=1, max_size=40), st.lists(reading, max_size=40), reading)
def test_more_reading_in_the_baseline_never_raises_the_surge(current: list, baseline: list, extra: tuple) -> None:
    before = surge_of(window_frame(current), baseline_frame(baseline))
    after = surge_of(window_frame(current), baseline_frame([*baseline, extra]))
    assert (after["surge"] <= before["surge"]).all()


@PROPERTY
@given(
    st.lists(reading.map(lambda row: row[1:]), min_size=2, max_size=30),  # (day, path): one account's two weeks
    st.integers(min_value=1, max_value=12),
    st.floats(min_value=0.01, max_value=10),
)
def test_an_account_reading_as_it_always_does_scores_exactly_50(pattern: list, fortnights: int, prior: float) -> None:
    assume(len({day for day, path in pattern if not PAGES[path][3]}) >= 2)
    settings = IntentSettings(surge_min_pageviews=1, surge_prior_pages_per_day=prior)
    rows = [("NORTHWIND", day, path) for day, path in pattern]
    surge = surge_scores(
        window_frame(rows),
        baseline_frame(rows, cycles=fortnights),
        window_days=WINDOW_DAYS,
        baseline_days=fortnights * WINDOW_DAYS,
        settings=settings,
    ).iloc[0]
    assert not surge["surge_reason"].startswith("too little")  # the formula decided, not the evidence rule
    assert surge["surge"] == 50.0
    assert not surge["surging"]


@PROPERTY
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=23), st.sampled_from(sorted(PAGES))), min_size=1, max_size=40
    ),
    st.lists(reading, max_size=20),
)
def test_a_single_day_of_reading_never_surges_however_much(one_day: list, baseline: list) -> None:
    last_day = pd.Timestamp(WINDOW_END, tz="UTC")
    current = hits(*[("NORTHWIND", last_day + pd.Timedelta(hours=hour), path) for hour, path in one_day])
    surge = surge_of(current, baseline_frame(baseline)).loc["NORTHWIND"]
    assert (surge["surge"], surge["surging"]) == (50.0, False)


@PROPERTY
@given(st.lists(reading, min_size=1, max_size=4), st.lists(reading, max_size=20))
def test_fewer_pages_than_the_minimum_never_surge(current: list, baseline: list) -> None:
    surges = surge_of(window_frame(current), baseline_frame(baseline))
    assert (surges["surge"] == 50.0).all()
    assert not surges["surging"].any()


# --- levels and MQA ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "surging", "level"),
    [
        (39.9, False, "cold"),
        (39.9, True, "cold"),  # a surge of almost nothing is still almost nothing
        (40.0, False, "warm"),
        (69.9, False, "warm"),
        (40.0, True, "hot"),  # warm and reading far more than usual: call now
        (70.0, False, "hot"),
    ],
)
def test_levels_follow_the_score_thresholds_and_the_surge(score: float, surging: bool, level: str) -> None:
    assert intent_levels(pd.Series([score]), pd.Series([surging]), SETTINGS).tolist() == [level]


@pytest.mark.parametrize(
    ("score", "stage", "mqa"),
    [
        (60.0, "consideration", True),
        (95.0, "decision", True),
        (59.9, "decision", False),  # not enough reading
        (95.0, "awareness", False),  # plenty of reading, but only blog posts
        (95.0, None, False),  # only untagged pages
    ],
)
def test_an_account_is_marketing_qualified_by_score_and_stage(score: float, stage: str | None, mqa: bool) -> None:
    assert marketing_qualified(pd.Series([score]), pd.Series([stage], dtype="str"), SETTINGS).tolist() == [mqa]


# --- movement between windows -------------------------------------------------------------


def accounts_frame(*rows: tuple[str, str | None, float]) -> pd.DataFrame:
    """An accounts frame from ``(account_id, furthest_stage, intent_score)`` rows."""
    frame = pd.DataFrame(rows, columns=["account_id", "furthest_stage", "intent_score"])
    return frame.assign(name=frame["account_id"].str.title())


def test_each_account_gets_its_movement_since_the_previous_window() -> None:
    previous = accounts_frame(
        ("ADVANCED", "consideration", 30.0),
        ("RECEDED", "decision", 80.0),
        ("STEADY", "decision", 50.0),
        ("QUIET", "consideration", 45.0),
    )
    current = accounts_frame(
        ("ADVANCED", "decision", 75.0),
        ("STEADY", "decision", 52.0),
        ("RETURNING", "awareness", 20.0),
        ("RECEDED", "awareness", 10.0),
        ("NEW", "consideration", 5.0),
    )
    moved = movements(current, previous, seen_before={"RETURNING", "QUIET"})
    assert moved.columns.tolist() == MOVEMENT_COLUMNS
    assert dict(zip(moved["account_id"], moved["movement"])) == {
        "ADVANCED": "stage_advanced",
        "STEADY": "steady",
        "RETURNING": "returning",
        "RECEDED": "stage_receded",
        "NEW": "new",
        "QUIET": "gone_quiet",
    }
    by_account = moved.set_index("account_id")
    assert by_account.loc[
        "ADVANCED", ["previous_stage", "furthest_stage", "previous_score", "score_change"]
    ].tolist() == [
        "consideration",
        "decision",
        30.0,
        45.0,
    ]
    quiet = by_account.loc["QUIET"]
    assert quiet[["name", "previous_stage", "previous_score", "intent_score", "score_change"]].tolist() == [
        "Quiet",
        "consideration",
        45.0,
        0.0,
        -45.0,
    ]
    assert pd.isna(by_account.loc["NEW", "previous_score"]) and pd.isna(by_account.loc["NEW", "score_change"])


def test_without_a_previous_window_accounts_are_new_or_returning() -> None:
    moved = movements(accounts_frame(("SEEN", "decision", 40.0), ("UNSEEN", None, 0.0)), None, seen_before={"SEEN"})
    assert moved["movement"].tolist() == ["returning", "new"]


def test_reaching_a_first_stage_is_an_advance() -> None:
    moved = movements(accounts_frame(("A", "awareness", 5.0)), accounts_frame(("A", None, 0.0)), seen_before=set())
    assert moved["movement"].tolist() == ["stage_advanced"]


# --- the whole assessment and its explanation -----------------------------------------------


def assess(window_rows: list, baseline_rows: list, previous: pd.DataFrame | None = None) -> pd.DataFrame:
    weights = ScoringWeights()
    window_hits = hits(*window_rows)
    window = {"window_start": WINDOW_START, "window_end": WINDOW_END}
    return assess_accounts(
        build_account_activity(window_hits, ACCOUNTS, **window, weights=weights).accounts,
        window_hits=window_hits,
        baseline_hits=hits(*baseline_rows),
        previous_accounts=previous,
        seen_before=set(),
        **window,
        weights=weights,
        settings=SETTINGS,
    ).set_index("account_id")


# Northwind compares prices and books a demo in the last days of the window, after weeks
# of reading a blog post now and then; Contoso reads one blog post.
NORTHWIND_WINDOW = daily("NORTHWIND", WINDOW_END - dt.timedelta(days=2), 3, ["/pricing", "/demo", "/docs/api"])
NORTHWIND_BASELINE = daily("NORTHWIND", BASELINE_START, 4, ["/blog/last-mile"])
CONTOSO_WINDOW = [("CONTOSO", "2026-10-03 10:00", "/blog/last-mile")]


def test_the_assessment_adds_exactly_its_columns_to_the_accounts() -> None:
    assessed = assess([*NORTHWIND_WINDOW, *CONTOSO_WINDOW], NORTHWIND_BASELINE)
    assert assessed.columns.tolist()[-len(ASSESSMENT_COLUMNS) :] == ASSESSMENT_COLUMNS
    assert assessed.loc["NORTHWIND", ["level", "surging", "mqa", "movement"]].tolist() == ["hot", True, True, "new"]
    assert assessed.loc["CONTOSO", ["level", "surge", "surging", "mqa"]].tolist() == ["cold", 50.0, False, False]


def test_top_contributions_list_the_pages_that_earned_the_points() -> None:
    assessed = assess([*NORTHWIND_WINDOW, *CONTOSO_WINDOW], NORTHWIND_BASELINE)
    assert assessed.loc["NORTHWIND", "top_contributions"] == "/demo (27.6); /pricing (20.7); /docs/api (5.2)"
    assert assessed.loc["CONTOSO", "top_contributions"] == "/blog/last-mile (0.3)"


def test_the_explanation_names_the_level_the_surge_and_the_pages_behind_them() -> None:
    assessed = assess([*NORTHWIND_WINDOW, *CONTOSO_WINDOW], NORTHWIND_BASELINE)
    score = assessed.loc["NORTHWIND", "intent_score"]
    assert assessed.loc["NORTHWIND", "explanation"] == (
        f"Hot: score {score} ≥ 70."
        " Surging: 13.5× its 12-week baseline (0.64 pages/day vs 0.05)."
        " MQA: score ≥ 60 and reached decision."
        " Top pages: /demo (27.6); /pricing (20.7); /docs/api (5.2)."
        " Top topics: pricing (20.7); integrations (5.2)."
    )
    assert assessed.loc["CONTOSO", "explanation"] == (
        "Cold: score 0.8 < 40. Top pages: /blog/last-mile (0.3). Top topics: fleet-tracking (0.3)."
    )


def test_a_warm_account_that_surges_is_explained_as_hot_because_of_the_surge() -> None:
    accounts = pd.DataFrame(
        {
            "account_id": ["A"],
            "intent_score": [55.0],
            "furthest_stage": ["consideration"],
            "level": ["hot"],
            "mqa": [False],
        }
    )
    reason = "4.0× its 12-week baseline (2.0 pages/day vs 0.5)"
    surge = pd.DataFrame({"account_id": ["A"], "surging": [True], "surge_reason": [reason]})
    contributions = pd.DataFrame({"account_id": ["A"], "path": ["/docs/api"], "points": [12.5]})
    topics = pd.DataFrame({"account_id": ["A"], "topic": ["integrations"], "points": [12.5], "score": [26.8]})
    assert explain_accounts(accounts, contributions, topics, surge, SETTINGS).tolist() == [
        "Hot: score 55.0 ≥ 40 while surging. Surging: 4.0× its 12-week baseline (2.0 pages/day vs 0.5)."
        " Top pages: /docs/api (12.5). Top topics: integrations (12.5)."
    ]


def test_the_explanation_gives_the_reason_for_each_level_and_at_most_three_topics() -> None:
    accounts = pd.DataFrame(
        {
            "account_id": ["AT_HOT", "SURGING", "NO_SURGE_DATA"],
            "intent_score": [70.0, 55.04, 82.46],  # shown to one decimal
            "furthest_stage": ["decision"] * 3,
            "level": ["hot"] * 3,
            "mqa": [False] * 3,
        }
    )
    surge = pd.DataFrame({"account_id": ["AT_HOT", "SURGING"], "surging": [False, True], "surge_reason": ["-", "3×"]})
    contributions = pd.DataFrame(
        {"account_id": ["AT_HOT", "SURGING", "NO_SURGE_DATA"], "path": "/pricing", "points": 12.0}
    )
    topics = pd.DataFrame(
        {
            "account_id": ["AT_HOT"] * 4,
            "topic": ["pricing", "integrations", "telematics", "fleet-tracking"],
            "points": [12.0, 3.0, 2.0, 1.0],
        }
    )
    explanations = explain_accounts(accounts, contributions, topics, surge, SETTINGS).tolist()
    assert explanations == [
        "Hot: score 70.0 ≥ 70. Top pages: /pricing (12.0). Top topics: pricing (12.0); integrations (3.0); telematics (2.0).",
        "Hot: score 55.0 ≥ 40 while surging. Surging: 3×. Top pages: /pricing (12.0).",
        "Hot: score 82.5 ≥ 70. Top pages: /pricing (12.0).",  # missing from the surges: no surge sentence
    ]


def test_topics_that_earned_no_points_are_not_named_in_the_explanation() -> None:
    accounts = pd.DataFrame(
        {"account_id": ["A"], "intent_score": [26.8], "furthest_stage": ["consideration"], "level": ["cold"]}
    ).assign(mqa=False)
    no_surge = pd.DataFrame({"account_id": ["A"], "surging": [False], "surge_reason": ["too little reading"]})
    contributions = pd.DataFrame({"account_id": ["A"], "path": ["/docs/api"], "points": [12.5]})
    topics = pd.DataFrame(
        {"account_id": ["A", "A"], "topic": ["integrations", "careers"], "points": [12.5, 0.0], "score": [26.8, 0.0]}
    )
    assert explain_accounts(accounts, contributions, topics, no_surge, SETTINGS).tolist() == [
        "Cold: score 26.8 < 40. Top pages: /docs/api (12.5). Top topics: integrations (12.5)."
    ]


def test_the_movement_and_score_change_come_from_the_previous_window() -> None:
    previous = accounts_frame(("NORTHWIND", "consideration", 35.0), ("INITECH", "decision", 60.0))
    assessed = assess(NORTHWIND_WINDOW, NORTHWIND_BASELINE, previous)
    northwind = assessed.loc["NORTHWIND"]
    assert northwind[["movement", "previous_stage", "previous_score"]].tolist() == [
        "stage_advanced",
        "consideration",
        35.0,
    ]
    assert northwind["score_change"] == pytest.approx(northwind["intent_score"] - 35.0)
    assert assessed.index.tolist() == ["NORTHWIND"]  # gone-quiet accounts are not among this window's accounts


def test_the_baseline_ends_the_day_before_the_window() -> None:
    day_before = pd.Timestamp(WINDOW_START - dt.timedelta(days=1), tz="UTC") + pd.Timedelta(hours=9)
    assessed = assess(NORTHWIND_WINDOW, [("NORTHWIND", day_before, "/blog/last-mile")])
    assert "(0.64 pages/day vs 0.01)" in assessed.loc["NORTHWIND", "explanation"]


def test_a_window_without_account_activity_assesses_to_no_accounts() -> None:
    assessed = assess([], NORTHWIND_BASELINE)
    assert assessed.empty
    assert assessed.columns.tolist()[-len(ASSESSMENT_COLUMNS) :] == ASSESSMENT_COLUMNS


def test_a_score_jump_at_the_same_stage_is_a_movement_not_steady() -> None:
    previous = accounts_frame(("JUMPED", "decision", 40.0), ("DROPPED", "decision", 60.0), ("NUDGED", "decision", 50.0))
    current = accounts_frame(("JUMPED", "decision", 62.0), ("DROPPED", "decision", 30.0), ("NUDGED", "decision", 53.0))
    moved = movements(current, previous, seen_before=set())
    assert dict(zip(moved["account_id"], moved["movement"])) == {
        "JUMPED": "score_rose",
        "DROPPED": "score_fell",
        "NUDGED": "steady",
    }


def test_a_change_of_exactly_the_trend_threshold_counts_as_a_movement() -> None:
    previous = accounts_frame(("UP", "awareness", 10.0), ("DOWN", "awareness", 10.0))
    current = accounts_frame(
        ("UP", "awareness", 10.0 + TREND_MIN_CHANGE), ("DOWN", "awareness", 10.0 - TREND_MIN_CHANGE)
    )
    assert movements(current, previous, seen_before=set())["movement"].tolist() == ["score_rose", "score_fell"]
