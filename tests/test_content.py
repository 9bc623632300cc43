"""Content performance: which pages, topics, referring sites and campaigns reach target accounts."""

from __future__ import annotations

import pandas as pd

from enrichment.content import content_performance

SITE = "https://www.acme-routes.example"

# path: (topics, stage, content_type, excluded_from_intent)
PAGES = {
    "/pricing": ("pricing", "decision", "pricing", False),
    "/docs/api": ("integrations;developers", "consideration", "docs", False),
    "/blog/last-mile": ("fleet-tracking", "awareness", "blog", False),
    "/careers": ("", None, "careers", True),
}
# Northwind moved on to a later stage this window; Contoso did not.
MOVEMENTS = pd.DataFrame(
    {"account_id": ["NORTHWIND", "CONTOSO", "GONE"], "movement": ["stage_advanced", "steady", "gone_quiet"]}
)


def hits(*rows: tuple[str | None, str, str, str | None, str]) -> pd.DataFrame:
    """Attributed hits from ``(account_id, time, url, referrer, visit_id)`` rows, tagged by path from ``PAGES``."""
    frame = pd.DataFrame(rows, columns=["account_id", "timestamp", "url", "referrer", "visit_id"])
    tags = pd.DataFrame(
        [(path, *tags) for path, tags in PAGES.items()],
        columns=["path", "topics", "stage", "content_type", "excluded_from_intent"],
    )
    return frame.assign(
        timestamp=pd.to_datetime(frame["timestamp"], utc=True),
        path=frame["url"].str.split("?").str[0],
        host="www.acme-routes.example",
    ).merge(tags, on="path", how="left")


def test_pages_and_topics_count_accounts_reached_pageviews_and_accounts_that_advanced() -> None:
    performance = content_performance(
        hits(
            ("NORTHWIND", "2026-10-05 09:00", "/pricing", None, "n1"),
            ("NORTHWIND", "2026-10-05 09:05", "/docs/api", None, "n1"),
            ("NORTHWIND", "2026-10-06 09:00", "/pricing", None, "n2"),
            ("CONTOSO", "2026-10-05 10:00", "/pricing", None, "c1"),
            ("CONTOSO", "2026-10-05 10:05", "/blog/last-mile", None, "c1"),
        ),
        MOVEMENTS,
    )
    assert performance.pages.columns.tolist() == [
        "path",
        "topics",
        "stage",
        "accounts_reached",
        "pageviews",
        "accounts_advanced",
    ]
    assert performance.pages.values.tolist() == [
        ["/pricing", "pricing", "decision", 2, 3, 1],
        ["/blog/last-mile", "fleet-tracking", "awareness", 1, 1, 0],
        ["/docs/api", "integrations;developers", "consideration", 1, 1, 1],
    ]
    assert performance.topics.values.tolist() == [
        ["pricing", 2, 3, 1],
        ["developers", 1, 1, 1],
        ["fleet-tracking", 1, 1, 0],
        ["integrations", 1, 1, 1],
    ]


def test_only_target_accounts_reading_intent_pages_count() -> None:
    performance = content_performance(
        hits(
            (None, "2026-10-05 09:00", "/pricing?utm_source=linkedin", "https://www.linkedin.com/", "p1"),  # a prospect
            ("CONTOSO", "2026-10-05 10:00", "/careers?utm_source=jobs", "https://jobs.example/", "c1"),  # a job seeker
            ("CONTOSO", "2026-10-06 10:00", "/pricing", None, "c2"),
        ),
        MOVEMENTS,
    )
    assert performance.pages[["path", "accounts_reached", "pageviews"]].values.tolist() == [["/pricing", 1, 1]]
    assert performance.referrers.empty and performance.campaigns.empty


def test_campaigns_come_from_the_utm_parameters_of_each_visits_first_page() -> None:
    campaign = "/pricing?utm_source=linkedin&utm_medium=social&utm_campaign=route%20planning+2026"
    performance = content_performance(
        hits(
            ("NORTHWIND", "2026-10-05 09:00", campaign, None, "n1"),
            ("NORTHWIND", "2026-10-05 09:05", "/docs/api", None, "n1"),  # the same visit: the campaign's too
            ("CONTOSO", "2026-10-05 10:00", "/blog/last-mile?utm_source=newsletter", None, "c1"),
            ("CONTOSO", "2026-10-05 11:00", "/pricing", None, "c2"),  # no campaign
            ("CONTOSO", "2026-10-06 09:00", "/docs/api", None, "c3"),
            ("CONTOSO", "2026-10-06 09:01", "/pricing?utm_source=linkedin", None, "c3"),  # not where the visit began
        ),
        MOVEMENTS,
    )
    assert performance.campaigns.columns.tolist() == [
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "accounts_reached",
        "pageviews",
        "accounts_advanced",
    ]
    assert performance.campaigns.values.tolist() == [
        ["linkedin", "social", "route planning 2026", 1, 2, 1],
        ["newsletter", "(not set)", "(not set)", 1, 1, 0],
    ]
    # Campaign parameters do not split a page: all three /pricing URLs are one page.
    assert performance.pages.loc[performance.pages["path"] == "/pricing", "pageviews"].tolist() == [3]


def test_referrers_are_the_other_sites_that_start_visits() -> None:
    performance = content_performance(
        hits(
            ("NORTHWIND", "2026-10-05 09:00", "/pricing", "https://www.LinkedIn.com/feed/?trk=abc", "n1"),
            ("NORTHWIND", "2026-10-05 09:05", "/docs/api", f"{SITE}/pricing", "n1"),  # our own previous page
            ("CONTOSO", "2026-10-05 10:00", "/blog/last-mile", "https://linkedin.com/", "c1"),
            ("CONTOSO", "2026-10-05 11:00", "/pricing", f"{SITE}/blog/last-mile", "c2"),  # resumed after a pause
            ("CONTOSO", "2026-10-06 09:00", "/docs/api", "android-app://com.google.android.gm/", "c3"),
            ("CONTOSO", "2026-10-07 09:00", "/docs/api", None, "c4"),  # typed in or bookmarked
        ),
        MOVEMENTS,
    )
    assert performance.referrers.columns.tolist() == ["referrer_host", "accounts_reached", "pageviews"]
    assert performance.referrers.values.tolist() == [
        ["linkedin.com", 2, 3],
        ["com.google.android.gm", 1, 1],
    ]
