"""Cleaning: what is not a person reading a page is dropped, each hit with one reason."""

from __future__ import annotations

import pandas as pd
import pytest

from enrichment.cleaning import clean_hits, drop_counts

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
VISITOR_IP = "81.130.50.10"
OFFICE = "212.0.10.0/28"
MORNING = pd.Timestamp("2026-10-05 09:00", tz="UTC")


def _hit(**fields: object) -> dict[str, object]:
    """A page view by a person; override what a test is about."""
    return {
        "timestamp": MORNING,
        "ip": VISITOR_IP,
        "method": "GET",
        "url": "/pricing",
        "status": 200,
        "user_agent": BROWSER,
        **fields,
    }


def _hits(*hits: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame(list(hits)).astype(
        {"ip": "str", "method": "str", "url": "str", "status": "Int64", "user_agent": "str"}
    )


def _reasons(*hits: dict[str, object], **options: object) -> list[str | None]:
    cleaned = clean_hits(_hits(*hits), office_networks=[OFFICE], **options)
    return [None if pd.isna(reason) else reason for reason in cleaned["drop_reason"]]


@pytest.mark.parametrize(
    ("hit", "reason"),
    [
        (_hit(ip="10.1.2.3"), "private_address"),
        (_hit(ip="127.0.0.1"), "private_address"),
        (_hit(ip="203.0.113.9"), "private_address"),  # documentation (TEST-NET-3)
        (_hit(ip="224.0.0.251"), "private_address"),  # multicast
        (_hit(ip="fe80::1"), "private_address"),
        (_hit(ip="unknown"), "private_address"),  # a log line that names no client
        (_hit(ip=None), "private_address"),
        (_hit(ip="212.0.10.3"), "own_office"),
        (_hit(method="HEAD"), "not_a_page"),
        (_hit(status=400), "not_a_page"),  # the first error status
        (_hit(status=404), "not_a_page"),
        (_hit(status=503), "not_a_page"),
        (_hit(status=301), "not_a_page"),  # the redirect's target is the page view
        (_hit(status=302), "not_a_page"),
        (_hit(status=300), "not_a_page"),  # the first redirect status
        (_hit(url="/static/app.js?v=3"), "static_asset"),
        (_hit(url="/img/Logo.PNG"), "static_asset"),
        (_hit(url="/robots.txt"), "static_asset"),
        (_hit(url="/.well-known/security.txt"), "static_asset"),
        (_hit(user_agent=GOOGLEBOT), "bot_user_agent"),
        (_hit(user_agent="curl/8.5.0"), "bot_user_agent"),
        (_hit(user_agent="python-requests/2.32.3"), "bot_user_agent"),
        (_hit(user_agent=""), "bot_user_agent"),
        (_hit(user_agent="-"), "bot_user_agent"),
        (_hit(user_agent=None), "bot_user_agent"),
    ],
)
def test_noise_is_dropped_with_its_reason(hit: dict[str, object], reason: str) -> None:
    assert _reasons(hit) == [reason]


@pytest.mark.parametrize(
    "hit",
    [
        _hit(),
        _hit(method="POST", url="/contact-sales"),
        _hit(status=None, method=None),  # exports often carry neither
        _hit(status=304),
        _hit(url="/whitepapers/route-planning.pdf"),  # content people read, not a static file
        _hit(url="/learn/css"),  # a page named like a file type has no extension
        _hit(url="/pricing?ref=logo.png"),  # the query string is not the path
        _hit(ip="2a00:1450:4001:80b::200e"),
    ],
)
def test_a_person_reading_a_page_is_kept(hit: dict[str, object]) -> None:
    assert _reasons(hit) == [None]


@pytest.mark.parametrize(
    ("hit", "reason"),
    [
        (_hit(ip="10.1.2.3", method="HEAD", user_agent=GOOGLEBOT), "private_address"),
        (_hit(ip="212.0.10.3", url="/static/app.js"), "own_office"),
        (_hit(status=404, url="/static/missing.js", user_agent="curl/8.5.0"), "not_a_page"),
        (_hit(url="/favicon.ico", user_agent=GOOGLEBOT), "static_asset"),
    ],
)
def test_the_first_reason_that_applies_wins(hit: dict[str, object], reason: str) -> None:
    assert _reasons(hit) == [reason]


def _pages_per_second(count: int, ip: str) -> list[dict[str, object]]:
    return [_hit(ip=ip, url=f"/blog/post-{n}", timestamp=MORNING + pd.Timedelta(seconds=n)) for n in range(count)]


def test_a_scraper_with_a_browser_user_agent_is_dropped_for_the_whole_input() -> None:
    scraper = "67.199.70.8"
    burst = [
        _hit(ip=scraper, url=f"/blog/post-{n}", timestamp=MORNING + pd.Timedelta(seconds=n / 2)) for n in range(100)
    ]
    later = _hit(ip=scraper, timestamp=MORNING + pd.Timedelta(hours=3))
    reader = _hit(timestamp=MORNING + pd.Timedelta(seconds=10))
    assert _reasons(*burst, later, reader) == ["bot_behaviour"] * 101 + [None]


def test_more_than_the_limit_within_60_seconds_is_a_bot() -> None:
    at_the_limit = _pages_per_second(30, "67.199.70.8")
    one_over = _pages_per_second(31, "67.199.70.9")
    over_a_full_minute = _pages_per_second(30, "67.199.70.10") + [
        _hit(ip="67.199.70.10", timestamp=MORNING + pd.Timedelta(seconds=60))
    ]
    reasons = _reasons(*at_the_limit, *one_over, *over_a_full_minute, max_pages_per_minute=30)
    assert reasons == [None] * 30 + ["bot_behaviour"] * 31 + [None] * 31


def test_by_default_more_than_30_pages_a_minute_is_a_bot() -> None:
    reasons = _reasons(*_pages_per_second(30, "67.199.70.8"), *_pages_per_second(31, "67.199.70.9"))
    assert reasons == [None] * 30 + ["bot_behaviour"] * 31


def test_a_limit_of_one_page_a_minute_is_allowed_but_zero_is_a_mistake() -> None:
    assert _reasons(*_pages_per_second(2, "67.199.70.8"), max_pages_per_minute=1) == ["bot_behaviour"] * 2
    with pytest.raises(ValueError, match="max_pages_per_minute must be at least 1, not 0"):
        _reasons(_hit(), max_pages_per_minute=0)


def test_an_office_network_may_be_written_with_any_of_its_addresses() -> None:
    cleaned = clean_hits(_hits(_hit(ip="212.0.10.3")), office_networks=["212.0.10.1/28"])
    assert cleaned["drop_reason"].tolist() == ["own_office"]


def test_the_limit_counts_each_browser_behind_an_address_apart() -> None:
    # Two colleagues behind one company NAT, each reading quickly, are not one scraper.
    colleague = BROWSER.replace("Chrome/126", "Chrome/127")
    hits = [
        _hit(user_agent=agent, timestamp=MORNING + pd.Timedelta(seconds=n))
        for n in range(20)
        for agent in (BROWSER, colleague)
    ]
    assert _reasons(*hits, max_pages_per_minute=30) == [None] * 40


def test_static_files_do_not_count_towards_the_page_limit() -> None:
    page_with_assets = [_hit()] + [_hit(url=f"/static/chunk-{n}.js") for n in range(60)]
    assert _reasons(*page_with_assets, max_pages_per_minute=5) == [None] + ["static_asset"] * 60


def test_other_columns_pass_through() -> None:
    hits = _hits(_hit(visitor_id="v-1"), _hit(ip="10.0.0.1", visitor_id="v-2"))
    cleaned = clean_hits(hits)
    assert list(cleaned.columns) == [*hits.columns, "drop_reason"]
    assert cleaned["visitor_id"].tolist() == ["v-1", "v-2"]


def test_an_empty_day_is_fine() -> None:
    hits = _hits(_hit()).iloc[:0]
    assert clean_hits(hits)["drop_reason"].empty
    assert drop_counts(clean_hits(hits)).empty


def test_drop_counts_add_up_most_first() -> None:
    hits = _hits(
        _hit(ip="10.0.0.1"),
        _hit(user_agent=GOOGLEBOT),
        _hit(user_agent="curl/8.5.0"),
        _hit(url="/app.css"),
        _hit(url="/app.js"),
        _hit(url="/logo.svg"),
        _hit(),
        _hit(),
    )
    cleaned = clean_hits(hits)
    counts = drop_counts(cleaned)
    assert counts.to_dict("records") == [
        {"reason": "static_asset", "hits": 3},
        {"reason": "bot_user_agent", "hits": 2},
        {"reason": "private_address", "hits": 1},
    ]
    assert counts["hits"].sum() + cleaned["drop_reason"].isna().sum() == len(hits)
