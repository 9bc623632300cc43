"""The report's HTML pages: the window summary and the account pages, rendered from Jinja templates."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from connectors.sinks.base import WindowReport
from connectors.sinks.charts import STAGE_COLOURS, daily_stages_chart, funnel_chart, identification_chart, topics_chart
from enrichment.content import ContentPerformance
from enrichment.quality import ABOVE, ALL_COUNTRIES, BELOW, OUTSIDE, TOO_FEW_VISITS, WITHIN, judge_countries
from enrichment.signals import SURGING_SCORE
from enrichment.summary import UNKNOWN_COUNTRY

UNTAGGED_PAGES_SHOWN = 50
CONTENT_ROWS_SHOWN = 20
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
_SAFE_PAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


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


def summary_context(report: WindowReport, accounts: list[dict[str, Any]], untagged: pd.DataFrame) -> dict[str, Any]:
    """What the summary page shows of ``report``, with its ranked ``accounts`` and ``untagged`` pages."""
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
        "countries": records(countries),
        "bands": bool(report.expected_identification),
        "identification_chart": identification_chart(countries[countries["country"] != ALL_COUNTRIES]),
        "funnel": funnel,
        "funnel_chart": funnel_chart([(step["label"], step["hits"], step["share"]) for step in funnel]),
        "drop_reasons": records(summary.drop_reasons),
        "classifications": records(summary.classifications),
        "prospects": records(summary.prospects),
        "content": None if report.content_performance is None else _content_tables(report.content_performance),
        "untagged_pages": records(untagged.head(UNTAGGED_PAGES_SHOWN)),
        "untagged_total": len(untagged),
    }


def _funnel_steps(funnel: pd.DataFrame) -> list[dict[str, Any]]:
    """The funnel's rows, each with a readable ``label`` and its ``share`` of all hits."""
    steps = records(funnel)
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
        {**mover, "page": pages.get(mover["account_id"])} for mover in records(ordered.drop(columns=["order", "size"]))
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
        name: {"rows": records(table.head(CONTENT_ROWS_SHOWN)), "total": len(table)} for name, table in tables.items()
    }


def account_context(account: dict[str, Any], path: pd.DataFrame, report: WindowReport) -> dict[str, Any]:
    """What an account's page shows of it: its charts, score contributions, top pages and visits."""
    return {
        "account": account,
        "daily_chart": daily_stages_chart(path, report.window_start, report.window_end),
        "topics_chart": topics_chart(path),
        "contributions": _listed(account["top_contributions"]),
        "top_pages": _listed(account["top_pages"]),
        "visits": _visits(path),
    }


def account_signals(signals: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """An account's ``events`` (newest first) and ``surge`` topics (highest score first, ``surging`` marked)."""
    surge = signals[signals["kind"] == "surge"]
    return {
        "events": records(signals[signals["kind"] == "event"]),
        "surge": records(surge.assign(surging=surge["composite_score"] >= SURGING_SCORE)),
    }


def _visits(path: pd.DataFrame) -> list[dict[str, Any]]:
    """The account's visits in the order they started, each with its pages in time order."""
    # One conversion for the whole path: converting each visit's rows costs more than the page.
    pages_by_visit: dict[Any, list[dict[str, Any]]] = {}
    for page in records(path.sort_values("timestamp", kind="stable")):
        pages_by_visit.setdefault(page["visit_id"], []).append(page)
    return [{"started": pages[0]["timestamp"], "pages": pages} for pages in pages_by_visit.values()]


def _listed(ranked_text: str | None) -> list[str]:
    """``"pricing (4); docs (1)"`` as ``["pricing (4)", "docs (1)"]``."""
    return [item.strip() for item in (ranked_text or "").split(";") if item.strip()]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts, with missing values as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def render_page(target: Path, template: str, **context: Any) -> None:
    """Write ``template`` rendered with ``context`` to ``target``."""
    target.write_text(_TEMPLATES.get_template(template).render(**context), encoding="utf-8")
