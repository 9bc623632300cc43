"""Window-level figures for the summary report: how much traffic became companies and accounts."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from enrichment.activity import top_counts, topic_rows
from enrichment.attribution import attribute_hits
from enrichment.hit_chunks import HitChunks
from enrichment.matching import ACCOUNT_COLUMNS
from enrichment.scoring import ScoringWeights, score_accounts


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
    prospects: identified companies that are not target accounts, highest intent first:
        ``organization, domain, country, intent_score, visits, pageviews, top_topics, last_seen``;
        the intent score is the one target accounts get (``enrichment.scoring``).
    """

    funnel: pd.DataFrame
    identification_by_country: pd.DataFrame
    drop_reasons: pd.DataFrame
    classifications: pd.DataFrame
    prospects: pd.DataFrame


UNKNOWN_COUNTRY = "??"
# The prospects table is already wide: a few topics are enough to judge interest.
PROSPECT_TOPICS = 3
_TRAFFIC_KEYS = ["day", "country", "classification", "resolved", "target_account"]
TRAFFIC_COUNT_COLUMNS = [*_TRAFFIC_KEYS, "hits", "visits", "ips"]
_COMPANY = ["organization", "domain", "country"]
PROSPECT_DAY_COLUMNS = ["day", *_COMPANY, "visits", "pageviews", "last_seen"]
PROSPECT_TOPIC_COLUMNS = ["day", *_COMPANY, "topic", "pageviews"]
PROSPECT_PAGE_COLUMNS = ["day", *_COMPANY, "path", "stage", "content_type", "pageviews"]
PROSPECT_COLUMNS = [*_COMPANY, "intent_score", "visits", "pageviews", "top_topics", "last_seen"]
# The columns of config/target_accounts.csv (``enrichment.matching.ACCOUNT_COLUMNS``).
SUGGESTED_ACCOUNT_COLUMNS = list(ACCOUNT_COLUMNS)


class ProspectActivity(NamedTuple):
    """One day of prospects' reading, as counts (see ``prospect_activity``)."""

    days: pd.DataFrame
    topics: pd.DataFrame
    pages: pd.DataFrame

    @classmethod
    def total(cls, parts: list[ProspectActivity]) -> ProspectActivity:
        """The counts of several chunks of a day's hits that share no visitor, as one day's."""
        keys = ["day", *_COMPANY]
        days = pd.concat([part.days for part in parts], ignore_index=True)
        topics = pd.concat([part.topics for part in parts], ignore_index=True)
        pages = pd.concat([part.pages for part in parts], ignore_index=True)
        return cls(
            days.groupby(keys, as_index=False, dropna=False).agg(
                visits=("visits", "sum"), pageviews=("pageviews", "sum"), last_seen=("last_seen", "max")
            )[PROSPECT_DAY_COLUMNS],
            topics.groupby([*keys, "topic"], as_index=False, dropna=False)["pageviews"].sum()[PROSPECT_TOPIC_COLUMNS],
            pages.groupby(PROSPECT_PAGE_COLUMNS[:-1], as_index=False, dropna=False)["pageviews"].sum()[
                PROSPECT_PAGE_COLUMNS
            ],
        )


class AttributedDay(NamedTuple):
    """What is kept of a day's attributed hits (see ``attribute_day``)."""

    account_hits: pd.DataFrame
    prospects: ProspectActivity
    traffic_counts: pd.DataFrame


def attribute_day(
    clean_hits: HitChunks,
    ip_companies: pd.DataFrame,
    account_matches: pd.DataFrame,
    page_tags: pd.DataFrame,
    *,
    visitor_salt: str,
) -> AttributedDay:
    """A day's clean hits attributed (``attribute_hits``) chunk by chunk, reduced to what is kept of them.

    Target accounts' hits with everything ``attribute_hits`` adds; prospects'
    reading (``prospect_activity``) and all traffic (``count_traffic``) as counts, which add
    up across chunks: a hashed visitor, its visits and an address are in one chunk only.
    (A site's own visitor id seen from two addresses on a busy day counts a visit in each.)
    """
    parts = []
    for hits in clean_hits.frames():
        attributed = attribute_hits(hits, ip_companies, account_matches, page_tags, visitor_salt=visitor_salt)
        parts.append(
            AttributedDay(
                attributed[(attributed["classification"] == "company") & attributed["account_id"].notna()],
                prospect_activity(attributed),
                count_traffic(attributed),
            )
        )
    if len(parts) == 1:
        return parts[0]
    traffic = pd.concat([part.traffic_counts for part in parts], ignore_index=True)
    return AttributedDay(
        pd.concat([part.account_hits for part in parts], ignore_index=True),
        ProspectActivity.total([part.prospects for part in parts]),
        traffic.groupby(_TRAFFIC_KEYS, as_index=False)[["hits", "visits", "ips"]].sum()[TRAFFIC_COUNT_COLUMNS],
    )


