"""The file sink: a folder per window with a summary page, account pages and CSVs."""

from __future__ import annotations

import csv
import dataclasses
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pandas as pd

from connectors.sinks.base import WindowReport
from connectors.sinks.charts import OUTSIDE_BAND_COLOUR, pageviews_by_day_and_stage
from connectors.sinks.files import ACCOUNTS_CSV_COLUMNS, FileReportSink
from connectors.sinks.report_pages import CONTENT_ROWS_SHOWN
from enrichment.content import ContentPerformance
from enrichment.signals import SIGNAL_COLUMNS
from enrichment.summary import WindowSummary
from tests.browser import Element, parse_dom

START, END = date(2026, 11, 2), date(2026, 11, 15)
HOSTILE_NAME = 'Evil <script>alert("name")</script> Corp'
HOSTILE_URL = '/pricing?q="><img src=x onerror=alert(1)>'


def _account(account_id: str, name: str, intent_score: int, *, pageviews: int = 5) -> dict[str, object]:
    return {
        "account_id": account_id,
        "name": name,
        "crm_id": None,
        "owner": "EMEA team",
        "matched_by": "domain",
        "organizations": name,
        "countries": "US",
        "visits": 2,
        "pageviews": pageviews,
        "visitors": 1,
        "first_seen": pd.Timestamp("2026-11-03 09:00", tz="UTC"),
        "last_seen": pd.Timestamp("2026-11-12 16:30", tz="UTC"),
        "furthest_stage": "decision",
        "top_topics": "pricing (3); integrations (2)",
        "top_pages": "/pricing (3); /integrations/sap (2)",
        "intent_score": intent_score,
        "window_start": START,
        "window_end": END,
    }


def _scored(account: dict[str, object], **story: object) -> dict[str, object]:
    """``account`` with the score's story: level, surge, explanation and the previous window's figures."""
    return {
        **account,
        "surge": 50.0,
        "surging": False,
        "level": "warm",
        "mqa": False,
        "previous_score": None,
        "score_change": None,
        "previous_stage": None,
        "movement": "new",
        "explanation": "",
        "top_contributions": "",
        **story,
    }


def _page(
    account_id: str,
    timestamp: str,
    visit_id: str,
    url: str,
    referrer: str = "-",
    *,
    topics: str = "pricing",
    stage: str | None = "decision",
    excluded: bool = False,
) -> dict[str, object]:
    return {
        "account_id": account_id,
        "timestamp": pd.Timestamp(timestamp, tz="UTC"),
        "visit_id": visit_id,
        "url": url,
        "topics": topics,
        "stage": stage,
        "content_type": "pricing",
        "excluded_from_intent": excluded,
        "referrer": referrer,
    }


def _summary(prospect: str = "Wayne Enterprises", countries: pd.DataFrame | None = None) -> WindowSummary:
    return WindowSummary(
        funnel=pd.DataFrame(
            {
                "step": ["hits", "clean", "resolved", "company", "target_account"],
                "hits": [1000, 600, 580, 120, 40],
                "visits": [300, 200, 190, 30, 8],
            }
        ),
        identification_by_country=countries
        if countries is not None
        else pd.DataFrame(
            {
                "country": ["ALL", "US"],
                "visits": [200, 120],
                "identified_visits": [30, 20],
                "rate": [0.15, 0.1667],
            }
        ),
        drop_reasons=pd.DataFrame({"reason": ["bot", "static_asset"], "hits": [300, 100]}),
        classifications=pd.DataFrame({"classification": ["company", "isp"], "ips": [12, 80], "hits": [120, 400]}),
        prospects=pd.DataFrame(
            [
                {
                    "organization": prospect,
                    "domain": "wayne.example",
                    "country": "US",
                    "intent_score": 31.5,
                    "visits": 3,
                    "pageviews": 7,
                    "top_topics": "route-optimization (4)",
                    "last_seen": pd.Timestamp("2026-11-10", tz="UTC"),
                }
            ]
        ),
    )


