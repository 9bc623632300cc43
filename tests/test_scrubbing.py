"""Scrubbing at the door: campaign parameters stay, personal data never does."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrichment.scrubbing import (
    ScrubbedUrl,
    ScrubRules,
    mask_personal_data,
    removed_parameter_counts,
    scrub_hits,
    scrub_raw_line,
    scrub_url,
)

ISSUE_URL = "/pricing?email=jane.doe%40example.com&token=abc123secret&utm_source=newsletter"
ISSUE_REFERRER = "https://mail.example.com/?to=jane.doe@example.com"


def test_the_reported_url_keeps_its_campaign_and_loses_the_address_and_the_token() -> None:
    scrubbed = scrub_url(ISSUE_URL)
    assert scrubbed.url == "/pricing?utm_source=newsletter"
    assert scrubbed.removed == ("email", "token")


def test_the_reported_referrer_keeps_its_host_and_path() -> None:
    assert scrub_url(ISSUE_REFERRER) == ScrubbedUrl("https://mail.example.com/", ("to",))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/pricing", "/pricing"),
        ("/blog/how-to-choose-a-data-warehouse-2024", "/blog/how-to-choose-a-data-warehouse-2024"),
        ("/events/2026-05-01/berlin", "/events/2026-05-01/berlin"),
        ("/docs/v2.10.3/install", "/docs/v2.10.3/install"),
        ("/orders/123456", "/orders/123456"),
        ("/docs/ProductDocumentation2024Edition", "/docs/ProductDocumentation2024Edition"),
        ("/blog/the_complete_guide_to_route_optimisation", "/blog/the_complete_guide_to_route_optimisation"),
        ("/users/jane.doe@example.com/profile", "/users/[email]/profile"),
        ("/users/jane.doe%40example.com/profile", "/users/[email]/profile"),
        ("/call/+49-30-1234567", "/call/[phone]"),
        ("/call/004930123456", "/call/[phone]"),
        ("/blog/00000000", "/blog/00000000"),
        ("/reset/3f2a9c4e-1b2d-4c5e-9f00-aa11bb22cc33", "/reset/[token]"),
        ("/confirm/a8f5f167f44f4964e6c998dee827110c", "/confirm/[token]"),
        ("/s/Zx9kP2mQ7vL4rT8wN3bY6cH1", "/s/[token]"),
        ("/page#access_token=secret", "/page"),
        ("/p?UTM_Campaign=spring&gclid=Cj0KCQjw&fbclid=IwAR3x", "/p?UTM_Campaign=spring&gclid=Cj0KCQjw&fbclid=IwAR3x"),
        ("/p?utm_content=jane%40example.com", "/p?utm_content=[email]"),
        ("/p?session_id=42&lang=en", "/p"),
        ("https://www.example.com/a/b?q=1#top", "https://www.example.com/a/b"),
    ],
)
def test_urls_keep_what_intent_needs_and_mask_what_names_a_person(url: str, expected: str) -> None:
    assert scrub_url(url).url == expected


def test_the_allow_list_is_a_setting() -> None:
    rules = ScrubRules(allowed_parameters=("lang", "ref_*"))
    assert scrub_url("/p?lang=de&ref_partner=acme&utm_source=x", rules).url == "/p?lang=de&ref_partner=acme"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Pricing | Acme", "Pricing | Acme"),
        ("Webinar 2026-05-01 10:00 - Q3 roadmap", "Webinar 2026-05-01 10:00 - Q3 roadmap"),
        ("Thanks, jane.doe@example.com!", "Thanks, [email]!"),
        ("Call us: +1 (555) 123-4567", "Call us: [phone]"),
        ("Rufen Sie 030 1234 5678 an", "Rufen Sie [phone] an"),
        ("Your order 12345", "Your order 12345"),
        ("Server 203.0.113.7 status", "Server 203.0.113.7 status"),
        ("Session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sflKxwRJSMeKKF2QT4fwpMeJf36", "Session [token]"),
    ],
)
def test_free_text_keeps_its_words_and_masks_personal_data(title: str, expected: str) -> None:
    assert mask_personal_data(title) == expected


def test_a_quarantined_raw_line_is_scrubbed_the_same_way() -> None:
    raw = '203.0.113.7 - - [bad date] "GET /pricing?email=jane%40example.com&utm_source=nl HTTP/1.1" 200 5 "-" "UA"'
    scrubbed = scrub_raw_line(raw)
    assert "jane" not in scrubbed
    assert "/pricing?utm_source=nl" in scrubbed
    assert scrubbed.startswith("203.0.113.7 ")  # raw IPs have their own retention rule


def test_hits_are_scrubbed_per_column_and_removed_names_counted() -> None:
    hits = pd.DataFrame(
        {
            "url": [ISSUE_URL, ISSUE_URL, "/pricing?utm_source=ads", None],
            "referrer": [ISSUE_REFERRER, None, "https://www.google.com/", None],
            "page_title": ["Pricing for jane.doe@example.com", None, "Pricing", "Home"],
        },
        dtype="str",
    )
    scrubbed = scrub_hits(hits)
    assert scrubbed["url"].tolist()[:3] == ["/pricing?utm_source=newsletter"] * 2 + ["/pricing?utm_source=ads"]
    assert pd.isna(scrubbed["url"].iloc[3])
    assert scrubbed["referrer"].iloc[0] == "https://mail.example.com/"
    assert scrubbed["page_title"].iloc[0] == "Pricing for [email]"
    assert scrubbed["removed_parameters"].tolist()[:2] == ["email;token;to", "email;token"]
    assert pd.isna(scrubbed["removed_parameters"].iloc[2])
    counts = removed_parameter_counts(scrubbed["removed_parameters"])
    assert counts.to_dict("records") == [
        {"parameter": "email", "hits": 2},
        {"parameter": "token", "hits": 2},
        {"parameter": "to", "hits": 1},
    ]


_emails = st.from_regex(r"[a-z][a-z0-9.]{0,10}[a-z0-9]@[a-z]{2,10}\.(com|de|ru|example)", fullmatch=True)
_names = st.from_regex(r"[a-z_]{1,12}", fullmatch=True)
_paths = st.lists(st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True), max_size=4).map(
    lambda parts: "/" + "/".join(parts)
)


@given(path=_paths, email=_emails, name=_names, campaign=st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True))
def test_no_email_survives_anywhere_in_a_url(path: str, email: str, name: str, campaign: str) -> None:
    for encoded in (email, email.replace("@", "%40")):
        url = f"{path}/{encoded}?{name}={encoded}&utm_source={campaign}&utm_term={encoded}"
        scrubbed = scrub_url(url)
        assert "@" not in scrubbed.url and "%40" not in scrubbed.url
        assert f"utm_source={campaign}" in scrubbed.url
        assert scrub_url(scrubbed.url).url == scrubbed.url  # scrubbing twice changes nothing


@given(st.text(max_size=200))
def test_scrubbing_never_raises_and_is_stable(text: str) -> None:
    once = scrub_url(text).url
    assert scrub_url(once).url == once
    masked = mask_personal_data(text)
    assert mask_personal_data(masked) == masked
    assert not re.search(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}", masked)
