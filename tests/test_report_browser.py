"""The HTML report in a real browser: both pages open cleanly and show their charts and tables.

Chromium loads the pages from disk, as a reader would; the tests read the DOM it built, the
console messages it logged and, for the account page, the pixels it painted.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import colors, image

from connectors.sinks.base import WindowReport
from connectors.sinks.charts import STAGE_COLOURS
from connectors.sinks.files import FileReportSink
from enrichment.content import ContentPerformance
from enrichment.summary import WindowSummary
from tests.browser import Element, open_page, parse_dom, require_chromium

START, END = date(2026, 11, 2), date(2026, 11, 15)


def _accounts() -> pd.DataFrame:
    common = {"crm_id": None, "matched_by": "domain", "visitors": 2, "window_start": START, "window_end": END}
    return pd.DataFrame(
        [
            {
                **common,
                "account_id": "ACME-001",
                "name": "Northwind Logistics",
                "owner": "EMEA team",
                "organizations": "Northwind Logistics GmbH",
                "countries": "DE",
                "visits": 4,
                "pageviews": 7,
                "first_seen": pd.Timestamp("2026-11-03 09:00", tz="UTC"),
                "last_seen": pd.Timestamp("2026-11-12 10:04", tz="UTC"),
                "furthest_stage": "decision",
                "top_topics": "pricing (2); route-optimization (2); last-mile (1)",
                "top_pages": "/pricing (2); /request-demo (1)",
                "intent_score": 86.0,
                "surge": 82.0,
                "surging": True,
                "level": "hot",
                "mqa": True,
                "previous_score": 61.0,
                "score_change": 25.0,
                "previous_stage": "consideration",
                "movement": "stage_advanced",
                "explanation": "Read pricing twice and asked for a demo in the last week, well above its usual reading.",
                "top_contributions": "/pricing (12.0); /request-demo (9.5); /product/route-optimizer (6.0)",
            },
            {
                **common,
                "account_id": "ACME-003",
                "name": "Северсталь-Инфоком",
                "owner": "RU team",
                "organizations": "ООО «Северсталь-Инфоком»",
                "countries": "RU",
                "visits": 1,
                "pageviews": 2,
                "first_seen": pd.Timestamp("2026-11-09 08:00", tz="UTC"),
                "last_seen": pd.Timestamp("2026-11-09 08:03", tz="UTC"),
                "furthest_stage": "consideration",
                "top_topics": "route-optimization (2)",
                "top_pages": "/product/route-optimizer (2)",
                "intent_score": 41.0,
                "surge": 50.0,
                "surging": False,
                "level": "warm",
                "mqa": False,
                "previous_score": None,
                "score_change": None,
                "previous_stage": None,
                "movement": "new",
                "explanation": "First visit: product pages only.",
                "top_contributions": "/product/route-optimizer (8.0)",
            },
        ]
    )


def _page(
    account_id: str, timestamp: str, visit_id: str, url: str, topics: str, stage: str | None
) -> dict[str, object]:
    return {
        "account_id": account_id,
        "timestamp": pd.Timestamp(timestamp, tz="UTC"),
        "visit_id": visit_id,
        "url": url,
        "topics": topics,
        "stage": stage,
        "content_type": "careers" if stage is None else "article",
        "excluded_from_intent": stage is None,
        "referrer": "-",
    }


def _path() -> pd.DataFrame:
    return pd.DataFrame(
        [
            _page("ACME-001", "2026-11-03 09:00", "n1", "/blog/last-mile-costs", "last-mile", "awareness"),
            _page(
                "ACME-001", "2026-11-05 13:10", "n2", "/product/route-optimizer", "route-optimization", "consideration"
            ),
            _page("ACME-001", "2026-11-05 13:14", "n2", "/careers", "", None),
            _page(
                "ACME-001", "2026-11-10 15:00", "n3", "/product/route-optimizer", "route-optimization", "consideration"
            ),
            _page("ACME-001", "2026-11-10 15:05", "n3", "/pricing", "pricing", "decision"),
            _page("ACME-001", "2026-11-12 10:00", "n4", "/pricing", "pricing", "decision"),
            _page("ACME-001", "2026-11-12 10:04", "n4", "/request-demo", "", "decision"),
            _page(
                "ACME-003", "2026-11-09 08:00", "s1", "/product/route-optimizer", "route-optimization", "consideration"
            ),
            _page(
                "ACME-003", "2026-11-09 08:03", "s1", "/product/route-optimizer", "route-optimization", "consideration"
            ),
        ]
    )


def _summary() -> WindowSummary:
    return WindowSummary(
        funnel=pd.DataFrame(
            {
                "step": ["hits", "clean", "resolved", "company", "target_account"],
                "hits": [5000, 3100, 2900, 700, 9],
                "visits": [None, 900, 850, 160, 5],
            }
        ),
        identification_by_country=pd.DataFrame(
            {
                "country": ["ALL", "RU", "DE", "US", "??"],
                "visits": [900, 400, 300, 150, 50],
                "identified_visits": [160, 60, 45, 55, 0],
                "rate": [0.178, 0.15, 0.15, 0.367, 0.0],
            }
        ),
        drop_reasons=pd.DataFrame({"reason": ["bot", "static_asset"], "hits": [1500, 400]}),
        classifications=pd.DataFrame({"classification": ["company", "isp"], "ips": [40, 300], "hits": [700, 2200]}),
        prospects=pd.DataFrame(
            [
                {
                    "organization": "Wayne Enterprises",
                    "domain": "wayne.example",
                    "country": "US",
                    "intent_score": 31.5,
                    "visits": 3,
                    "pageviews": 7,
                    "top_topics": "pricing (4)",
                    "last_seen": pd.Timestamp("2026-11-10", tz="UTC"),
                }
            ]
        ),
    )


def _movements() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "account_id": "ACME-001",
                "name": "Northwind Logistics",
                "movement": "stage_advanced",
                "previous_stage": "consideration",
                "furthest_stage": "decision",
                "previous_score": 61.0,
                "intent_score": 86.0,
                "score_change": 25.0,
            },
            {
                "account_id": "ACME-003",
                "name": "Северсталь-Инфоком",
                "movement": "new",
                "previous_stage": None,
                "furthest_stage": "consideration",
                "previous_score": None,
                "intent_score": 41.0,
                "score_change": None,
            },
            {
                "account_id": "ACME-009",
                "name": "Globex Corporation",
                "movement": "gone_quiet",
                "previous_stage": "decision",
                "furthest_stage": None,
                "previous_score": 58.0,
                "intent_score": 0.0,
                "score_change": -58.0,
            },
        ]
    )


def _content() -> ContentPerformance:
    return ContentPerformance(
        pages=pd.DataFrame(
            [
                {
                    "path": "/product/route-optimizer",
                    "topics": "route-optimization",
                    "stage": "consideration",
                    "accounts_reached": 2,
                    "pageviews": 3,
                    "accounts_advanced": 0,
                },
                {
                    "path": "/pricing",
                    "topics": "pricing",
                    "stage": "decision",
                    "accounts_reached": 1,
                    "pageviews": 2,
                    "accounts_advanced": 1,
                },
            ]
        ),
        topics=pd.DataFrame(
            [
                {"topic": "route-optimization", "accounts_reached": 2, "pageviews": 3, "accounts_advanced": 0},
            ]
        ),
        referrers=pd.DataFrame([{"referrer_host": "linkedin.com", "accounts_reached": 1, "pageviews": 2}]),
        campaigns=pd.DataFrame(
            [
                {
                    "utm_source": "linkedin",
                    "utm_medium": "paid-social",
                    "utm_campaign": "q4-route-optimizer",
                    "accounts_reached": 1,
                    "pageviews": 2,
                    "accounts_advanced": 1,
                }
            ]
        ),
    )


@pytest.fixture(scope="module")
def chromium() -> Path:
    return require_chromium()


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    report = WindowReport(
        window_start=START,
        window_end=END,
        accounts=_accounts(),
        path=_path(),
        summary=_summary(),
        untagged_pages=pd.DataFrame({"url": ["/about"], "hits": [4]}),
        movements=_movements(),
        content_performance=_content(),
        expected_identification={"RU": (0.10, 0.20), "*": (0.30, 0.80)},
    )
    return Path(FileReportSink(tmp_path_factory.mktemp("reports")).deliver(report).location).parent


def _chart_text(page: Element, figure_id: str) -> str:
    """The text drawn in the figure's chart; fails unless the chart has a title for screen readers."""
    (svg,) = page.by_id(figure_id).find_all("svg")
    title = svg.find_all("title")[0].text
    assert title and svg.attrs["role"] == "img" and svg.attrs["aria-label"] == title
    return " ".join(text.text for text in svg.find_all("text"))


