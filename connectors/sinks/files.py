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
formula are written as text (pages: ``report_pages``, CSV files: ``report_csv``). Charts are
inline SVG (see ``charts``): the pages need no script and nothing from elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

import pandas as pd

from connectors.processes import process_alive
from connectors.sinks.base import SinkResult, WindowReport
from connectors.sinks.charts import score_history_chart
from connectors.sinks.report_csv import write_csv
from connectors.sinks.report_pages import (
    account_context,
    account_page_name,
    account_signals,
    records,
    render_page,
    summary_context,
)
from connectors.sinks.windows_index import write_windows_index
from enrichment.signals import ACCOUNT_SIGNAL_COLUMNS, SIGNAL_COLUMNS
from enrichment.summary import suggested_accounts
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


def _write_report(report: WindowReport, folder: Path) -> int:
    """Write every file of the report into ``folder``; returns the number of account pages."""
    history = report.score_history if report.score_history is not None else pd.DataFrame(columns=HISTORY_COLUMNS)
    accounts = _ranked(_with_score_story(report.accounts))
    accounts["score_history"] = accounts["account_id"].map(history_text(history))
    untagged = report.untagged_pages.sort_values("hits", ascending=False, kind="stable")
    summary = report.summary
    (folder / "accounts").mkdir(parents=True)

    write_csv(accounts[ACCOUNTS_CSV_COLUMNS], folder / "accounts.csv")
    path = report.path.sort_values(["account_id", "timestamp"], kind="stable")
    write_csv(path[PATH_CSV_COLUMNS], folder / "digital_path.csv")
    write_csv(summary.prospects, folder / "prospects.csv")
    write_csv(suggested_accounts(summary.prospects), folder / "suggested_accounts.csv")
    write_csv(summary.identification_by_country, folder / "identification_by_country.csv")
    write_csv(summary.drop_reasons, folder / "drop_reasons.csv")
    write_csv(untagged, folder / "untagged_pages.csv")

    window = {"window_start": report.window_start, "window_end": report.window_end}
    ranked = [{**account, "page": account_page_name(str(account["account_id"]))} for account in records(accounts)]
    render_page(folder / "index.html", "summary.html.j2", **window, **summary_context(report, ranked, untagged))
    paths = dict(tuple(path.groupby("account_id", sort=False)))
    histories = dict(tuple(history.groupby("account_id", sort=False)))
    signals = report.signals if report.signals is not None else pd.DataFrame(columns=SIGNAL_COLUMNS)
    signals_by_account = dict(tuple(signals.groupby("account_id", sort=False)))
    for account in ranked:
        context = account_context(account, paths.get(account["account_id"], path.head(0)), report)
        # Without signals in the window, pages show no empty Signals section.
        context["signals"] = (
            account_signals(signals_by_account.get(account["account_id"], signals.head(0))) if len(signals) else None
        )
        context["history_chart"] = score_history_chart(histories.get(account["account_id"], history.head(0)))
        render_page(folder / "accounts" / f"{account['page']}.html", "account.html.j2", **window, **context)
    return len(ranked)


def _with_score_story(accounts: pd.DataFrame) -> pd.DataFrame:
    """``accounts`` with every ``SCORE_STORY_COLUMNS`` column, empty where the report has none."""
    missing = [column for column in SCORE_STORY_COLUMNS if column not in accounts.columns]
    return accounts.assign(**dict.fromkeys(missing, None))


def _ranked(accounts: pd.DataFrame) -> pd.DataFrame:
    """Highest intent first; among equal scores, the account that read more."""
    return accounts.sort_values(["intent_score", "pageviews"], ascending=False, kind="stable")
