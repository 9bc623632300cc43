"""The file sink, the embedded default: one folder of HTML pages and CSV files per report window.

    <directory>/index.html           every window, newest first (rewritten at each delivery)
    <directory>/<window_start>_<window_end>/
        index.html                   the summary: accounts ranked by intent score with their movement
                                     since the previous window, the identification funnel and rate by
                                     country, prospects, content performance, untagged pages
        accounts/<account_id>.html   one page per account: its score and why, its score over the last
                                     windows, pages per day by stage, topics, its digital path visit by visit
        accounts.csv  digital_path.csv  prospects.csv  suggested_accounts.csv (prospects that showed
        intent, in config/target_accounts.csv's columns, ready to paste)
        identification_by_country.csv  drop_reasons.csv  untagged_pages.csv

Organisation names, URLs and referrers come from logs and MaxMind records, so they are
untrusted: HTML is rendered with autoescaping, and CSV cells a spreadsheet would run as a
formula are written as text. Charts are inline SVG (see ``charts``): the pages need no
script and nothing from elsewhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from connectors.processes import process_alive
from connectors.sinks.base import SinkResult, WindowReport
from connectors.sinks.charts import (
    STAGE_COLOURS,
    daily_stages_chart,
    funnel_chart,
    identification_chart,
    score_history_chart,
    topics_chart,
)
from enrichment.content import ContentPerformance
from enrichment.quality import (
    ABOVE,
    ALL_COUNTRIES,
    BELOW,
    OUTSIDE,
    TOO_FEW_VISITS,
    WITHIN,
    judge_countries,
)
from enrichment.signals import ACCOUNT_SIGNAL_COLUMNS, SIGNAL_COLUMNS, SURGING_SCORE
from enrichment.summary import UNKNOWN_COUNTRY, suggested_accounts
from enrichment.trend import HISTORY_COLUMNS, history_text

ACCOUNTS_CSV_COLUMNS = [
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
    *ACCOUNT_SIGNAL_COLUMNS,
]
PATH_CSV_COLUMNS = [
    "account_id",
    "timestamp",
    "visit_id",
    "url",
    "topics",
    "stage",
    "content_type",
    "excluded_from_intent",
    "referrer",
]
UNTAGGED_PAGES_SHOWN = 50
RATE_DIGITS = 4  # a rate of 0..1 to a hundredth of a percent
CONTENT_ROWS_SHOWN = 20
# The score's story, from scoring and the comparison with the previous window: optional, so
# that reports built without them still render.
SCORE_STORY_COLUMNS = [
    "surge",
    "surging",
    "level",
    "mqa",
    "previous_score",
    "score_change",
    "previous_stage",
    "movement",
    "explanation",
    "top_contributions",
    *ACCOUNT_SIGNAL_COLUMNS,
]
# Most worth a salesperson's attention first: the order of the movers table.
MOVEMENT_LABELS = {
    "stage_advanced": "stage advanced",
    "new": "new",
    "returning": "returning",
    "stage_receded": "stage receded",
    "score_rose": "score rose",
    "score_fell": "score fell",
    "gone_quiet": "gone quiet",
    "steady": "steady",
}
STATUS_TEXT = {
    BELOW: "below expected",
    ABOVE: "above expected",
    WITHIN: "as expected",
    TOO_FEW_VISITS: "too few visits to judge",
}

FUNNEL_LABELS = {
    "hits": "All parsed hits",
    "clean": "Clean (no bots, assets or own office)",
    "resolved": "Known to MaxMind",
    "company": "From a company network",
    "target_account": "From a target account",
}

_WINDOW_FOLDER = re.compile(r"(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})")
_SAFE_PAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
# A spreadsheet evaluates a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _when(value: Any, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else pd.Timestamp(value).strftime(pattern)


def _number(value: Any) -> str:
    return "" if value is None else f"{round(value):,}"


def _percent(value: Any) -> str:
    return "" if value is None else f"{value:.1%}"


_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    # Always on: select_autoescape() goes by extension and would leave "*.html.j2" unescaped.
    autoescape=True,
    undefined=StrictUndefined,
    # Missing values reach the templates as None; print them as blanks, not "None".
    finalize=lambda value: "" if value is None else value,
    trim_blocks=True,
    lstrip_blocks=True,
)
_TEMPLATES.filters.update(when=_when, number=_number, percent=_percent)
_TEMPLATES.globals.update(movement_labels=MOVEMENT_LABELS, stage_colours=STAGE_COLOURS)


class FileReportSink:
    """Writes each window's report as HTML and CSV into ``<directory>/<window_start>_<window_end>/``."""

    name = "files"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def deliver(self, report: WindowReport) -> SinkResult:
        """Write the window's folder, replacing an earlier delivery of the same window entirely."""
        if report.summary is None or report.untagged_pages is None:
            raise ValueError("the file sink writes the window summary: give the report its summary and untagged pages")
        folder = self.directory / f"{report.window_start.isoformat()}_{report.window_end.isoformat()}"
        # Each delivery builds its own copy beside the old report and swaps it in: a failed
        # delivery keeps the previous report, a new one never keeps account pages the old one
        # had, and two runs delivering one window never write into the same folder.
        _remove_abandoned_copies(folder)
        staging = folder.with_name(f".{folder.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            account_pages = _write_report(report, staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _swap_in(staging, folder)
        write_windows_index(self.directory)
        return SinkResult(
            sink=self.name,
            location=str(folder / "index.html"),
            delivered=account_pages,
            details={
                "account_pages": account_pages,
                "path_rows": len(report.path),
                "prospects": len(report.summary.prospects),
                "untagged_pages": len(report.untagged_pages),
            },
        )


def _swap_in(staging: Path, folder: Path) -> None:
    """Put ``staging`` in place of ``folder``; the last of concurrent deliveries wins, whole."""
    while True:
        retired = folder.with_name(f".{folder.name}.old-{uuid.uuid4().hex[:8]}")
        with contextlib.suppress(FileNotFoundError):
            folder.rename(retired)
        try:
            staging.rename(folder)
        except OSError:  # another delivery swapped its copy in meanwhile: retire that one too
            continue
        finally:
            shutil.rmtree(retired, ignore_errors=True)
        return


def _remove_abandoned_copies(folder: Path) -> None:
    """Remove copies of ``folder`` left by deliveries whose process died (killed mid-write, or mid-swap)."""
    for copy in folder.parent.glob(f".{folder.name}.*"):
        kind, _, owner = copy.name.removeprefix(f".{folder.name}.").partition("-")
        if kind == "old" or (kind == "partial" and not process_alive(int(owner.split("-")[0]))):
            shutil.rmtree(copy, ignore_errors=True)


def write_windows_index(directory: Path) -> Path:
    """Write ``<directory>/index.html``: every report window in ``directory``, newest first, linked."""
    windows = []
    for folder in directory.iterdir():
        dates = _WINDOW_FOLDER.fullmatch(folder.name)
        if dates is None or not folder.is_dir():
            continue
        accounts = pd.read_csv(folder / "accounts.csv", encoding="utf-8-sig", usecols=["name", "intent_score"])
        top = accounts.iloc[0] if len(accounts) else None  # accounts.csv is ranked, highest intent first
        windows.append(
            {
                "folder": folder.name,
                "start": dates[1],
                "end": dates[2],
                "accounts": len(accounts),
                "top_account": None if top is None else str(top["name"]).removeprefix("'"),
                "top_score": None if top is None else top["intent_score"],
            }
        )
    windows.sort(key=lambda window: (window["end"], window["start"]), reverse=True)
    target = directory / "index.html"
    # Written aside and renamed: a reader (or a concurrent delivery) never sees half a page.
    staging = target.with_name(f".index.html.{os.getpid()}-{uuid.uuid4().hex[:8]}")
    _render(staging, "windows.html.j2", windows=windows)
    staging.replace(target)
    return target


def account_page_name(account_id: str) -> str:
    """The file name (without ``.html``) of an account's page.

    The id itself when it is safe as a file name; otherwise its safe characters plus a
    short hash of the id, so that two unsafe ids never share a page.
    """
    if _SAFE_PAGE_NAME.fullmatch(account_id):
        return account_id
    cleaned = _UNSAFE_CHARACTERS.sub("_", account_id).strip("._-")[:60]
    digest = hashlib.sha256(account_id.encode("utf-8")).hexdigest()[:12]
    return f"{cleaned}-{digest}" if cleaned else digest


def _write_report(report: WindowReport, folder: Path) -> int:
    """Write every file of the report into ``folder``; returns the number of account pages."""
    history = report.score_history if report.score_history is not None else pd.DataFrame(columns=HISTORY_COLUMNS)
    accounts = _ranked(_with_score_story(report.accounts))
    accounts["score_history"] = accounts["account_id"].map(history_text(history))
    untagged = report.untagged_pages.sort_values("hits", ascending=False, kind="stable")
    summary = report.summary
    (folder / "accounts").mkdir(parents=True)

    _write_csv(accounts[ACCOUNTS_CSV_COLUMNS], folder / "accounts.csv")
    path = report.path.sort_values(["account_id", "timestamp"], kind="stable")
    _write_csv(path[PATH_CSV_COLUMNS], folder / "digital_path.csv")
    _write_csv(summary.prospects, folder / "prospects.csv")
    _write_csv(suggested_accounts(summary.prospects), folder / "suggested_accounts.csv")
    _write_csv(summary.identification_by_country, folder / "identification_by_country.csv")
    _write_csv(summary.drop_reasons, folder / "drop_reasons.csv")
    _write_csv(untagged, folder / "untagged_pages.csv")

    window = {"window_start": report.window_start, "window_end": report.window_end}
    ranked = [{**account, "page": account_page_name(str(account["account_id"]))} for account in _records(accounts)]
    _render(folder / "index.html", "summary.html.j2", **window, **_summary_context(report, ranked, untagged))
    paths = dict(tuple(path.groupby("account_id", sort=False)))
    histories = dict(tuple(history.groupby("account_id", sort=False)))
    signals = report.signals if report.signals is not None else pd.DataFrame(columns=SIGNAL_COLUMNS)
    signals_by_account = dict(tuple(signals.groupby("account_id", sort=False)))
    for account in ranked:
        context = _account_context(account, paths.get(account["account_id"], path.head(0)), report)
        # Without signals in the window, pages show no empty Signals section.
        context["signals"] = (
            _signals(signals_by_account.get(account["account_id"], signals.head(0))) if len(signals) else None
        )
        context["history_chart"] = score_history_chart(histories.get(account["account_id"], history.head(0)))
        _render(folder / "accounts" / f"{account['page']}.html", "account.html.j2", **window, **context)
    return len(ranked)


def _with_score_story(accounts: pd.DataFrame) -> pd.DataFrame:
    """``accounts`` with every ``SCORE_STORY_COLUMNS`` column, empty where the report has none."""
    missing = [column for column in SCORE_STORY_COLUMNS if column not in accounts.columns]
    return accounts.assign(**dict.fromkeys(missing, None))


def _ranked(accounts: pd.DataFrame) -> pd.DataFrame:
    """Highest intent first; among equal scores, the account that read more."""
    return accounts.sort_values(["intent_score", "pageviews"], ascending=False, kind="stable")


def _summary_context(report: WindowReport, accounts: list[dict[str, Any]], untagged: pd.DataFrame) -> dict[str, Any]:
    summary = report.summary
    funnel = _funnel_steps(summary.funnel)
    countries = _with_expected_bands(
        summary.identification_by_country, report.expected_identification, report.min_visits_per_country
    )
    pages = {account["account_id"]: account["page"] for account in accounts}
    return {
        "accounts": accounts,
        # Without a previous window to compare with, the ranking has no movement column.
        "compared": any(account["movement"] is not None for account in accounts),
        "with_signals": report.signals is not None and len(report.signals) > 0,
        "movers": None if report.movements is None else _movers(report.movements, pages),
        "countries": _records(countries),
        "bands": bool(report.expected_identification),
        "identification_chart": identification_chart(countries[countries["country"] != ALL_COUNTRIES]),
        "funnel": funnel,
        "funnel_chart": funnel_chart([(step["label"], step["hits"], step["share"]) for step in funnel]),
        "drop_reasons": _records(summary.drop_reasons),
        "classifications": _records(summary.classifications),
        "prospects": _records(summary.prospects),
        "content": None if report.content_performance is None else _content_tables(report.content_performance),
        "untagged_pages": _records(untagged.head(UNTAGGED_PAGES_SHOWN)),
        "untagged_total": len(untagged),
    }


def _funnel_steps(funnel: pd.DataFrame) -> list[dict[str, Any]]:
    """The funnel's rows, each with a readable ``label`` and its ``share`` of all hits."""
    steps = _records(funnel)
    all_hits = steps[0]["hits"] if steps else 0
    for step in steps:
        step["label"] = FUNNEL_LABELS.get(step["step"], step["step"])
        step["share"] = step["hits"] / all_hits if all_hits else None
    return steps


def _with_expected_bands(
    countries: pd.DataFrame, expected: Mapping[str, tuple[float, float]], min_visits: int
) -> pd.DataFrame:
    """``countries`` judged by ``judge_countries`` (``expected_low, expected_high, status``), with a
    readable ``label``, the ``status`` in words and ``outside`` (below or above the band)."""
    judged = judge_countries(countries, expected, min_visits)
    labels = {ALL_COUNTRIES: "All countries", UNKNOWN_COUNTRY: "Unknown"}
    return judged.assign(
        label=judged["country"].map(lambda country: labels.get(country, country)),
        status=judged["status"].map(STATUS_TEXT),
        outside=judged["status"].isin(OUTSIDE),
    )


def _movers(movements: pd.DataFrame, pages: Mapping[str, str]) -> list[dict[str, Any]]:
    """Accounts that moved since the previous window, in ``MOVEMENT_LABELS`` order, biggest change first.

    ``page`` links an account's page; accounts gone quiet have none in this window.
    """
    moved = movements[movements["movement"] != "steady"]
    ordered = moved.assign(
        order=moved["movement"].map({movement: rank for rank, movement in enumerate(MOVEMENT_LABELS)}),
        size=pd.to_numeric(moved["score_change"], errors="coerce").abs(),
    ).sort_values(["order", "size"], ascending=[True, False], na_position="last", kind="stable")
    return [
        {**mover, "page": pages.get(mover["account_id"])} for mover in _records(ordered.drop(columns=["order", "size"]))
    ]


def _content_tables(content: ContentPerformance) -> dict[str, dict[str, Any]]:
    """Each content table's first rows (``rows``; they come most accounts reached first) and its size (``total``)."""
    tables = {
        "pages": content.pages,
        "topics": content.topics,
        "referrers": content.referrers,
        "campaigns": content.campaigns,
    }
    return {
        name: {"rows": _records(table.head(CONTENT_ROWS_SHOWN)), "total": len(table)} for name, table in tables.items()
    }


def _account_context(account: dict[str, Any], path: pd.DataFrame, report: WindowReport) -> dict[str, Any]:
    return {
        "account": account,
        "daily_chart": daily_stages_chart(path, report.window_start, report.window_end),
        "topics_chart": topics_chart(path),
        "contributions": _listed(account["top_contributions"]),
        "top_pages": _listed(account["top_pages"]),
        "visits": _visits(path),
    }


def _signals(signals: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """An account's ``events`` (newest first) and ``surge`` topics (highest score first, ``surging`` marked)."""
    surge = signals[signals["kind"] == "surge"]
    return {
        "events": _records(signals[signals["kind"] == "event"]),
        "surge": _records(surge.assign(surging=surge["composite_score"] >= SURGING_SCORE)),
    }


def _visits(path: pd.DataFrame) -> list[dict[str, Any]]:
    """The account's visits in the order they started, each with its pages in time order."""
    # One conversion for the whole path: converting each visit's rows costs more than the page.
    pages_by_visit: dict[Any, list[dict[str, Any]]] = {}
    for page in _records(path.sort_values("timestamp", kind="stable")):
        pages_by_visit.setdefault(page["visit_id"], []).append(page)
    return [{"started": pages[0]["timestamp"], "pages": pages} for pages in pages_by_visit.values()]


def _listed(ranked_text: str | None) -> list[str]:
    """``"pricing (4); docs (1)"`` as ``["pricing (4)", "docs (1)"]``."""
    return [item.strip() for item in (ranked_text or "").split(";") if item.strip()]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts, with missing values as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _render(target: Path, template: str, **context: Any) -> None:
    target.write_text(_TEMPLATES.get_template(template).render(**context), encoding="utf-8")


def _write_csv(frame: pd.DataFrame, target: Path) -> None:
    # The byte-order mark makes Excel read the file as UTF-8 (Cyrillic names stay readable).
    _formulas_as_text(_plain_values(frame)).to_csv(target, index=False, encoding="utf-8-sig")


def _plain_values(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with times as ISO 8601 UTC (``2026-11-03T09:00:00Z``) and rates to ``RATE_DIGITS`` digits."""
    times = frame.select_dtypes(include=["datetimetz"]).columns
    rates = [column for column in frame.columns if column == "rate" or column.endswith("_rate")]
    return frame.assign(
        **{column: frame[column].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ") for column in times},
        **{column: pd.to_numeric(frame[column]).round(RATE_DIGITS) for column in rates},
    )


def _formulas_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which text cells a spreadsheet would evaluate start with a quote (OWASP's advice)."""
    text_columns = frame.select_dtypes(include=["object", "string"]).columns
    return frame.assign(**{column: frame[column].map(_as_text_cell) for column in text_columns})


def _as_text_cell(value: Any) -> Any:
    # A lone "-" (no referrer) is not a formula and stays readable.
    if isinstance(value, str) and len(value) > 1 and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
