"""Intent that sales can trust: surge, level, MQA, movement and the reasons, per target account.

The intent score (``enrichment.scoring``) says how much an account read and how close to
buying it was. This module adds what a salesperson asks next:

- **Surge**: is the account reading more than it usually does? Its pages per day in the
  window are compared with its own trailing baseline (``baseline_weeks`` before the window).
  50 is "as usual"; above 50 is more. Below the minimum evidence the surge is 50 and never
  "surging": one visit is never a surge.
- **Level**: cold, warm or hot from the score; a surging account that is at least warm is hot,
  because reading well above its own habit is the moment to call.
- **MQA** (marketing-qualified account): score and furthest funnel stage both high enough.
- **Movement** since the previous window: new, returning, stage advanced or receded, score
  rose or fell (same stage, a trend-sized change: ``enrichment.trend``), steady, gone quiet.
- **Explanation**: the above in one short paragraph, with the pages and topics that earned
  the points.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from enrichment.activity import hits_in_window
from enrichment.scoring import ScoringWeights, score_contributions, score_topics
from enrichment.tagging import STAGES, Stage
from enrichment.trend import TREND_MIN_CHANGE

SURGE_COLUMNS = ["account_id", "surge", "current_rate", "baseline_rate", "surging", "surge_reason"]
MOVEMENT_COLUMNS = [
    "account_id",
    "name",
    "movement",
    "previous_stage",
    "furthest_stage",
    "previous_score",
    "intent_score",
    "score_change",
]
ASSESSMENT_COLUMNS = [
    "surge",
    "surging",
    "level",
    "mqa",
    "previous_score",
    "score_change",
    "previous_stage",
    "movement",
    "explanation",
    "top_contributions",
]

STAGE_RANK = {stage: rank for rank, stage in enumerate(STAGES)}
NO_STAGE = -1  # ranks below every stage, so reaching awareness from nothing is an advance
TOP_TOPICS = 3  # the explanation is read at a glance: a few topics say what the account is after


class IntentSettings(BaseModel):
    """When an account surges, how hot it is and when it is marketing-qualified."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    baseline_weeks: int = Field(default=12, ge=1)
    # Pages are counted once per page and day, as in the score: reloads are not evidence.
    surge_min_pageviews: int = Field(default=5, ge=1)
    # At least 2: a visit never spans two days (visits are cut at midnight UTC), so one visit
    # can never be a surge.
    surge_min_days: int = Field(default=2, ge=2)
    # Reading every account is assumed to do anyway, added to both rates: without it, any
    # reading after a silent baseline would be an infinite surge.
    surge_prior_pages_per_day: float = Field(default=0.3, gt=0)
    surge_threshold: float = Field(default=70, gt=50, le=100)
    warm_score: float = Field(default=40, ge=0, le=100)
    hot_score: float = Field(default=70, ge=0, le=100)
    mqa_min_score: float = Field(default=60, ge=0, le=100)
    mqa_min_stage: Stage = "consideration"

    @model_validator(mode="after")
    def _hot_above_warm(self) -> IntentSettings:
        if self.hot_score < self.warm_score:
            raise ValueError("hot_score must not be below warm_score")
        return self


