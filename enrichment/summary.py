"""Window-level figures for the summary report: how much traffic became companies and accounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from enrichment.activity import hits_in_window, top_counts, topic_rows


@dataclass(frozen=True)
class WindowSummary:
    """What the summary page shows besides the account ranking.

    funnel: columns ``step, hits, visits`` with steps in order
        ``hits`` (all parsed), ``clean``, ``resolved`` (any MaxMind record),
        ``company`` (classified company), ``target_account`` (matched to the list).
    identification_by_country: ``country, visits, identified_visits, rate`` (rate in 0..1),
        plus one row with country ``ALL`` first.
    drop_reasons: ``reason, hits`` (from cleaning), most first.
    classifications: ``classification, ips, hits`` (company, isp, mobile, ...).
    prospects: identified companies that are not target accounts:
        ``organization, domain, country, visits, pageviews, top_topics, last_seen``.
    """

    funnel: pd.DataFrame
    identification_by_country: pd.DataFrame
    drop_reasons: pd.DataFrame
    classifications: pd.DataFrame
    prospects: pd.DataFrame


UNKNOWN_COUNTRY = "??"
# The prospects table is already wide: a few topics are enough to judge interest.
PROSPECT_TOPICS = 3
_COLUMNS = [
    "timestamp", "ip", "url", "network", "organization", "domain", "country", "classification",
    "account_id", "topics", "excluded_from_intent", "visit_id",
]


def summarize_window(
    all_hits: pd.DataFrame, drop_counts: pd.DataFrame, *, window_start: dt.date, window_end: dt.date
) -> WindowSummary:
    """The window's funnel, identification rate, drop reasons, classifications and prospects.

    ``all_hits`` are the attributed clean hits of every classification; ``drop_counts``
    (``reason, hits``) are the hits cleaning removed in the window.
    """
    hits = hits_in_window(all_hits[_COLUMNS], window_start, window_end)
    # Visits are counted many times below: distinct numbers count much faster than the id texts.
    hits = hits.assign(visit_id=pd.factorize(hits["visit_id"])[0])
    return WindowSummary(
        funnel=_funnel(hits, dropped=int(drop_counts["hits"].sum())),
        identification_by_country=_identification_by_country(hits),
        drop_reasons=(
            drop_counts.groupby("reason", as_index=False)["hits"].sum()
            .sort_values(["hits", "reason"], ascending=[False, True], ignore_index=True)
        ),
        classifications=(
            hits.groupby("classification", as_index=False)
            .agg(ips=("ip", "nunique"), hits=("ip", "size"))
            .sort_values(["hits", "classification"], ascending=[False, True], ignore_index=True)
        ),
        prospects=_prospects(hits),
    )


def _funnel(hits: pd.DataFrame, dropped: int) -> pd.DataFrame:
    """``step, hits, visits``: how many hits (and visits) each step keeps."""
    kept_by_step = {
        "clean": pd.Series(True, index=hits.index),
        "resolved": hits["network"].notna(),
        "company": hits["classification"] == "company",
        "target_account": hits["account_id"].notna(),
    }
    rows = [{"step": "hits", "hits": len(hits) + dropped, "visits": pd.NA}]  # dropped hits have no visits
    rows += [
        {"step": step, "hits": int(kept.sum()), "visits": hits.loc[kept, "visit_id"].nunique()}
        for step, kept in kept_by_step.items()
    ]
    return pd.DataFrame(rows).astype({"hits": "int64", "visits": "Int64"})


def _identification_by_country(hits: pd.DataFrame) -> pd.DataFrame:
    """``country, visits, identified_visits, rate``: the ``ALL`` row first, then countries by visits."""
    visits = hits.assign(
        country=hits["country"].fillna(UNKNOWN_COUNTRY),
        identified_visit=hits["visit_id"].where(hits["classification"] == "company"),
    )
    by_country = (
        visits.groupby("country", as_index=False)
        .agg(visits=("visit_id", "nunique"), identified_visits=("identified_visit", "nunique"))
        .sort_values(["visits", "country"], ascending=[False, True])
    )
    overall = pd.DataFrame({
        "country": ["ALL"],
        "visits": [visits["visit_id"].nunique()],
        "identified_visits": [visits["identified_visit"].nunique()],
    })
    table = pd.concat([overall, by_country], ignore_index=True)
    table["rate"] = (table["identified_visits"] / table["visits"]).fillna(0.0)
    return table


def _prospects(hits: pd.DataFrame) -> pd.DataFrame:
    """Companies not on the account list: ``organization, domain, country, visits, pageviews, top_topics, last_seen``."""
    company = ["organization", "domain", "country"]
    prospect_hits = hits[(hits["classification"] == "company") & hits["account_id"].isna()]
    # One number per company: domain and country may be missing, which group keys handle poorly.
    prospect_hits = prospect_hits.assign(prospect=prospect_hits.groupby(company, dropna=False).ngroup())
    prospects = prospect_hits.groupby("prospect").agg(
        **{column: (column, "first") for column in company},
        visits=("visit_id", "nunique"),
        pageviews=("url", "size"),
        last_seen=("timestamp", "max"),
    )
    intent = prospect_hits[~prospect_hits["excluded_from_intent"]]
    prospects["top_topics"] = top_counts(topic_rows(intent, "prospect"), "prospect", "topic", PROSPECT_TOPICS)
    return (
        prospects.fillna({"top_topics": ""})
        .sort_values(["visits", "pageviews", "organization"], ascending=[False, False, True], ignore_index=True)
        [[*company, "visits", "pageviews", "top_topics", "last_seen"]]
    )