def _table_rows(section: Element) -> list[str]:
    return [row.text for row in section.find_all("tr")]


def test_summary_opens_cleanly_with_its_charts_and_tables(chromium: Path, report_folder: Path) -> None:
    opened = open_page(chromium, report_folder / "index.html")

    assert opened.console == []
    page = parse_dom(opened.dom)
    funnel_text = _chart_text(page, "funnel-chart")
    assert (
        "All parsed hits" in funnel_text and "From a target account" in funnel_text and "9 hits · 0.2%" in funnel_text
    )
    countries_text = _chart_text(page, "identification-chart")
    assert (
        "RU · 400 visits" in countries_text
        and "DE · 300 visits" in countries_text
        and "expected band" in countries_text
    )
    countries = _table_rows(page.by_id("identification"))
    assert "DE 300 45 15.0% 30–80% below expected" in countries
    assert "RU 400 60 15.0% 10–20% as expected" in countries
    movers = _table_rows(page.by_id("movers"))
    assert movers[1:] == [
        "Northwind Logistics stage advanced consideration → decision 61 → 86 ▲ 25",
        "Северсталь-Инфоком new consideration 41",
        "Globex Corporation gone quiet decision → no visits 58 → 0 ▼ 58",
    ]
    content = _table_rows(page.by_id("content"))
    assert "linkedin paid-social q4-route-optimizer 1 1 2" in content and "linkedin.com 1 2" in content
    assert "Wayne Enterprises" in page.by_id("prospects").text


