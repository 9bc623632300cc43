"""Attribution and account activity: who read what, in which visits, with what intent."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from enrichment.activity import ACCOUNT_COLUMNS, PATH_COLUMNS, AccountActivity, build_account_activity
from enrichment.addresses import address_chunks
from enrichment.attribution import attribute_hits
from enrichment.hit_chunks import HitChunks
from enrichment.scoring import ScoringWeights
from enrichment.summary import AttributedDay, attribute_day

WINDOW = {"window_start": dt.date(2026, 10, 1), "window_end": dt.date(2026, 10, 14)}
VISITOR_SALT = "a-test-salt-of-sufficient-length"

NORTHWIND_US, NORTHWIND_UK, CONTOSO, WAYNE, COMCAST = (
    "198.51.100.10",
    "198.51.100.11",
    "203.0.113.5",
    "192.0.2.7",
    "100.64.1.1",
)

IP_COMPANIES = pd.DataFrame(
    [
        (NORTHWIND_US, "198.51.100.0/24", "Northwind Logistics", "northwind-logistics.com", "US", "company"),
        (NORTHWIND_UK, "198.51.100.0/24", "Northwind Logistics", "northwind-logistics.com", "GB", "company"),
        (CONTOSO, "203.0.113.0/24", "Contoso Manufacturing GmbH", None, "DE", "company"),
        (WAYNE, "192.0.2.0/24", "Wayne Enterprises", "wayne.example", "US", "company"),
        (COMCAST, "100.64.0.0/10", "Comcast Cable", None, "US", "isp"),
    ],
    columns=["ip", "network", "organization", "domain", "country", "classification"],
)
ACCOUNT_MATCHES = pd.DataFrame(
    [
        (NORTHWIND_US, "Northwind Logistics", "northwind-logistics.com", "ACME-001", "domain", 1.0),
        (NORTHWIND_UK, "Northwind Logistics", "northwind-logistics.com", "ACME-001", "ip_range", 1.0),
        (CONTOSO, "Contoso Manufacturing GmbH", None, "ACME-002", "name", 1.0),
        (WAYNE, "Wayne Enterprises", "wayne.example", None, None, 0.0),
    ],
    columns=["ip", "organization", "domain", "account_id", "matched_by", "confidence"],
)
PAGE_TAGS = pd.DataFrame(
    [
        ("/pricing", "/pricing", "pricing", "decision", "pricing", False),
        ("/pricing?utm_source=mail", "/pricing", "pricing", "decision", "pricing", False),
        ("/docs/api", "/docs/api", "integrations;developers", "consideration", "docs", False),
        ("/blog/route-planning", "/blog/route-planning", "route-optimization", "awareness", "blog", False),
        ("/careers", "/careers", "", None, "careers", True),
    ],
    columns=["url", "path", "topics", "stage", "content_type", "excluded_from_intent"],
)
ACCOUNTS = pd.DataFrame(
    [
        ("ACME-001", "Northwind Logistics Inc.", "crm-1", "EMEA team"),
        ("ACME-002", "Contoso Manufacturing GmbH", None, "DACH team"),
        ("ACME-009", "Umbrella Health", None, "US team"),
    ],
    columns=["account_id", "name", "crm_id", "owner"],
)


def clean_hits(*hits: tuple) -> pd.DataFrame:
    """Clean hits from ``(time, ip, url, user_agent, visitor_id)`` tuples (time in UTC)."""
    frame = pd.DataFrame(hits, columns=["timestamp", "ip", "url", "user_agent", "visitor_id"])
    return frame.assign(
        timestamp=pd.to_datetime(frame["timestamp"], utc=True),
        method="GET",
        host="www.example.com",
        status=pd.array([200] * len(frame), dtype="Int64"),
        referrer=None,
        session_id=None,
        page_title=None,
        source_file="access.log",
        line_no=range(1, len(frame) + 1),
    )


def attribute(hits: pd.DataFrame) -> pd.DataFrame:
    return attribute_hits(hits, IP_COMPANIES, ACCOUNT_MATCHES, PAGE_TAGS, visitor_salt=VISITOR_SALT)


WINDOW_HITS = clean_hits(
    ("2026-09-30 23:59", NORTHWIND_US, "/pricing", "Firefox", "v-1"),  # the day before the window
    # Northwind, visitor v-1: two visits on Oct 5 (the gap before 10:30 is 50 minutes) ...
    ("2026-10-05 09:00", NORTHWIND_US, "/blog/route-planning", "Firefox", "v-1"),
    ("2026-10-05 09:10", NORTHWIND_US, "/docs/api", "Firefox", "v-1"),
    ("2026-10-05 09:40", NORTHWIND_US, "/pricing", "Firefox", "v-1"),
    ("2026-10-05 10:30", NORTHWIND_US, "/pricing", "Firefox", "v-1"),
    # ... and a third from the UK office: the same visitor, by the analytics cookie.
    ("2026-10-08 14:00", NORTHWIND_UK, "/pricing?utm_source=mail", "Firefox", "v-1"),
    # Two colleagues without a cookie, behind the same UK address: told apart by browser.
    ("2026-10-08 15:00", NORTHWIND_UK, "/careers", "Firefox", None),
    ("2026-10-09 08:00", NORTHWIND_UK, "/docs/api", "Safari", None),
    ("2026-10-15 00:00", NORTHWIND_US, "/pricing", "Firefox", "v-1"),  # the day after the window
    ("2026-10-10 11:05", CONTOSO, "/docs/api", "Edge", None),
    ("2026-10-10 11:00", CONTOSO, "/blog/route-planning", "Edge", None),
    ("2026-10-06 12:00", WAYNE, "/pricing", "Chrome", None),  # a prospect
    ("2026-10-07 19:00", COMCAST, "/pricing", "Chrome", None),  # someone at home
)


def activity(hits: pd.DataFrame = WINDOW_HITS) -> AccountActivity:
    return build_account_activity(attribute(hits), ACCOUNTS, **WINDOW, weights=ScoringWeights())


def northwind(result: AccountActivity) -> pd.Series:
    return result.accounts.set_index("account_id").loc["ACME-001"]


# --- attribution -------------------------------------------------------------------


def test_each_hit_gets_its_company_account_and_page_tags() -> None:
    hits = attribute(WINDOW_HITS).set_index("ip")
    assert hits.loc[CONTOSO].iloc[0][["organization", "country", "account_id", "matched_by"]].tolist() == [
        "Contoso Manufacturing GmbH",
        "DE",
        "ACME-002",
        "name",
    ]
    assert pd.isna(hits.loc[WAYNE, "account_id"])
    assert hits.loc[COMCAST, "classification"] == "isp" and pd.isna(hits.loc[COMCAST, "account_id"])
    assert hits.loc[COMCAST, ["path", "topics", "stage", "content_type"]].tolist() == [
        "/pricing",
        "pricing",
        "decision",
        "pricing",
    ]


def test_the_visitor_is_the_analytics_cookie_else_ip_and_browser() -> None:
    hits = attribute(
        clean_hits(
            ("2026-10-05 09:00", CONTOSO, "/pricing", "Edge", None),
            ("2026-10-05 09:05", CONTOSO, "/pricing", "Edge", None),
            ("2026-10-05 09:10", CONTOSO, "/pricing", "Safari", None),
            ("2026-10-05 09:15", CONTOSO, "/pricing", "Edge", "cookie-7"),
        )
    )
    keys = hits["visitor_key"].tolist()
    assert keys[0] == keys[1] != keys[2]
    assert keys[3] == "cookie-7"
    assert re.fullmatch("[0-9a-f]{16}", keys[0])  # a short hash, not the IP itself


def test_visitor_keys_depend_on_the_secret_salt() -> None:
    hits = clean_hits(("2026-10-05 09:00", CONTOSO, "/pricing", "Edge", None))
    ours = attribute_hits(hits, IP_COMPANIES, ACCOUNT_MATCHES, PAGE_TAGS, visitor_salt=VISITOR_SALT)
    theirs = attribute_hits(
        hits, IP_COMPANIES, ACCOUNT_MATCHES, PAGE_TAGS, visitor_salt="another-salt-of-sufficient-length"
    )
    assert ours["visitor_key"].item() != theirs["visitor_key"].item()


def test_the_same_ip_and_browser_is_the_same_visitor_on_another_day() -> None:
    monday = attribute(clean_hits(("2026-10-05 09:00", CONTOSO, "/pricing", "Edge", None)))
    tuesday = attribute(clean_hits(("2026-10-06 09:00", CONTOSO, "/docs/api", "Edge", None)))
    assert monday["visitor_key"].item() == tuesday["visitor_key"].item()
    assert monday["visit_id"].item() != tuesday["visit_id"].item()


def test_a_visit_ends_after_more_than_30_minutes_without_a_page() -> None:
    hits = attribute(
        clean_hits(
            ("2026-10-05 09:00", CONTOSO, "/pricing", "Edge", None),
            ("2026-10-05 09:20", WAYNE, "/pricing", "Edge", None),  # someone else in between
            ("2026-10-05 09:30", CONTOSO, "/docs/api", "Edge", None),  # exactly 30 minutes: same visit
            ("2026-10-05 10:01", CONTOSO, "/pricing", "Edge", None),  # 31 minutes: a new visit
        )
    )
    contoso = hits.loc[hits["ip"] == CONTOSO, "visit_id"].tolist()
    assert contoso[0] == contoso[1] != contoso[2]
    assert hits["visit_id"].nunique() == 3


# --- account activity --------------------------------------------------------------


def test_target_accounts_with_activity_are_ranked_by_intent() -> None:
    accounts = activity().accounts
    assert accounts.columns.tolist() == ACCOUNT_COLUMNS
    assert accounts["account_id"].tolist() == ["ACME-001", "ACME-002"]  # no prospects, no ISPs, no idle accounts
    assert accounts["intent_score"].is_monotonic_decreasing
    assert accounts.loc[0, ["name", "crm_id", "owner"]].tolist() == ["Northwind Logistics Inc.", "crm-1", "EMEA team"]
    assert (accounts["window_start"] == WINDOW["window_start"]).all()
    assert (accounts["window_end"] == WINDOW["window_end"]).all()


def test_visits_pageviews_and_visitors() -> None:
    accounts = activity().accounts.set_index("account_id")
    assert accounts.loc["ACME-001", ["visits", "pageviews", "visitors"]].tolist() == [5, 7, 3]
    assert accounts.loc["ACME-002", ["visits", "pageviews", "visitors"]].tolist() == [1, 2, 1]


def test_hits_outside_the_window_are_ignored() -> None:
    result = activity()
    assert northwind(result)["first_seen"] == pd.Timestamp("2026-10-05 09:00", tz="UTC")
    assert northwind(result)["last_seen"] == pd.Timestamp("2026-10-09 08:00", tz="UTC")
    window = (pd.Timestamp("2026-10-01", tz="UTC"), pd.Timestamp("2026-10-14 23:59:59", tz="UTC"))
    assert result.path["timestamp"].between(*window).all()


def test_how_each_account_was_recognised() -> None:
    account = northwind(activity())
    assert account["matched_by"] == "ip_range;domain"  # strongest first, not most frequent
    assert account["organizations"] == "Northwind Logistics"
    assert account["countries"] == "US;GB"  # most hits first


def test_furthest_stage_top_topics_and_top_pages() -> None:
    accounts = activity().accounts.set_index("account_id")
    assert accounts["furthest_stage"].tolist() == ["decision", "consideration"]
    assert (
        accounts.loc["ACME-001", "top_topics"]
        == "pricing (3); developers (2); integrations (2); route-optimization (1)"
    )
    assert accounts.loc["ACME-001", "top_pages"] == "/pricing (3); /docs/api (2); /blog/route-planning (1)"
    assert accounts.loc["ACME-002", "top_topics"] == "developers (1); integrations (1); route-optimization (1)"


def test_top_n_limits_topics_and_pages() -> None:
    result = build_account_activity(attribute(WINDOW_HITS), ACCOUNTS, **WINDOW, weights=ScoringWeights(), top_n=1)
    assert northwind(result)[["top_topics", "top_pages"]].tolist() == ["pricing (3)", "/pricing (3)"]


def test_excluded_pages_stay_in_the_path_but_add_no_intent() -> None:
    careers_hit = WINDOW_HITS["url"] == "/careers"
    with_careers, without_careers = activity(), activity(WINDOW_HITS[~careers_hit])
    assert "/careers" in with_careers.path["url"].tolist()
    assert with_careers.path.loc[with_careers.path["url"] == "/careers", "excluded_from_intent"].item()
    assert "/careers" not in northwind(with_careers)["top_pages"]
    assert northwind(with_careers)["intent_score"] == northwind(without_careers)["intent_score"]
    assert northwind(with_careers)["pageviews"] == northwind(without_careers)["pageviews"] + 1


def test_an_account_that_only_read_excluded_pages_has_no_stage_or_intent() -> None:
    result = activity(clean_hits(("2026-10-05 09:00", CONTOSO, "/careers", "Edge", None)))
    account = result.accounts.iloc[0]
    assert pd.isna(account["furthest_stage"])
    assert account[["top_topics", "top_pages", "intent_score"]].tolist() == ["", "", 0.0]


def test_the_path_lists_each_accounts_pages_in_time_order() -> None:
    path = activity().path
    assert path.columns.tolist() == PATH_COLUMNS
    assert path["account_id"].tolist() == ["ACME-001"] * 7 + ["ACME-002"] * 2
    assert path.groupby("account_id")["timestamp"].apply(lambda times: times.is_monotonic_increasing).all()
    assert path.loc[path["account_id"] == "ACME-002", "url"].tolist() == ["/blog/route-planning", "/docs/api"]
    assert path.loc[path["account_id"] == "ACME-001", "visit_id"].nunique() == 5


def test_a_window_without_account_hits_gives_empty_frames() -> None:
    result = activity(clean_hits(("2026-10-05 09:00", COMCAST, "/pricing", "Edge", None)))
    assert result.accounts.empty and result.accounts.columns.tolist() == ACCOUNT_COLUMNS
    assert result.path.empty and result.path.columns.tolist() == PATH_COLUMNS


@pytest.mark.parametrize("hit_time", ["2026-10-01 00:00", "2026-10-14 23:59"])
def test_the_first_and_last_day_belong_to_the_window(hit_time: str) -> None:
    result = activity(clean_hits((hit_time, CONTOSO, "/pricing", "Edge", None)))
    assert result.accounts["pageviews"].tolist() == [1]


def test_a_busy_day_attributed_in_chunks_keeps_what_the_whole_day_keeps() -> None:
    # A second address for a prospect and for people at home, on the days of the first ones.
    wayne_2, comcast_2 = "192.0.2.8", "100.64.1.2"
    companies = pd.concat(
        [
            IP_COMPANIES,
            IP_COMPANIES[IP_COMPANIES["ip"].isin([WAYNE, COMCAST])].replace({WAYNE: wayne_2, COMCAST: comcast_2}),
        ],
        ignore_index=True,
    )
    matches = pd.concat([ACCOUNT_MATCHES, ACCOUNT_MATCHES[ACCOUNT_MATCHES["ip"] == WAYNE].replace({WAYNE: wayne_2})])
    hits = pd.concat(
        [
            WINDOW_HITS,
            clean_hits(
                ("2026-10-06 12:30", wayne_2, "/pricing", "Chrome", None),
                ("2026-10-07 19:30", comcast_2, "/docs/api", "Chrome", None),
            ),
        ],
        ignore_index=True,
    )
    chunk_of = dict(zip(hits["ip"], address_chunks(hits["ip"], 4)))
    assert chunk_of[WAYNE] != chunk_of[wayne_2] and chunk_of[COMCAST] != chunk_of[comcast_2]

    def attributed_day(max_hits: int) -> AttributedDay:
        chunks = HitChunks.split(hits, max_hits=max_hits)
        return attribute_day(chunks, companies, matches, PAGE_TAGS, visitor_salt=VISITOR_SALT)

    whole, chunked = attributed_day(len(hits)), attributed_day(4)  # 15 hits: 4 chunks of addresses

    kept = {
        "account_hits": chunked.account_hits,
        **chunked.prospects._asdict(),
        "traffic_counts": chunked.traffic_counts,
    }
    for name, frame in kept.items():
        expected = getattr(whole.prospects, name) if name in whole.prospects._fields else getattr(whole, name)
        columns = list(expected.columns)
        pd.testing.assert_frame_equal(
            frame.sort_values(columns, ignore_index=True), expected.sort_values(columns, ignore_index=True), obj=name
        )
    wayne = whole.prospects.days.set_index("organization").loc["Wayne Enterprises"]
    assert (wayne["visits"], wayne["pageviews"]) == (2, 2)  # one row, from two addresses
