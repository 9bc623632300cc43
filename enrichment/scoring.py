"""The intent score: how strongly an account's reading in a window signals buying intent.

Each page an account reads earns points for its funnel stage (a pricing page says more
than a blog post) times a multiplier for its content type. A page counts once per day,
however often it is reloaded that day, and its points halve every ``half_life_days``
between that day and the window's last day, so last week's reading outweighs last
month's. Reading the same page again on other days has diminishing returns: the page's
most recent day earns its full points, the one before that half, the k-th most recent
1/k. The points of all page-days add up and saturate into a score of 0..100:

    intent_score = 100 * (1 - exp(-points / saturation))

so the first signals move the score most and no account runs away with it. With the
defaults, one pricing page read today (8 * 1.5 = 12 points) scores 26; 40 points score 63.

``score_topics`` applies the same formula to each topic's pages alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat

from enrichment.tagging import TOPIC_SEPARATOR, Stage


class ScoringWeights(BaseModel):
    """How page views become intent points (``scoring:`` in the settings file).

    A mapping given in the settings replaces its default as a whole. Pages without a stage
    (untagged) earn no points; content types not listed have a multiplier of 1.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    stage_points: dict[Stage, NonNegativeFloat] = Field(
        default_factory=lambda: {"awareness": 1.0, "consideration": 3.0, "decision": 8.0}
    )
    content_type_multipliers: dict[str, NonNegativeFloat] = Field(
        default_factory=lambda: {
            "pricing": 1.5,
            "demo_request": 2.0,
            "contact": 1.5,
            "case_study": 1.2,
            "comparison": 1.2,
            "docs": 1.0,
            "blog": 1.0,
        }
    )
    half_life_days: float = Field(default=7.0, gt=0)
    saturation: float = Field(default=40.0, gt=0)


def score_accounts(account_hits: pd.DataFrame, *, window_end: pd.Timestamp, weights: ScoringWeights) -> pd.DataFrame:
    """``account_id, intent_score, points``: one row per account in ``account_hits``.

    ``account_hits`` are attributed hits of the window; ``window_end`` is its last day (UTC).
    """
    totals = _page_day_points(account_hits, window_end, weights, by=["account_id"])
    totals = totals.groupby("account_id", as_index=False)["points"].sum()
    totals["intent_score"] = _saturate(totals["points"], weights)
    return totals[["account_id", "intent_score", "points"]]


def score_topics(account_hits: pd.DataFrame, *, window_end: pd.Timestamp, weights: ScoringWeights) -> pd.DataFrame:
    """``account_id, topic, points, score``: the intent score of each account restricted to each topic's pages.

    A page with several topics counts fully in each; pages without a topic are left out.
    Rows are per account, the highest-scoring topic first.
    """
    topic_hits = account_hits.assign(topic=account_hits["topics"].str.split(TOPIC_SEPARATOR)).explode("topic")
    topic_hits = topic_hits[topic_hits["topic"].notna() & (topic_hits["topic"] != "")]
    totals = _page_day_points(topic_hits, window_end, weights, by=["account_id", "topic"])
    totals = totals.groupby(["account_id", "topic"], as_index=False)["points"].sum()
    totals["score"] = _saturate(totals["points"], weights)
    ranked = totals.sort_values(["account_id", "points", "topic"], ascending=[True, False, True], ignore_index=True)
    return ranked[["account_id", "topic", "points", "score"]]


def score_contributions(
    account_hits: pd.DataFrame, *, window_end: pd.Timestamp, weights: ScoringWeights, top_n: int = 5
) -> pd.DataFrame:
    """``account_id, path, points``: the pages that earned each account most of its points."""
    by_page = _page_day_points(account_hits, window_end, weights, by=["account_id"])
    by_page = by_page.groupby(["account_id", "path"], as_index=False)["points"].sum()
    ranked = by_page[by_page["points"] > 0].sort_values(["account_id", "points", "path"], ascending=[True, False, True])
    return ranked.groupby("account_id").head(top_n).reset_index(drop=True)


def _saturate(points: pd.Series, weights: ScoringWeights) -> pd.Series:
    """Points as a score of 0..100 that rises fastest for the first points."""
    return 100 * (1 - np.exp(-points / weights.saturation))


def _page_day_points(
    hits: pd.DataFrame, window_end: pd.Timestamp, weights: ScoringWeights, by: list[str]
) -> pd.DataFrame:
    """``*by, path, day, points``: what each page earned on each day it was read, per ``by`` (account, topic)."""
    day = hits["timestamp"].dt.floor("D")
    age_days = (pd.Timestamp(window_end).floor("D") - day).dt.days
    points = (
        # Cast before filling: mapping an all-missing text column keeps its text dtype.
        hits["stage"].map(weights.stage_points).astype("float64").fillna(0.0)
        * hits["content_type"].map(weights.content_type_multipliers).astype("float64").fillna(1.0)
        * 0.5 ** (age_days / weights.half_life_days)
    ).where(~hits["excluded_from_intent"], 0.0)
    page_days = hits[[*by, "path"]].assign(day=day, points=points.astype("float64"))
    # Hits of one page on one day share their points: reloads add nothing.
    page_days = page_days.groupby([*by, "path", "day"], as_index=False)["points"].max()
    # Rereading a page on other days shows lasting interest, but less new intent each time:
    # its k-th best day earns 1/k. Ranking by points rather than by date (the same thing for
    # one page, since only decay tells its days apart) means an extra day never lowers a score.
    repeat = page_days.groupby([*by, "path"])["points"].rank(method="first", ascending=False)
    page_days["points"] /= repeat
    return page_days