def count_traffic(attributed_hits: pd.DataFrame) -> pd.DataFrame:
    """One day's attributed hits reduced to counts: what the summary needs of non-company traffic.

    People at home, on mobile networks or behind a VPN are kept only as these counts
    (``day, country, classification, resolved, target_account, hits, visits, ips``), never
    as hits; visits and IPs are distinct within the day.
    """
    hits = attributed_hits.assign(
        day=attributed_hits["timestamp"].dt.date,
        country=attributed_hits["country"].fillna(UNKNOWN_COUNTRY),
        resolved=attributed_hits["network"].notna(),
        target_account=attributed_hits["account_id"].notna(),
    )
    return hits.groupby(_TRAFFIC_KEYS, as_index=False).agg(
        hits=("ip", "size"), visits=("visit_id", "nunique"), ips=("ip", "nunique")
    )[TRAFFIC_COUNT_COLUMNS]


def prospect_activity(attributed_hits: pd.DataFrame) -> ProspectActivity:
    """One day's hits from prospects (companies not on the account list), reduced to counts.

    ``days``: ``day, organization, domain, country, visits, pageviews, last_seen``;
    ``topics``: ``day, organization, domain, country, topic, pageviews``; ``pages``: ``day,
    organization, domain, country, path, stage, content_type, pageviews``, what the intent
    score needs (a page counts once a day). Topics and pages are those that count for
    intent. Visits are cut per day, so a window's figures are the sums of its days': a
    report reads a few rows per company and day, not every hit of every company.
    """
    hits = attributed_hits[(attributed_hits["classification"] == "company") & attributed_hits["account_id"].isna()]
    hits = hits.assign(day=hits["timestamp"].dt.date)
    keys = ["day", *_COMPANY]
    days = hits.groupby(keys, as_index=False, dropna=False).agg(
        visits=("visit_id", "nunique"),
        pageviews=("url", "size"),
        last_seen=("timestamp", "max"),
    )
    topics = (
        topic_rows(hits[~hits["excluded_from_intent"]], keys)
        .groupby([*keys, "topic"], as_index=False, dropna=False)
        .size()
        .rename(columns={"size": "pageviews"})
    )
    staged = hits[~hits["excluded_from_intent"] & hits["stage"].notna()]
    pages = (
        staged.groupby([*keys, "path", "stage", "content_type"], as_index=False, dropna=False)
        .size()
        .rename(columns={"size": "pageviews"})
    )
    return ProspectActivity(days[PROSPECT_DAY_COLUMNS], topics[PROSPECT_TOPIC_COLUMNS], pages[PROSPECT_PAGE_COLUMNS])


def summarize_window(
    traffic_counts: pd.DataFrame,
    prospect_days: pd.DataFrame,
    prospect_topics: pd.DataFrame,
    prospect_pages: pd.DataFrame,
    drop_counts: pd.DataFrame,
    *,
    window_start: dt.date,
    window_end: dt.date,
    weights: ScoringWeights,
) -> WindowSummary:
    """The window's funnel, identification rate, drop reasons, classifications and prospects.

    ``traffic_counts`` are the daily counts of ``count_traffic``; ``prospect_days``,
    ``prospect_topics`` and ``prospect_pages`` the daily counts of ``prospect_activity``
    (prospects are scored with ``weights``, as target accounts are); ``drop_counts``
    (``reason, hits``) the hits cleaning removed in the window. Visits and IPs are
    distinct per day and summed.
    """
    counts = _in_window(traffic_counts, window_start, window_end)
    return WindowSummary(
        funnel=_funnel(counts, dropped=int(drop_counts["hits"].sum())),
        identification_by_country=_identification_by_country(counts),
        drop_reasons=(
            drop_counts.groupby("reason", as_index=False)["hits"]
            .sum()
            .sort_values(["hits", "reason"], ascending=[False, True], ignore_index=True)
        ),
        classifications=(
            counts.groupby("classification", as_index=False)[["ips", "hits"]]
            .sum()
            .sort_values(["hits", "classification"], ascending=[False, True], ignore_index=True)
        ),
        prospects=_prospects(
            *(
                _in_window(daily, window_start, window_end)
                for daily in (prospect_days, prospect_topics, prospect_pages)
            ),
            window_end=window_end,
            weights=weights,
        ),
    )


def _in_window(daily: pd.DataFrame, window_start: dt.date, window_end: dt.date) -> pd.DataFrame:
    return daily[(daily["day"] >= window_start) & (daily["day"] <= window_end)]


