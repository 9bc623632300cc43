"""Account activity: what each target account read in a report window, and in what order."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from enrichment.scoring import ScoringWeights, score_accounts
from enrichment.tagging import STAGES, TOPIC_SEPARATOR

# Strongest evidence first: an account's own IP range beats a fuzzy name match.
MATCH_STRENGTH = {method: rank for rank, method in enumerate(("ip_range", "domain", "name", "alias", "fuzzy"))}

ACCOUNT_COLUMNS = [
    "account_id",
    "name",
    "crm_id",
    "owner",
    "matched_by",
    "organizations",
    "countries",
    "visits",
    "pageviews",
    "visitors",
    "first_seen",
    "last_seen",
    "furthest_stage",
    "top_topics",
    "top_pages",
    "intent_score",
    "window_start",
    "window_end",
]
PATH_COLUMNS = [
    "account_id",
    "timestamp",
    "visit_id",
    "url",
    "topics",
    "stage",
    "content_type",
    "excluded_from_intent",
    "referrer",
]

# The figures of an account's window that a CRM record can carry; each CRM sink maps
# them to its own field names, and the settings are checked against this list.
CRM_FIGURES = (
    "intent_score",
    "intent_trend",
    "furthest_stage",
    "top_topics",
    "top_pages",
    "visits",
    "pageviews",
    "last_visit",
    "window",
)


@dataclass(frozen=True)
class AccountActivity:
    """``accounts``: one row per active target account, best intent first (``ACCOUNT_COLUMNS``).
    ``path``: every page those accounts read, per account in time order (``PATH_COLUMNS``).
    """

    accounts: pd.DataFrame
    path: pd.DataFrame


def build_account_activity(
    attributed_hits: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    window_start: dt.date,
    window_end: dt.date,
    weights: ScoringWeights,
    top_n: int = 5,
) -> AccountActivity:
    """Visits, pages, topics, furthest stage and intent score of each target account in the window.

    Only hits matched to an account on ``accounts`` and dated (UTC) within the window count.
    Pages excluded from intent (careers, login, ...) count as visits and page views and stay
    in the path, but add nothing to topics, pages, stage or score.
    """
    window = hits_in_window(attributed_hits, window_start, window_end)
    hits = window[window["account_id"].isin(accounts["account_id"])]
    intent = hits[~hits["excluded_from_intent"]]
    summary = (
        hits.groupby("account_id")
        .agg(
            visits=("visit_id", "nunique"),
            pageviews=("url", "size"),
            visitors=("visitor_key", "nunique"),
            first_seen=("timestamp", "min"),
            last_seen=("timestamp", "max"),
        )
        .join(
            [
                _distinct_values(hits, "matched_by", rank=MATCH_STRENGTH),
                _distinct_values(hits, "organization"),
                _distinct_values(hits, "country").rename("countries"),
                _furthest_stage(intent),
                top_counts(topic_rows(intent, "account_id"), "account_id", "topic", top_n).rename("top_topics"),
                top_counts(intent, "account_id", "path", top_n).rename("top_pages"),
            ]
        )
        .rename(columns={"organization": "organizations"})
        .reset_index()
    )
    scores = score_accounts(hits, window_end=pd.Timestamp(window_end, tz="UTC"), weights=weights)
    ranked = (
        accounts.merge(summary, on="account_id")
        .merge(scores[["account_id", "intent_score"]], on="account_id")
        .assign(
            intent_score=lambda frame: frame["intent_score"].round(1),
            top_topics=lambda frame: frame["top_topics"].fillna(""),
            top_pages=lambda frame: frame["top_pages"].fillna(""),
            window_start=window_start,
            window_end=window_end,
        )
        .sort_values(["intent_score", "account_id"], ascending=[False, True], ignore_index=True)
    )
    path = hits.sort_values(["account_id", "timestamp"], ignore_index=True)
    return AccountActivity(accounts=ranked[ACCOUNT_COLUMNS], path=path[PATH_COLUMNS])


def hits_in_window(hits: pd.DataFrame, window_start: dt.date, window_end: dt.date) -> pd.DataFrame:
    """The hits dated (UTC) from ``window_start`` through ``window_end``."""
    start = pd.Timestamp(window_start, tz="UTC")
    end = pd.Timestamp(window_end + dt.timedelta(days=1), tz="UTC")
    return hits[(hits["timestamp"] >= start) & (hits["timestamp"] < end)]


def top_counts(frame: pd.DataFrame, by: str, value: str, top_n: int, weight: str | None = None) -> pd.Series:
    """Per ``by``, its ``top_n`` most frequent ``value``s as text: ``"pricing (4); docs (2)"``.

    Each row counts once, or as its ``weight`` column says (rows that are counts already).
    """
    grouped = frame.groupby([by, value])
    counts = (grouped[weight].sum() if weight else grouped.size()).rename("count").reset_index()
    top = counts.sort_values([by, "count", value], ascending=[True, False, True]).groupby(by).head(top_n)
    labels = top[value] + " (" + top["count"].astype(str) + ")"
    return labels.groupby(top[by]).agg("; ".join)


def topic_rows(hits: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """``by`` (one column or several), ``topic``: one row per topic of each hit (a page may have several, or none)."""
    topics = (
        hits[[by] if isinstance(by, str) else by]
        .assign(topic=hits["topics"].str.split(TOPIC_SEPARATOR))
        .explode("topic")
    )
    return topics[topics["topic"].notna() & (topics["topic"] != "")]


def _distinct_values(hits: pd.DataFrame, column: str, rank: dict[str, int] | None = None) -> pd.Series:
    """Per account, the distinct values of ``column`` joined by ";": by ``rank``, else most hits first."""
    counts = hits.groupby(["account_id", column]).size().rename("hits").reset_index()
    order = -counts["hits"] if rank is None else counts[column].map(rank)
    ordered = counts.assign(order=order).sort_values(["account_id", "order", column])
    return ordered.groupby("account_id")[column].agg(";".join)


def _furthest_stage(hits: pd.DataFrame) -> pd.Series:
    """Per account, the furthest funnel stage among its pages (accounts without one are absent)."""
    rank = hits["stage"].map({stage: rank for rank, stage in enumerate(STAGES)})
    furthest = rank.groupby(hits["account_id"]).max().dropna()
    return furthest.map(dict(enumerate(STAGES))).rename("furthest_stage")
