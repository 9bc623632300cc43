"""The file sink: a folder per window with a summary page, account pages and CSVs."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd

from connectors.sinks.base import WindowReport
from connectors.sinks.files import ACCOUNTS_CSV_COLUMNS, FileReportSink
from enrichment.summary import WindowSummary

START, END = date(2026, 11, 2), date(2026, 11, 15)
HOSTILE_NAME = 'Evil <script>alert("name")</script> Corp'
HOSTILE_URL = '/pricing?q="><img src=x onerror=alert(1)>'


def _account(account_id: str, name: str, intent_score: int, *, pageviews: int = 5) -> dict[str, object]:
    return {
        "account_id": account_id, "name": name, "crm_id": None, "owner": "EMEA team",
        "matched_by": "domain", "organizations": name, "countries": "US",
        "visits": 2, "pageviews": pageviews, "visitors": 1,
        "first_seen": pd.Timestamp("2026-11-03 09:00", tz="UTC"),
        "last_seen": pd.Timestamp("2026-11-12 16:30", tz="UTC"),
        "furthest_stage": "decision", "top_topics": "pricing (3); integrations (2)",
        "top_pages": "/pricing (3); /integrations/sap (2)", "intent_score": intent_score,
        "window_start": START, "window_end": END,
    }


def _page(account_id: str, timestamp: str, visit_id: str, url: str, referrer: str = "-") -> dict[str, object]:
    return {
        "account_id": account_id, "timestamp": pd.Timestamp(timestamp, tz="UTC"), "visit_id": visit_id,
        "url": url, "topics": "pricing", "stage": "decision", "content_type": "pricing",
        "excluded_from_intent": False, "referrer": referrer,
    }


def _summary(prospect: str = "Wayne Enterprises") -> WindowSummary:
    return WindowSummary(
        funnel=pd.DataFrame({
            "step": ["hits", "clean", "resolved", "company", "target_account"],
            "hits": [1000, 600, 580, 120, 40], "visits": [300, 200, 190, 30, 8],
        }),
        identification_by_country=pd.DataFrame({
            "country": ["ALL", "US"], "visits": [200, 120], "identified_visits": [30, 20], "rate": [0.15, 0.1667],
        }),
        drop_reasons=pd.DataFrame({"reason": ["bot", "static_asset"], "hits": [300, 100]}),
        classifications=pd.DataFrame({"classification": ["company", "isp"], "ips": [12, 80], "hits": [120, 400]}),
        prospects=pd.DataFrame([{
            "organization": prospect, "domain": "wayne.example", "country": "US", "visits": 3,
            "pageviews": 7, "top_topics": "route-optimization (4)", "last_seen": pd.Timestamp("2026-11-10", tz="UTC"),
        }]),
    )


def _report(
    accounts: list[dict[str, object]],
    path: list[dict[str, object]] | None = None,
    *,
    untagged: pd.DataFrame | None = None,
    summary: WindowSummary | None = None,
) -> WindowReport:
    return WindowReport(
        window_start=START,
        window_end=END,
        accounts=pd.DataFrame(accounts, columns=list(_account("x", "x", 0))),
        path=pd.DataFrame(path or [], columns=list(_page("x", "2026-11-02", "v", "/"))),
        summary=summary or _summary(),
        untagged_pages=untagged if untagged is not None else pd.DataFrame({"url": ["/about"], "hits": [4]}),
    )


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
    for name in ("index.html", "accounts.csv", "digital_path.csv", "prospects.csv",
                 "identification_by_country.csv", "drop_reasons.csv", "untagged_pages.csv"):
        assert (folder / name).is_file(), name


def test_accounts_csv_has_the_documented_columns_highest_score_first(tmp_path: Path) -> None:
    FileReportSink(tmp_path).deliver(_report(TWO_ACCOUNTS))

    header, *rows = _read_csv(tmp_path / "2026-11-02_2026-11-15" / "accounts.csv")
    assert header == ACCOUNTS_CSV_COLUMNS == [
        "account_id", "name", "visits", "pageviews", "visitors", "first_seen", "last_seen",
        "furthest_stage", "top_topics", "intent_score", "matched_by",
    ]
    assert [(row[0], row[1], row[9]) for row in rows] == [("ACME-001", "Northwind", "85"), ("ACME-002", "Contoso", "40")]


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
    folder = Path(FileReportSink(tmp_path).deliver(_report([_account("ACME-001", "Northwind", 85)], path)).location).parent
    html = (folder / "accounts" / "ACME-001.html").read_text(encoding="utf-8")
    timeline = html[html.index("Digital path"):]

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
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]


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