def _report(
    accounts: list[dict[str, object]],
    path: list[dict[str, object]] | None = None,
    *,
    untagged: pd.DataFrame | None = None,
    summary: WindowSummary | None = None,
    movements: pd.DataFrame | None = None,
    content: ContentPerformance | None = None,
    expected: Mapping[str, tuple[float, float]] | None = None,
) -> WindowReport:
    return WindowReport(
        window_start=START,
        window_end=END,
        accounts=pd.DataFrame(accounts, columns=list(accounts[0] if accounts else _account("x", "x", 0))),
        path=pd.DataFrame(path or [], columns=list(_page("x", "2026-11-02", "v", "/"))),
        summary=summary or _summary(),
        untagged_pages=untagged if untagged is not None else pd.DataFrame({"url": ["/about"], "hits": [4]}),
        movements=movements,
        content_performance=content,
        expected_identification=expected or {},
    )


def _deliver(tmp_path: Path, report: WindowReport) -> Path:
    """Deliver ``report``; returns its folder."""
    return Path(FileReportSink(tmp_path).deliver(report).location).parent


def _open(page: Path) -> Element:
    return parse_dom(page.read_text(encoding="utf-8"))


def _rows(section: Element) -> list[str]:
    """The text of each table row in ``section``, headers included."""
    return [row.text for row in section.find_all("tr")]


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


TWO_ACCOUNTS = [_account("ACME-002", "Contoso", 40), _account("ACME-001", "Northwind", 85)]


def test_delivery_writes_the_summary_account_pages_and_csvs(tmp_path: Path) -> None:
    result = FileReportSink(tmp_path).deliver(_report(TWO_ACCOUNTS))

    folder = tmp_path / "2026-11-02_2026-11-15"
    assert result.sink == "files"
    assert result.location == str(folder / "index.html")
    assert result.delivered == 2
    assert sorted(p.name for p in (folder / "accounts").iterdir()) == ["ACME-001.html", "ACME-002.html"]
    for name in (
        "index.html",
        "accounts.csv",
        "digital_path.csv",
        "prospects.csv",
        "suggested_accounts.csv",
        "identification_by_country.csv",
        "drop_reasons.csv",
        "untagged_pages.csv",
    ):
        assert (folder / name).is_file(), name


def test_accounts_csv_has_the_documented_columns_highest_score_first(tmp_path: Path) -> None:
    FileReportSink(tmp_path).deliver(_report(TWO_ACCOUNTS))

    header, *rows = _read_csv(tmp_path / "2026-11-02_2026-11-15" / "accounts.csv")
    assert (
        header
        == ACCOUNTS_CSV_COLUMNS
        == [
            "account_id",
            "name",
            "visits",
            "pageviews",
            "visitors",
            "first_seen",
            "last_seen",
            "furthest_stage",
            "top_topics",
            "intent_score",
            "matched_by",
            "score_history",
            "trigger_events",
            "surge_topics",
            "signal_score",
        ]
    )
    assert [(row[0], row[1], row[9]) for row in rows] == [
        ("ACME-001", "Northwind", "85"),
        ("ACME-002", "Contoso", "40"),
    ]


def test_index_ranks_accounts_by_intent_score_and_links_their_pages(tmp_path: Path) -> None:
    accounts = [_account("A-1", "Low Co", 10), _account("A-2", "High Co", 90), _account("A-3", "Mid Co", 50)]
    html = Path(FileReportSink(tmp_path).deliver(_report(accounts)).location).read_text(encoding="utf-8")

    assert html.index("High Co") < html.index("Mid Co") < html.index("Low Co")
    assert 'href="accounts/A-2.html"' in html