def test_account_page_opens_cleanly_and_paints_its_charts(chromium: Path, report_folder: Path, tmp_path: Path) -> None:
    screenshot = tmp_path / "account.png"
    opened = open_page(chromium, report_folder / "accounts" / "ACME-001.html", screenshot=screenshot)

    assert opened.console == []
    page = parse_dom(opened.dom)
    daily_text = _chart_text(page, "daily-chart")
    assert all(stage in daily_text for stage in ("awareness", "consideration", "decision", "no stage"))
    assert "2 Nov" in daily_text and "14 Nov" in daily_text  # the whole window, read or not
    topics_text = _chart_text(page, "topics-chart")
    assert "pricing" in topics_text and "route-optimization" in topics_text
    assert "Read pricing twice" in page.by_id("why").text
    assert "consideration → decision" in page.by_id("previous").text
    painted = image.imread(screenshot)[..., :3]
    for stage, colour in STAGE_COLOURS.items():
        # Thousands of pixels: a bar, not the thin outline of a stage badge in the same colour.
        pixels = np.all(np.abs(painted - colors.to_rgb(colour)) < 2 / 255, axis=-1).sum()
        assert pixels > 3000, f"no {stage} bar painted ({pixels} pixels of its colour)"


def test_a_blocked_script_or_resource_would_show_in_the_console(
    chromium: Path, report_folder: Path, tmp_path: Path
) -> None:
    # The check above must be able to fail: the report's own policy blocks these and Chromium says so.
    html = (report_folder / "index.html").read_text(encoding="utf-8")
    tampered = tmp_path / "index.html"
    blocked = '<script>undefined()</script><img src="https://example.com/x.png">'
    tampered.write_text(html.replace("</body>", f"{blocked}</body>"), encoding="utf-8")

    console = open_page(chromium, tampered).console

    assert len(console) == 2 and all("Content Security Policy" in line for line in console)
