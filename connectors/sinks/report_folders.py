"""Report folders after delivery: pruned past their retention, and edited when someone is forgotten.

A window's folder (``<window_start>_<window_end>/``, see ``connectors.sinks.files``) names
accounts, their visits and the organizations seen as prospects. Its age is its window's
last day. Forgetting removes an account's page and its rows from the CSV files and the
summary page, and an organization's rows from the prospects; the rest of the report stays
as it was delivered.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from markupsafe import escape

from connectors.sinks.report_pages import account_page_name
from connectors.sinks.windows_index import write_windows_index

_WINDOW_FOLDER = re.compile(r"(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})")
_ACCOUNT_CSVS = ("accounts.csv", "digital_path.csv")
_TABLE_ROW = re.compile(r"<tr\b[^>]*>.*?</tr>\s*", re.DOTALL)


@dataclass(frozen=True)
class ReportWindow:
    """One delivered window's folder."""

    folder: Path
    window_end: dt.date


@dataclass(frozen=True)
class ForgottenInReports:
    """What forgetting removed from the report folders."""

    account_pages: int = 0
    csv_rows: int = 0
    summary_rows: int = 0


def report_windows(directory: Path) -> list[ReportWindow]:
    """Every delivered window's folder in ``directory`` (copies being written are not windows yet)."""
    if not directory.is_dir():
        return []
    windows = []
    for folder in sorted(directory.iterdir()):
        match = _WINDOW_FOLDER.fullmatch(folder.name)
        if match and folder.is_dir():
            windows.append(ReportWindow(folder, dt.date.fromisoformat(match[2])))
    return windows


def overdue_windows(directory: Path, kept_from: dt.date) -> list[ReportWindow]:
    """The windows whose last day is before ``kept_from``."""
    return [window for window in report_windows(directory) if window.window_end < kept_from]


def prune_report_windows(directory: Path, kept_from: dt.date) -> int:
    """Remove the folders of windows ending before ``kept_from``; returns how many."""
    overdue = overdue_windows(directory, kept_from)
    for window in overdue:
        shutil.rmtree(window.folder)
    if overdue:
        write_windows_index(directory)  # the index lists only the windows still there
    return len(overdue)


def forget_in_reports(
    directory: Path, account_ids: Iterable[str], organizations: Iterable[str] = ()
) -> ForgottenInReports:
    """Remove ``account_ids`` (their pages, CSV rows and summary rows) and ``organizations``
    (compared ignoring case and spacing, as prospects) from every window's folder."""
    accounts = sorted(set(account_ids))
    wanted = {_comparable(name) for name in organizations}
    pages = csv_rows = summary_rows = 0
    for window in report_windows(directory):
        for account_id in accounts:
            page = window.folder / "accounts" / f"{account_page_name(account_id)}.html"
            if page.exists():
                page.unlink()
                pages += 1
        names = set()
        for csv in _ACCOUNT_CSVS:
            removed = _drop_csv_rows(window.folder / csv, lambda rows: rows["account_id"].isin(accounts))
            names.update(removed.get("name", pd.Series(dtype="str")).dropna())
            csv_rows += len(removed)
        prospects = _drop_csv_rows(
            window.folder / "prospects.csv", lambda rows: rows["organization"].map(_comparable).isin(wanted)
        )
        suggested = _drop_csv_rows(
            window.folder / "suggested_accounts.csv", lambda rows: rows["name"].map(_comparable).isin(wanted)
        )
        csv_rows += len(prospects) + len(suggested)
        summary_rows += _drop_summary_rows(
            window.folder / "index.html",
            links=[f'href="accounts/{account_page_name(account_id)}.html"' for account_id in accounts],
            cells=[*names, *prospects.get("organization", pd.Series(dtype="str")).dropna()],
        )
    return ForgottenInReports(pages, csv_rows, summary_rows)


def _drop_csv_rows(path: Path, forgotten: Callable[[pd.DataFrame], pd.Series]) -> pd.DataFrame:
    """Rewrite the CSV without the rows ``forgotten`` selects; returns those rows."""
    if not path.exists():
        return pd.DataFrame()
    # As text, as written: the file sink's quoting of formula-like cells stays as it is.
    rows = pd.read_csv(path, dtype="str", keep_default_na=False, encoding="utf-8-sig")
    if rows.empty:
        return rows
    selected = forgotten(rows).to_numpy()
    if selected.any():
        rows[~selected].to_csv(path, index=False, encoding="utf-8-sig")
    return rows[selected]


def _drop_summary_rows(path: Path, links: list[str], cells: list[str]) -> int:
    """Remove the summary's table rows linking to a forgotten account's page or naming it in a cell."""
    if not path.exists() or not (links or cells):
        return 0
    markers = [*links, *(f">{escape(name)}<" for name in cells)]
    text = path.read_text(encoding="utf-8")
    removed = 0

    def drop(row: re.Match[str]) -> str:
        nonlocal removed
        if any(marker in row[0] for marker in markers):
            removed += 1
            return ""
        return row[0]

    kept = _TABLE_ROW.sub(drop, text)
    if removed:
        path.write_text(kept, encoding="utf-8")
    return removed


def _comparable(name: str) -> str:
    return " ".join(str(name).split()).casefold()