def test_untrusted_names_and_urls_are_escaped_in_html(tmp_path: Path) -> None:
    report = _report(
        [_account("ACME-001", HOSTILE_NAME, 70)],
        [_page("ACME-001", "2026-11-03 09:00", "v1", HOSTILE_URL, referrer="javascript:alert(2)")],
        untagged=pd.DataFrame({"url": [HOSTILE_URL], "hits": [3]}),
        summary=_summary(prospect=HOSTILE_NAME),
    )
    folder = Path(FileReportSink(tmp_path).deliver(report).location).parent

    for page in (folder / "index.html", folder / "accounts" / "ACME-001.html"):
        html = page.read_text(encoding="utf-8")
        assert "<script>" not in html and "<img" not in html, page.name
        assert "&lt;script&gt;" in html, page.name
    account_page = (folder / "accounts" / "ACME-001.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in account_page
    assert 'href="javascript:' not in account_page


def test_account_ids_that_are_not_safe_file_names_stay_inside_the_accounts_folder(tmp_path: Path) -> None:
    sink = FileReportSink(tmp_path / "reports")
    folder = Path(sink.deliver(_report([_account("../../escape", "Escapee", 60)])).location).parent

    pages = list((folder / "accounts").iterdir())
    assert len(pages) == 1
    assert f'href="accounts/{pages[0].name}"' in (folder / "index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]


def test_account_page_shows_the_path_visit_by_visit_in_time_order(tmp_path: Path) -> None:
    path = [
        _page("ACME-001", "2026-11-10 14:05", "v2", "/request-demo"),
        _page("ACME-001", "2026-11-03 09:00", "v1", "/blog/last-mile-costs", referrer="https://www.google.com/"),
        _page("ACME-001", "2026-11-03 09:02", "v1", "/product/route-optimizer"),
        _page("ACME-001", "2026-11-10 14:00", "v2", "/pricing"),
    ]
    folder = Path(
        FileReportSink(tmp_path).deliver(_report([_account("ACME-001", "Northwind", 85)], path)).location
    ).parent
    html = (folder / "accounts" / "ACME-001.html").read_text(encoding="utf-8")
    timeline = html[html.index("Digital path") :]

    order = ["Visit 1", "/blog/last-mile-costs", "/product/route-optimizer", "Visit 2", "/pricing", "/request-demo"]
    positions = [timeline.index(text) for text in order]
    assert positions == sorted(positions)
    assert "2026-11-03 09:00" in timeline and "14:05:00" in timeline and "https://www.google.com/" in timeline


def test_redelivering_a_window_removes_pages_of_accounts_no_longer_in_it(tmp_path: Path) -> None:
    sink = FileReportSink(tmp_path)
    sink.deliver(_report(TWO_ACCOUNTS))
    result = sink.deliver(_report([_account("ACME-001", "Northwind", 85)]))

    folder = Path(result.location).parent
    assert [p.name for p in (folder / "accounts").iterdir()] == ["ACME-001.html"]
    assert "ACME-002" not in (folder / "index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name, "index.html"]


def test_csv_cells_a_spreadsheet_would_evaluate_are_written_as_text(tmp_path: Path) -> None:
    path = [_page("ACME-001", "2026-11-03 09:00", "v1", "/pricing", referrer='=HYPERLINK("http://x.example","hi")')]
    FileReportSink(tmp_path).deliver(_report([_account("ACME-001", "Northwind", 85)], path))

    header, row = _read_csv(tmp_path / "2026-11-02_2026-11-15" / "digital_path.csv")
    assert row[header.index("referrer")] == '\'=HYPERLINK("http://x.example","hi")'
    assert row[header.index("url")] == "/pricing"


def test_summary_lists_the_50_most_visited_untagged_pages_and_the_csv_all(tmp_path: Path) -> None:
    untagged = pd.DataFrame({"url": [f"/page-{n}" for n in range(60)], "hits": list(range(60))})
    folder = Path(FileReportSink(tmp_path).deliver(_report(TWO_ACCOUNTS, untagged=untagged)).location).parent

    html = (folder / "index.html").read_text(encoding="utf-8")
    assert "/page-59<" in html and "/page-10<" in html and "/page-9<" not in html
    assert len(_read_csv(folder / "untagged_pages.csv")) == 1 + 60


def test_a_window_without_account_activity_still_gets_a_summary(tmp_path: Path) -> None:
    result = FileReportSink(tmp_path).deliver(_report([]))

    assert result.delivered == 0
    html = Path(result.location).read_text(encoding="utf-8")
    assert "No target account visited" in html and "Wayne Enterprises" in html


NORTHWIND_PATH = [
    _page("ACME-001", "2026-11-03 09:00", "v1", "/blog/last-mile-costs", topics="last-mile", stage="awareness"),
    _page("ACME-001", "2026-11-03 09:05", "v1", "/careers", topics="", stage=None, excluded=True),
    _page(
        "ACME-001",
        "2026-11-10 14:00",
        "v2",
        "/product/route-optimizer",
        topics="route-optimization",
        stage="consideration",
    ),
    _page("ACME-001", "2026-11-10 14:05", "v2", "/pricing", topics="pricing;route-optimization"),
    _page("ACME-001", "2026-11-10 17:00", "v3", "/pricing"),
    _page("ACME-001", "2026-11-12 08:00", "v4", "/careers", topics="", stage="decision", excluded=True),
]


def test_pages_per_day_are_counted_by_stage_over_the_whole_window() -> None:
    pageviews = pageviews_by_day_and_stage(pd.DataFrame(NORTHWIND_PATH), START, END)

    assert list(pageviews.index) == list(pd.date_range(START, END).date)
    assert list(pageviews.columns) == ["awareness", "consideration", "decision", "no stage"]
    assert pageviews.loc[date(2026, 11, 3)].to_list() == [1, 0, 0, 1]
    assert pageviews.loc[date(2026, 11, 10)].to_list() == [0, 1, 2, 0]
    # A page excluded from intent has no stage, whatever its tags say.
    assert pageviews.loc[date(2026, 11, 12)].to_list() == [0, 0, 0, 1]
    assert pageviews.to_numpy().sum() == len(NORTHWIND_PATH)


def test_account_page_charts_pages_per_day_by_stage_and_per_topic(tmp_path: Path) -> None:
    path = [page for page in NORTHWIND_PATH if page["stage"] != "consideration"]
    folder = _deliver(tmp_path, _report([_account("ACME-001", "Northwind", 85)], path))
    page = _open(folder / "accounts" / "ACME-001.html")

    daily = page.by_id("daily-chart")
    assert daily.find_all("title")[0].text == "Pages viewed per day by funnel stage"
    legend_and_axes = [text.text for text in daily.find_all("text")]
    assert {"awareness", "decision", "no stage", "2 Nov", "14 Nov", "pages"} <= set(legend_and_axes)
    assert "consideration" not in legend_and_axes  # no page of that stage was read
    topics = [text.text for text in page.by_id("topics-chart").find_all("text")]
    assert topics == ["pricing", "2", "last-mile", "1", "route-optimization", "1"]  # ties by name


def test_charts_are_inline_titled_svg_and_the_same_bytes_on_every_delivery(tmp_path: Path) -> None:
    report = _report([_account("ACME-001", "Northwind", 85)], NORTHWIND_PATH, expected={"*": (0.3, 0.8)})
    first, second = _deliver(tmp_path / "first", report), _deliver(tmp_path / "second", report)

    for name in ("index.html", "accounts/ACME-001.html"):
        html = (first / name).read_text(encoding="utf-8")
        assert html == (second / name).read_text(encoding="utf-8"), name
        assert "<?xml" not in html and "<!DOCTYPE svg" not in html, name
        charts = _open(first / name).find_all("svg")
        assert len(charts) == 2, name
        assert all(
            chart.attrs["role"] == "img" and chart.attrs["aria-label"] == chart.find_all("title")[0].text
            for chart in charts
        ), name
        ids = Counter(re.findall(r'\sid="([^"]+)"', html))
        assert [element_id for element_id, count in ids.items() if count > 1] == [], name


def test_summary_ranking_shows_level_mqa_surging_score_change_and_movement(tmp_path: Path) -> None:
    accounts = [
        _scored(
            _account("ACME-001", "Northwind", 85),
            level="hot",
            mqa=True,
            surge=82.0,
            surging=True,
            previous_score=60.0,
            score_change=25.0,
            previous_stage="consideration",
            movement="stage_advanced",
        ),
        _scored(
            _account("ACME-002", "Contoso", 40),
            level="cold",
            previous_score=49.4,
            score_change=-9.4,
            movement="stage_receded",
        ),
        _scored(_account("ACME-003", "Fabrikam", 20)),
    ]
    ranking = _rows(_open(_deliver(tmp_path, _report(accounts)) / "index.html").by_id("accounts"))

    assert ranking[0].startswith("# Account Intent score Furthest stage Movement Visits")
    assert ranking[1].startswith("1 Northwind hot MQA surging 85 ▲ 25 decision stage advanced 2 5")
    assert ranking[2].startswith("2 Contoso cold 40 ▼ 9 decision stage receded")
    assert ranking[3].startswith("3 Fabrikam warm 20 decision new")


def test_summary_without_the_score_story_shows_no_empty_columns_or_movers(tmp_path: Path) -> None:
    page = _open(_deliver(tmp_path, _report(TWO_ACCOUNTS)) / "index.html")

    assert _rows(page.by_id("accounts"))[0] == (
        "# Account Intent score Furthest stage Visits Pages Top topics Last seen Owner"
    )
    assert "Movers" not in page.text and "Content that reached" not in page.text


def test_movers_lead_with_stage_advances_and_include_accounts_gone_quiet(tmp_path: Path) -> None:
    def movement(
        account_id: str, movement: str, previous: float | None, score: float, **stages: str
    ) -> dict[str, object]:
        change = None if previous is None else score - previous
        return {
            "account_id": account_id,
            "name": f"Company {account_id}",
            "movement": movement,
            "previous_stage": stages.get("was"),
            "furthest_stage": stages.get("now"),
            "previous_score": previous,
            "intent_score": score,
            "score_change": change,
        }

    movements = pd.DataFrame(
        [
            movement("A-1", "steady", 50.0, 52.0, was="decision", now="decision"),
            movement("A-2", "gone_quiet", 58.0, 0.0, was="decision"),
            movement("A-3", "new", None, 41.0, now="consideration"),
            movement("A-4", "stage_advanced", 30.0, 40.0, was="awareness", now="consideration"),
            movement("A-5", "stage_advanced", 20.0, 70.0, was="awareness", now="decision"),
        ]
    )
    accounts = [_account(account_id, f"Company {account_id}", 50) for account_id in ("A-1", "A-3", "A-4", "A-5")]
    page = _open(_deliver(tmp_path, _report(accounts, movements=movements)) / "index.html")

    assert _rows(page.by_id("movers"))[1:] == [
        "Company A-5 stage advanced awareness → decision 20 → 70 ▲ 50",
        "Company A-4 stage advanced awareness → consideration 30 → 40 ▲ 10",
        "Company A-3 new consideration 41",
        "Company A-2 gone quiet decision → no visits 58 → 0 ▼ 58",
    ]
    links = {link.text: link.attrs["href"] for link in page.by_id("movers").find_all("a")}
    assert links == {
        "Company A-5": "accounts/A-5.html",
        "Company A-4": "accounts/A-4.html",
        "Company A-3": "accounts/A-3.html",
    }


def test_countries_outside_their_expected_band_are_flagged_and_charted(tmp_path: Path) -> None:
    countries = pd.DataFrame(
        {
            "country": ["ALL", "RU", "DE", "NL", "??"],
            "visits": [1000, 500, 300, 150, 50],
            "identified_visits": [290, 75, 60, 140, 0],
            "rate": [0.29, 0.15, 0.2, 0.9333, 0.0],
        }
    )
    report = _report(TWO_ACCOUNTS, summary=_summary(countries=countries), expected={"RU": (0.1, 0.2), "*": (0.3, 0.8)})
    section = _open(_deliver(tmp_path, report) / "index.html").by_id("identification")

    assert _rows(section)[1:] == [
        "All countries 1,000 290 29.0%",
        "RU 500 75 15.0% 10–20% as expected",
        "DE 300 60 20.0% 30–80% below expected",
        "NL 150 140 93.3% 30–80% above expected",
        "Unknown 50 0 0.0%",
    ]
    chart = section.by_id("identification-chart")
    labels = [text.text for text in chart.find_all("text")]
    assert [label for label in labels if "visits" in label] == [
        "RU · 500 visits",
        "DE · 300 visits",
        "NL · 150 visits",
        "Unknown · 50 visits",
    ]
    assert {"expected band", "inside its band", "outside its band"} <= set(labels)
    fills = Counter(path.attrs.get("style") for path in chart.find_all("path"))
    assert fills[f"fill: {OUTSIDE_BAND_COLOUR}"] == 2  # DE's and NL's bars (the legend's swatch also has a stroke)


def test_summary_charts_the_identification_funnel(tmp_path: Path) -> None:
    funnel = _open(_deliver(tmp_path, _report(TWO_ACCOUNTS)) / "index.html").by_id("funnel-chart")

    assert [text.text for text in funnel.find_all("text")] == [
        "All parsed hits",
        "1,000 hits · 100.0%",
        "Clean (no bots, assets or own office)",
        "600 hits · 60.0%",
        "Known to MaxMind",
        "580 hits · 58.0%",
        "From a company network",
        "120 hits · 12.0%",
        "From a target account",
        "40 hits · 4.0%",
    ]


def test_content_performance_shows_the_content_that_reached_most_accounts(tmp_path: Path) -> None:
    pages = pd.DataFrame(
        {  # most accounts reached first, as content_performance sorts them
            "path": [f"/blog/post-{n}" for n in range(25)],
            "topics": "last-mile",
            "stage": "awareness",
            "accounts_reached": [25 - n for n in range(25)],
            "pageviews": 30,
            "accounts_advanced": [n % 2 for n in range(25)],
        }
    )
    content = ContentPerformance(
        pages=pages,
        topics=pd.DataFrame(
            {
                "topic": ["last-mile", "pricing"],
                "accounts_reached": [4, 2],
                "pageviews": [5, 9],
                "accounts_advanced": [0, 2],
            }
        ),
        referrers=pd.DataFrame({"referrer_host": ["linkedin.com"], "accounts_reached": [3], "pageviews": [6]}),
        campaigns=pd.DataFrame(
            {
                "utm_source": ["linkedin"],
                "utm_medium": ["paid-social"],
                "utm_campaign": ["q4-pricing"],
                "accounts_reached": [2],
                "pageviews": [4],
                "accounts_advanced": [1],
            }
        ),
    )
    section = _open(_deliver(tmp_path, _report(TWO_ACCOUNTS, content=content)) / "index.html").by_id("content")

    pages_table, topics_table, referrers_table, campaigns_table = section.find_all("table")
    assert f"Pages: the {CONTENT_ROWS_SHOWN} of 25 that reached most accounts" in section.text
    assert _rows(pages_table)[0] == "Page Topics Stage Accounts reached Advanced Pages viewed"
    assert _rows(pages_table)[1:] == [
        f"/blog/post-{n} last-mile awareness {25 - n} {n % 2} 30" for n in range(CONTENT_ROWS_SHOWN)
    ]
    assert _rows(topics_table)[1:] == ["last-mile 4 0 5", "pricing 2 2 9"]
    assert _rows(referrers_table)[1:] == ["linkedin.com 3 6"]
    assert _rows(campaigns_table)[1:] == ["linkedin paid-social q4-pricing 2 1 4"]


def test_account_page_explains_the_score_and_compares_with_the_previous_window(tmp_path: Path) -> None:
    account = _scored(
        _account("ACME-001", "Northwind", 85),
        level="hot",
        mqa=True,
        surge=82.0,
        surging=True,
        previous_score=60.0,
        score_change=25.0,
        previous_stage="consideration",
        movement="stage_advanced",
        explanation="Read pricing twice and asked for a demo.",
        top_contributions="/pricing (12.0); /request-demo (9.5)",
    )
    page = _open(_deliver(tmp_path, _report([account], NORTHWIND_PATH)) / "accounts" / "ACME-001.html")

    assert page.find_all("h1")[0].text == "Northwind hot MQA"
    figures = page.find_all("dl")[0].text
    assert "Intent score 85 ▲ 25" in figures and "Surge (50 = its usual) 82 surging" in figures
    why = page.by_id("why")
    assert "Read pricing twice and asked for a demo." in why.text
    assert [item.text for item in why.find_all("li")] == ["/pricing (12.0)", "/request-demo (9.5)"]
    assert _rows(page.by_id("previous")) == [
        "Movement stage advanced",
        "Intent score 60 → 85 ▲ 25",
        "Furthest stage consideration → decision",
    ]


def test_untrusted_topics_are_escaped_in_charts_and_never_read_as_formulas(tmp_path: Path) -> None:
    hostile_topic = "<img src=x onerror=alert(1)> $\\frac{1$"
    path = [_page("ACME-001", "2026-11-03 09:00", "v1", "/pricing", topics=hostile_topic)]
    folder = _deliver(tmp_path, _report([_account("ACME-001", "Northwind", 85)], path))
    html = (folder / "accounts" / "ACME-001.html").read_text(encoding="utf-8")

    assert "<img" not in html
    topics = [text.text for text in parse_dom(html).by_id("topics-chart").find_all("text")]
    assert topics == [hostile_topic, "1"]


# --- deliveries that overlap or die -------------------------------------------------------


def test_two_runs_delivering_one_window_at_once_both_succeed_and_leave_one_whole_report(tmp_path: Path) -> None:
    """Two runs used to share the staging folder `.<window>.partial`: one of them failed."""
    reports = [_report([_account("ACME-001", "Northwind", 85)]), _report(TWO_ACCOUNTS)]
    sink = FileReportSink(tmp_path)
    # Deliver in lockstep: each run writes its copy while the other one does.
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(sink.deliver, reports))

    [folder] = [path for path in tmp_path.iterdir() if path.is_dir()]  # one window folder, no copy left beside it
    pages = sorted(page.name for page in (folder / "accounts").iterdir())
    assert pages in (["ACME-001.html"], ["ACME-001.html", "ACME-002.html"])  # one delivery, whole
    assert len(_read_csv(folder / "accounts.csv")) == len(pages) + 1
    assert {result.location for result in results} == {str(folder / "index.html")}


def test_a_copy_left_by_a_killed_delivery_is_removed_by_the_next(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    folder = _deliver(tmp_path, _report(TWO_ACCOUNTS))
    abandoned = tmp_path / f".{folder.name}.partial-{dead.stdout.strip()}-0123abcd"
    (abandoned / "accounts").mkdir(parents=True)  # killed mid-write
    (tmp_path / f".index.html.{dead.stdout.strip()}-0123abcd").write_text("<html>half a page")  # killed mid-write
    being_written = tmp_path / f".index.html.{os.getpid()}-4567cdef"  # a live process's, left alone
    being_written.write_text("<html>")

    _deliver(tmp_path, _report(TWO_ACCOUNTS))

    assert sorted(path.name for path in tmp_path.iterdir()) == [being_written.name, folder.name, "index.html"]


def test_the_windows_index_lists_every_window_newest_first_and_each_summary_links_it(tmp_path: Path) -> None:
    sink = FileReportSink(tmp_path)
    earlier = dataclasses.replace(
        _report([_account("A-1", "Early Co", 30)]), window_start=date(2026, 10, 19), window_end=date(2026, 11, 1)
    )
    sink.deliver(earlier)
    sink.deliver(_report(TWO_ACCOUNTS))

    index = _open(tmp_path / "index.html")
    rows = _rows(index.by_id("windows"))[1:]
    assert [row.split()[0:3] for row in rows] == [
        ["2026-11-02", "to", "2026-11-15"],
        ["2026-10-19", "to", "2026-11-01"],
    ]
    assert "Northwind" in rows[0] and "85" in rows[0]
    assert [link.attrs["href"] for link in index.find_all("a")] == [
        "2026-11-02_2026-11-15/index.html",
        "2026-10-19_2026-11-01/index.html",
    ]
    summary = _open(tmp_path / "2026-10-19_2026-11-01" / "index.html")
    assert "../index.html" in [link.attrs["href"] for link in summary.find_all("a")]


def test_each_account_shows_its_score_over_the_last_windows_in_its_page_and_the_csv(tmp_path: Path) -> None:
    ends = [date(2026, 10, 4), date(2026, 10, 18), date(2026, 11, 1), END]
    history = pd.DataFrame(
        {
            "account_id": ["ACME-001"] * 4 + ["ACME-002"] * 4,
            "window_end": ends * 2,
            "intent_score": [0.0, 12.4, 40.0, 85.0, 30.0, 30.0, 0.0, 40.0],
        }
    )
    folder = _deliver(tmp_path, dataclasses.replace(_report(TWO_ACCOUNTS), score_history=history))

    header, *rows = _read_csv(folder / "accounts.csv")
    series = {row[0]: row[header.index("score_history")] for row in rows}
    assert series == {"ACME-001": "0;12;40;85", "ACME-002": "30;30;0;40"}
    page = _open(folder / "accounts" / "ACME-001.html").by_id("history")
    chart = page.find_all("svg")[0].text
    assert "Intent score over the last report windows" in chart and "18 Oct" in chart and "15 Nov" in chart


def test_csv_times_are_iso_8601_utc_and_rates_are_rounded(tmp_path: Path) -> None:
    countries = pd.DataFrame(
        {"country": ["ALL", "US"], "visits": [3, 3], "identified_visits": [1, 1], "rate": [1 / 3] * 2}
    )
    folder = _deliver(tmp_path, _report(TWO_ACCOUNTS, summary=_summary(countries=countries)))

    header, *rows = _read_csv(folder / "accounts.csv")
    assert {row[header.index("last_seen")] for row in rows} == {"2026-11-12T16:30:00Z"}
    header, *rows = _read_csv(folder / "identification_by_country.csv")
    assert [row[header.index("rate")] for row in rows] == ["0.3333", "0.3333"]


def test_account_pages_and_the_summary_show_trigger_events_and_surging_topics(tmp_path: Path) -> None:
    signals = pd.DataFrame(
        [
            [
                "ACME-001",
                "event",
                date(2026, 11, 10),
                "funding",
                "Series C <raised>",
                "https://news.example/c",
                None,
                None,
            ],
            ["ACME-001", "surge", date(2026, 11, 9), None, None, None, "Route Optimization", 82.0],
            ["ACME-001", "surge", date(2026, 11, 9), None, None, None, "Fleet Management", 55.0],
        ],
        columns=SIGNAL_COLUMNS,
    )
    northwind = {**_account("ACME-001", "Northwind", 85), "trigger_events": 1, "signal_score": 52.0}
    northwind["surge_topics"] = "Route Optimization 82"
    contoso = {**_account("ACME-002", "Contoso", 40), "trigger_events": 0, "surge_topics": "", "signal_score": 0.0}
    report = dataclasses.replace(_report([northwind, contoso]), signals=signals)

    folder = _deliver(tmp_path, report)

    page = _open(folder / "accounts" / "ACME-001.html").by_id("signals")
    assert _rows(page) == [
        "Date Type Event",
        "2026-11-10 funding Series C <raised>",
        "Topic Score Week of",
        "Route Optimization surging 82 2026-11-09",
        "Fleet Management 55 2026-11-09",
    ]
    assert 'href="https://news.example/c"' in (folder / "accounts" / "ACME-001.html").read_text(encoding="utf-8")
    assert (
        "No trigger events or Company Surge topics"
        in _open(folder / "accounts" / "ACME-002.html").by_id("signals").text
    )
    accounts = _rows(_open(folder / "index.html").by_id("accounts"))
    assert "Signals" in accounts[0] and "1 event · Route Optimization 82" in accounts[1]
    rows = _read_csv(folder / "accounts.csv")
    assert rows[1][-3:] == ["1", "Route Optimization 82", "52.0"]