def assess_accounts(
    accounts: pd.DataFrame,
    *,
    window_hits: pd.DataFrame,
    baseline_hits: pd.DataFrame,
    previous_accounts: pd.DataFrame | None,
    seen_before: Set[str],
    window_start: dt.date,
    window_end: dt.date,
    weights: ScoringWeights,
    settings: IntentSettings,
) -> pd.DataFrame:
    """``accounts`` (the window's ``AccountActivity.accounts``) plus ``ASSESSMENT_COLUMNS``.

    ``window_hits`` and ``baseline_hits`` are attributed hits of target accounts; only those
    of the window, and of the ``baseline_weeks`` before it, count. ``previous_accounts`` is
    the previous window's accounts frame (None when there is none); ``seen_before`` the
    accounts active in any earlier window.
    """
    ids = accounts["account_id"]
    hits = hits_in_window(window_hits, window_start, window_end)
    hits = hits[hits["account_id"].isin(ids)]
    baseline_start = window_start - dt.timedelta(weeks=settings.baseline_weeks)
    baseline = hits_in_window(baseline_hits, baseline_start, window_start - dt.timedelta(days=1))
    surge = surge_scores(
        hits,
        baseline[baseline["account_id"].isin(ids)],
        window_days=(window_end - window_start).days + 1,
        baseline_days=settings.baseline_weeks * 7,
        settings=settings,
    )
    end = pd.Timestamp(window_end, tz="UTC")
    contributions = score_contributions(hits, window_end=end, weights=weights)
    moves = movements(accounts, previous_accounts, seen_before)
    assessed = accounts.merge(surge[["account_id", "surge", "surging"]], on="account_id", how="left").merge(
        moves.drop(columns=["name", "furthest_stage", "intent_score"]), on="account_id", how="left"
    )
    assessed = assessed.assign(
        level=intent_levels(assessed["intent_score"], assessed["surging"], settings),
        mqa=marketing_qualified(assessed["intent_score"], assessed["furthest_stage"], settings),
        top_contributions=assessed["account_id"].map(_ranked_labels(contributions, "path")).fillna(""),
    )
    topic_scores = score_topics(hits, window_end=end, weights=weights)
    assessed["explanation"] = explain_accounts(assessed, contributions, topic_scores, surge, settings)
    return assessed[[*accounts.columns, *ASSESSMENT_COLUMNS]]


def surge_scores(
    current_hits: pd.DataFrame,
    baseline_hits: pd.DataFrame,
    *,
    window_days: int,
    baseline_days: int,
    settings: IntentSettings,
) -> pd.DataFrame:
    """``SURGE_COLUMNS``: how much more each account of ``current_hits`` reads than it usually does.

    Rates are intent pages per day (each page once a day; pages excluded from intent do not
    count). Volume, not points: the score already weighs what was read and how recently,
    and recency decay would make a baseline's points incomparable with the window's. With
    ``p`` the prior rate (``surge_prior_pages_per_day``):

        ratio = (current_rate + p) / (baseline_rate + p)
        surge = 100 * ratio / (1 + ratio)

    which is 50 at baseline, 70 at 2.3×, 75 at 3×, below 50 for less reading than usual,
    and never leaves 0..100. Below the minimum evidence (pages and days in the window) the
    surge is exactly 50.
    """
    accounts = current_hits["account_id"].drop_duplicates().sort_values()
    current = _reading(current_hits).reindex(accounts, fill_value=0)
    baseline = _reading(baseline_hits).reindex(accounts, fill_value=0)
    current_rate = current["pages"] / window_days
    baseline_rate = baseline["pages"] / baseline_days
    ratio = (current_rate + settings.surge_prior_pages_per_day) / (baseline_rate + settings.surge_prior_pages_per_day)
    enough = (current["pages"] >= settings.surge_min_pageviews) & (current["days"] >= settings.surge_min_days)
    surge = (100 * ratio / (1 + ratio)).where(enough, 50.0)
    surges = pd.DataFrame(
        {
            "surge": surge,
            "current_rate": current_rate,
            "baseline_rate": baseline_rate,
            "surging": enough & (surge >= settings.surge_threshold),
        }
    )
    surges["surge_reason"] = _surge_reasons(surges, current, enough, baseline_days, settings)
    return surges.rename_axis("account_id").reset_index()[SURGE_COLUMNS]


def intent_levels(scores: pd.Series, surging: pd.Series, settings: IntentSettings) -> pd.Series:
    """``cold``, ``warm`` or ``hot`` per account; a surging account that is at least warm is hot."""
    warm = scores >= settings.warm_score
    hot = (scores >= settings.hot_score) | (warm & surging)
    return pd.Series(np.select([hot, warm], ["hot", "warm"], "cold"), index=scores.index, dtype="str")


