"""The window summary: funnel, identification by country, drop reasons, classifications, prospects."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from enrichment.scoring import ScoringWeights
from enrichment.summary import WindowSummary, count_traffic, prospect_activity, suggested_accounts, summarize_window

WINDOW = {"window_start": dt.date(2026, 10, 1), "window_end": dt.date(2026, 10, 14)}

COMPANIES = {
    # ip: (network, organization, domain, country, classification, account_id)
    "198.51.100.10": ("198.51.100.0/24", "Northwind Logistics", "northwind-logistics.com", "US", "company", "ACME-001"),
    "192.0.2.7": ("192.0.2.0/24", "Wayne Enterprises", "wayne.example", "US", "company", None),
    "192.0.2.99": ("192.0.2.0/24", "Wayne Enterprises", "wayne.example", "US", "company", None),
    "203.0.113.9": ("203.0.113.0/24", "Initech", None, None, "company", None),
    "100.64.1.1": ("100.64.0.0/10", "Comcast Cable", None, "US", "isp", None),
    "100.64.1.2": ("100.64.0.0/10", "Comcast Cable", None, "US", "isp", None),
    "198.18.0.1": ("198.18.0.0/15", None, None, "DE", "unknown", None),  # a MaxMind record without a company
    "10.9.9.9": (None, None, None, None, "unknown", None),  # no MaxMind record at all
}
TOPICS = {"/pricing": "pricing", "/docs/api": "integrations;developers", "/support/sso": "authentication"}
# path: (stage, content_type)
STAGES = {
    "/pricing": ("decision", "pricing"),
    "/docs/api": ("consideration", "docs"),
    "/support/sso": ("decision", None),
}


def attributed(*hits: tuple[str, str, str, str]) -> pd.DataFrame:
    """Attributed hits from ``(time, ip, url, visit_id)`` rows."""
    frame = pd.DataFrame(hits, columns=["timestamp", "ip", "url", "visit_id"])
    companies = pd.DataFrame.from_dict(
        COMPANIES,
        orient="index",
        columns=["network", "organization", "domain", "country", "classification", "account_id"],
    )
    return frame.join(companies, on="ip").assign(
        timestamp=pd.to_datetime(frame["timestamp"], utc=True),
        path=frame["url"],
        topics=frame["url"].map(TOPICS),
        stage=frame["url"].map(lambda url: STAGES.get(url, (None, None))[0]),
        content_type=frame["url"].map(lambda url: STAGES.get(url, (None, None))[1]),
        excluded_from_intent=frame["url"] == "/support/sso",  # customers asking for help: no buying signal
    )


HITS = attributed(
    ("2026-10-05 09:00", "198.51.100.10", "/pricing", "n1"),
    ("2026-10-05 09:05", "198.51.100.10", "/docs/api", "n1"),
    ("2026-10-06 10:00", "192.0.2.7", "/pricing", "w1"),
    ("2026-10-06 10:01", "192.0.2.7", "/support/sso", "w1"),
    ("2026-10-09 16:00", "192.0.2.99", "/docs/api", "w2"),
    ("2026-10-07 12:00", "203.0.113.9", "/docs/api", "i1"),
    ("2026-10-07 19:00", "100.64.1.1", "/pricing", "c1"),
    ("2026-10-08 19:00", "100.64.1.2", "/pricing", "c2"),
    ("2026-10-08 19:05", "100.64.1.2", "/docs/api", "c2"),
    ("2026-10-08 20:00", "10.9.9.9", "/pricing", "u1"),
    ("2026-10-09 11:00", "198.18.0.1", "/pricing", "d1"),
    ("2026-10-15 09:00", "192.0.2.7", "/pricing", "w3"),  # after the window
)
DROPS = pd.DataFrame({"reason": ["bot", "static_file", "bot", "own_office"], "hits": [30, 12, 5, 2]})


def summarize(hits: pd.DataFrame, drops: pd.DataFrame) -> WindowSummary:
    """The summary as the pipeline builds it: from daily counts of all traffic and of prospects."""
    days = [day for _, day in hits.groupby(hits["timestamp"].dt.date)]
    prospects = [prospect_activity(day) for day in days]
    return summarize_window(
        pd.concat([count_traffic(day) for day in days], ignore_index=True),
        pd.concat([prospect.days for prospect in prospects], ignore_index=True),
        pd.concat([prospect.topics for prospect in prospects], ignore_index=True),
        pd.concat([prospect.pages for prospect in prospects], ignore_index=True),
        drops,
        **WINDOW,
        weights=ScoringWeights(),
    )


@pytest.fixture(scope="module")
def summary() -> WindowSummary:
    return summarize(HITS, DROPS)


def test_the_funnel_shows_what_each_step_keeps(summary: WindowSummary) -> None:
    funnel = summary.funnel
    assert funnel.columns.tolist() == ["step", "hits", "visits"]
    assert funnel["step"].tolist() == ["hits", "clean", "resolved", "company", "target_account"]
    assert funnel["hits"].tolist() == [11 + 49, 11, 10, 6, 2]
    assert funnel["visits"].tolist()[1:] == [8, 7, 4, 1]
    assert pd.isna(funnel.loc[0, "visits"])  # dropped hits were never grouped into visits


def test_identification_rate_per_country_with_all_first(summary: WindowSummary) -> None:
    table = summary.identification_by_country
    assert table.columns.tolist() == ["country", "visits", "identified_visits", "rate"]
    assert table[["country", "visits", "identified_visits"]].values.tolist() == [
        ["ALL", 8, 4],
        ["US", 5, 3],
        ["??", 2, 1],  # no MaxMind country
        ["DE", 1, 0],
    ]
    assert table["rate"].tolist() == pytest.approx([4 / 8, 3 / 5, 1 / 2, 0.0])


def test_drop_reasons_are_summed_most_first(summary: WindowSummary) -> None:
    assert summary.drop_reasons.values.tolist() == [["bot", 35], ["static_file", 12], ["own_office", 2]]


def test_classifications_count_ips_and_hits(summary: WindowSummary) -> None:
    assert summary.classifications.columns.tolist() == ["classification", "ips", "hits"]
    assert summary.classifications.values.tolist() == [["company", 4, 6], ["isp", 2, 3], ["unknown", 2, 2]]


def test_prospects_are_identified_companies_not_on_the_list(summary: WindowSummary) -> None:
    prospects = summary.prospects
    assert prospects.columns.tolist() == [
        "organization",
        "domain",
        "country",
        "intent_score",
        "visits",
        "pageviews",
        "top_topics",
        "last_seen",
    ]
    assert prospects["organization"].tolist() == [
        "Wayne Enterprises",
        "Initech",
    ]  # highest intent first; no ISP, no account
    wayne = prospects.iloc[0]
    assert wayne[["domain", "country", "visits", "pageviews"]].tolist() == ["wayne.example", "US", 2, 3]
    assert wayne["top_topics"] == "developers (1); integrations (1); pricing (1)"  # support is no interest
    assert wayne["last_seen"] == pd.Timestamp("2026-10-09 16:00", tz="UTC")  # the hit after the window is ignored
    assert pd.isna(prospects.iloc[1]["domain"]) and pd.isna(prospects.iloc[1]["country"])


def test_a_window_without_companies_has_no_prospects() -> None:
    isp_only = HITS[HITS["classification"] == "isp"]
    summary = summarize(isp_only, DROPS.head(0))
    assert summary.prospects.empty
    assert summary.identification_by_country["rate"].tolist() == [0.0, 0.0]
    assert summary.funnel["hits"].tolist() == [3, 3, 3, 0, 0]


def test_prospects_are_scored_like_accounts_so_a_pricing_reader_outranks_a_busier_browser() -> None:
    hits = attributed(
        ("2026-10-14 09:00", "203.0.113.9", "/pricing", "i1"),  # Initech: one pricing page, on the last day
        ("2026-10-02 10:00", "192.0.2.7", "/docs/api", "w1"),  # Wayne: docs, three visits, long ago
        ("2026-10-02 11:00", "192.0.2.7", "/docs/api", "w2"),
        ("2026-10-03 10:00", "192.0.2.99", "/docs/api", "w3"),
    )
    prospects = summarize(hits, DROPS.head(0)).prospects.set_index("organization")

    assert prospects.index.tolist() == ["Initech", "Wayne Enterprises"]
    assert prospects.loc["Initech", "intent_score"] == pytest.approx(100 * (1 - math.exp(-12 / 40)), abs=0.05)
    # The same page on one day counts once; the k-th day of a page earns 1/k (enrichment.scoring).
    wayne_points = 3 * 0.5 ** (11 / 7) + 3 * 0.5 ** (12 / 7) / 2
    assert prospects.loc["Wayne Enterprises", "intent_score"] == pytest.approx(
        100 * (1 - math.exp(-wayne_points / 40)), abs=0.05
    )


def test_suggested_accounts_are_prospects_with_intent_in_the_target_list_columns() -> None:
    prospects = pd.DataFrame(
        {
            "organization": ["Wayne Enterprises", "Initech", "Idle Corp", "Initech"],
            "domain": ["wayne.example", None, "idle.example", None],
            "country": ["US", None, "DE", "FR"],
            "intent_score": [52.0, 20.0, 0.0, 10.0],
        }
    )
    suggested = suggested_accounts(prospects)

    assert suggested.columns.tolist() == ["account_id", "name", "domains", "aliases", "ip_ranges", "crm_id", "owner"]
    assert suggested[["account_id", "name", "domains"]].values.tolist() == [
        ["WAYNE-EXAMPLE", "Wayne Enterprises", "wayne.example"],
        ["INITECH", "Initech", ""],  # once, though seen from two countries; no intent, no suggestion
    ]