def _funnel(counts: pd.DataFrame, dropped: int) -> pd.DataFrame:
    """``step, hits, visits``: how many hits (and visits) each step keeps."""
    kept_by_step = {
        "clean": pd.Series(True, index=counts.index),
        "resolved": counts["resolved"],
        "company": counts["classification"] == "company",
        "target_account": counts["target_account"],
    }
    rows = [
        {"step": "hits", "hits": int(counts["hits"].sum()) + dropped, "visits": pd.NA}
    ]  # dropped hits have no visits
    rows += [
        {"step": step, "hits": int(counts.loc[kept, "hits"].sum()), "visits": int(counts.loc[kept, "visits"].sum())}
        for step, kept in kept_by_step.items()
    ]
    return pd.DataFrame(rows).astype({"hits": "int64", "visits": "Int64"})


def _identification_by_country(counts: pd.DataFrame) -> pd.DataFrame:
    """``country, visits, identified_visits, rate``: the ``ALL`` row first, then countries by visits."""
    visits = counts.assign(identified_visits=counts["visits"].where(counts["classification"] == "company", 0))
    by_country = (
        visits.groupby("country", as_index=False)[["visits", "identified_visits"]]
        .sum()
        .sort_values(["visits", "country"], ascending=[False, True])
    )
    overall = pd.DataFrame(
        {
            "country": ["ALL"],
            "visits": [int(visits["visits"].sum())],
            "identified_visits": [int(visits["identified_visits"].sum())],
        }
    )
    table = pd.concat([overall, by_country], ignore_index=True).astype(
        {"visits": "int64", "identified_visits": "int64"}
    )
    table["rate"] = (table["identified_visits"] / table["visits"]).fillna(0.0)
    return table


def _prospects(
    days: pd.DataFrame, topics: pd.DataFrame, pages: pd.DataFrame, *, window_end: dt.date, weights: ScoringWeights
) -> pd.DataFrame:
    """Companies not on the account list (``PROSPECT_COLUMNS``), highest intent score first."""
    # One number per company: domain and country may be missing, which group keys handle poorly.
    companies = pd.concat([days[_COMPANY], topics[_COMPANY], pages[_COMPANY]], ignore_index=True)
    number = companies.groupby(_COMPANY, dropna=False).ngroup().to_numpy()
    cut = np.cumsum([len(days), len(topics)])
    days = days.assign(prospect=number[: cut[0]])
    topics = topics.assign(prospect=number[cut[0] : cut[1]])
    pages = pages.assign(prospect=number[cut[1] :])
    prospects = days.groupby("prospect").agg(
        **{column: (column, "first") for column in _COMPANY},
        visits=("visits", "sum"),
        pageviews=("pageviews", "sum"),
        last_seen=("last_seen", "max"),
    )
    prospects["top_topics"] = top_counts(topics, "prospect", "topic", PROSPECT_TOPICS, weight="pageviews")
    # A page-day row scores as its hits would: the score counts a page once a day.
    page_days = pages.assign(
        account_id=pages["prospect"],
        timestamp=pd.to_datetime(pages["day"]).dt.tz_localize("UTC"),
        excluded_from_intent=False,
    )
    scores = score_accounts(page_days, window_end=pd.Timestamp(window_end, tz="UTC"), weights=weights)
    prospects["intent_score"] = scores.set_index("account_id")["intent_score"].round(1)
    return prospects.fillna({"top_topics": "", "intent_score": 0.0}).sort_values(
        ["intent_score", "visits", "pageviews", "organization"],
        ascending=[False, False, False, True],
        ignore_index=True,
    )[PROSPECT_COLUMNS]


def suggested_accounts(prospects: pd.DataFrame) -> pd.DataFrame:
    """Prospects that showed intent, as rows of ``config/target_accounts.csv``, ready to paste.

    Highest intent first (the order of ``prospects``); one row per organization and domain,
    with an ``account_id`` made from the domain (else the name) that the list can keep.
    """
    interested = prospects[prospects["intent_score"] > 0].drop_duplicates(["organization", "domain"])
    names = interested["domain"].fillna(interested["organization"]).map(_account_id_from)
    # Two companies whose names reduce to the same id get -2, -3, ... in rank order.
    repeat = names.groupby(names).cumcount()
    ids = names.where(repeat == 0, names + "-" + (repeat + 1).astype(str))
    suggested = pd.DataFrame(
        {
            "account_id": ids.to_numpy(),
            "name": interested["organization"].to_numpy(),
            "domains": interested["domain"].fillna("").to_numpy(),
        }
    )
    return suggested.reindex(columns=SUGGESTED_ACCOUNT_COLUMNS, fill_value="")


def _account_id_from(text: str) -> str:
    """``"wayne.example"`` → ``"WAYNE-EXAMPLE"``: letters and digits of any script, upper-cased."""
    return "-".join(re.findall(r"\w+", text.upper()))[:60] or "PROSPECT"