def marketing_qualified(scores: pd.Series, furthest_stages: pd.Series, settings: IntentSettings) -> pd.Series:
    """True where the score reaches ``mqa_min_score`` and the furthest stage ``mqa_min_stage``."""
    far_enough = _stage_ranks(furthest_stages) >= STAGE_RANK[settings.mqa_min_stage]
    return (scores >= settings.mqa_min_score) & far_enough


def movements(current: pd.DataFrame, previous: pd.DataFrame | None, seen_before: Set[str]) -> pd.DataFrame:
    """``MOVEMENT_COLUMNS``: how each account moved since the previous window's accounts frame.

    ``new``: first time seen; ``returning``: absent from the previous window but in
    ``seen_before`` (active in an earlier one); ``stage_advanced`` or ``stage_receded`` by
    furthest stage; at the same stage, ``score_rose`` or ``score_fell`` when the score moved by
    at least ``TREND_MIN_CHANGE`` (the CRM's trend word says the same), else ``steady``;
    ``gone_quiet``: in the previous window, absent now (these rows come last, with score 0 and
    no stage). Current accounts keep their order.
    """
    columns = ["account_id", "name", "furthest_stage", "intent_score"]
    before = (previous if previous is not None else current.iloc[:0])[columns]
    quiet = before[~before["account_id"].isin(current["account_id"])].assign(furthest_stage=None, intent_score=0.0)
    previous_columns = {"furthest_stage": "previous_stage", "intent_score": "previous_score"}
    moved = pd.concat([current[columns], quiet], ignore_index=True).merge(
        before.drop(columns="name").rename(columns=previous_columns), on="account_id", how="left", indicator="compared"
    )
    now, then = _stage_ranks(moved["furthest_stage"]), _stage_ranks(moved["previous_stage"])
    absent_before = moved["compared"] == "left_only"
    moved["score_change"] = moved["intent_score"] - moved["previous_score"]
    moved["movement"] = np.select(
        [
            ~moved["account_id"].isin(current["account_id"]),
            absent_before & moved["account_id"].isin(seen_before),
            absent_before,
            now > then,
            now < then,
            moved["score_change"] >= TREND_MIN_CHANGE,
            moved["score_change"] <= -TREND_MIN_CHANGE,
        ],
        ["gone_quiet", "returning", "new", "stage_advanced", "stage_receded", "score_rose", "score_fell"],
        "steady",
    )
    return moved[MOVEMENT_COLUMNS]


def explain_accounts(
    accounts: pd.DataFrame,
    contributions: pd.DataFrame,
    topic_scores: pd.DataFrame,
    surge: pd.DataFrame,
    settings: IntentSettings,
) -> pd.Series:
    """Per account (aligned with ``accounts``), a few short sentences a salesperson can read aloud.

    "Hot: score 82.0 ≥ 70. Surging: 3.1× its 12-week baseline (9.0 pages/day vs 2.9).
    MQA: score ≥ 60 and reached decision. Top pages: /pricing (12.0); /demo (9.5).
    Top topics: pricing (21.5)."

    ``accounts`` needs ``account_id, intent_score, furthest_stage, level, mqa``;
    ``contributions`` comes from ``score_contributions``, ``topic_scores`` from
    ``score_topics`` and ``surge`` from ``surge_scores``.
    """
    ids = accounts["account_id"]
    by_account = surge.set_index("account_id")
    surging = ids.map(by_account["surging"]).fillna(False).astype(bool)
    # Text casts keep an empty window working: mapping onto no accounts gives numbers.
    sentences = pd.DataFrame(
        {
            "level": _level_reasons(accounts, settings),
            "surge": ("Surging: " + ids.map(by_account["surge_reason"]).astype("str")).where(surging),
            "mqa": (
                f"MQA: score ≥ {settings.mqa_min_score:g} and reached " + accounts["furthest_stage"].astype("str")
            ).where(accounts["mqa"]),
            "pages": "Top pages: " + ids.map(_ranked_labels(contributions, "path")).astype("str"),
            "topics": "Top topics: "
            + ids.map(_ranked_labels(topic_scores[topic_scores["points"] > 0], "topic", TOP_TOPICS)).astype("str"),
        }
    )
    present = sentences.stack().dropna()
    return (present + ".").groupby(level=0).agg(" ".join).reindex(accounts.index)


def _stage_ranks(stages: pd.Series) -> pd.Series:
    """Each stage's position in the funnel, ``NO_STAGE`` where there is none."""
    # Cast before filling: mapping an empty or all-missing text column keeps its text dtype.
    return stages.map(STAGE_RANK).astype("float64").fillna(NO_STAGE)


def _reading(hits: pd.DataFrame) -> pd.DataFrame:
    """``pages, days`` per account: intent pages read (once per page and day) and distinct days."""
    intent = hits[~hits["excluded_from_intent"]]
    page_days = intent[["account_id", "path"]].assign(day=intent["timestamp"].dt.floor("D")).drop_duplicates()
    return page_days.groupby("account_id").agg(pages=("path", "size"), days=("day", "nunique"))


def _surge_reasons(
    surges: pd.DataFrame, current: pd.DataFrame, enough: pd.Series, baseline_days: int, settings: IntentSettings
) -> pd.Series:
    """Why each surge is what it is, in words."""
    baseline = f"its {_period(baseline_days)} baseline"
    current_rate = surges["current_rate"].round(2).astype("str") + " pages/day"
    baseline_rate = surges["baseline_rate"].round(2).astype("str")
    # Shown unsmoothed: the reader compares the rates they see; the prior only tempers the score.
    multiple = (surges["current_rate"] / surges["baseline_rate"]).round(1).astype("str")
    compared = multiple + "× " + baseline + " (" + current_rate + " vs " + baseline_rate + ")"
    first_reading = current_rate + ", none in " + baseline
    too_little = (
        "too little reading to judge: "
        + current["pages"].astype("str")
        + " pages on "
        + current["days"].astype("str")
        + " days"
        + f" (a surge needs {settings.surge_min_pageviews} pages on {settings.surge_min_days} days)"
    )
    return compared.where(surges["baseline_rate"] > 0, first_reading).where(enough, too_little)


def _level_reasons(accounts: pd.DataFrame, settings: IntentSettings) -> pd.Series:
    """ "Hot: score 82.0 ≥ 70", "Hot: score 55.0 ≥ 40 while surging", "Warm: …", "Cold: score 12.0 < 40"."""
    score = "score " + accounts["intent_score"].round(1).astype("str")
    level = accounts["level"]
    return pd.Series(
        np.select(
            [
                (level == "hot") & (accounts["intent_score"] >= settings.hot_score),
                level == "hot",
                level == "warm",
            ],
            [
                "Hot: " + score + f" ≥ {settings.hot_score:g}",
                "Hot: " + score + f" ≥ {settings.warm_score:g} while surging",
                "Warm: " + score + f" ≥ {settings.warm_score:g}",
            ],
            "Cold: " + score + f" < {settings.warm_score:g}",
        ),
        index=accounts.index,
        dtype="str",
    )


def _ranked_labels(frame: pd.DataFrame, label: str, top_n: int | None = None) -> pd.Series:
    """Per account, ``label (points)`` of its rows in their order: ``"/pricing (12.0); /demo (9.5)"``."""
    rows = frame if top_n is None else frame.groupby("account_id").head(top_n)
    labels = rows[label] + " (" + rows["points"].round(1).astype("str") + ")"
    return labels.groupby(rows["account_id"]).agg("; ".join)


def _period(days: int) -> str:
    """``"12-week"`` for 84 days, ``"30-day"`` for 30."""
    return f"{days // 7}-week" if days % 7 == 0 else f"{days}-day"
