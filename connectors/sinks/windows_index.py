"""The report directory's ``index.html``: every delivered window, newest first, linked."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pandas as pd

from connectors.processes import process_alive
from connectors.sinks.report_pages import render_page

_WINDOW_FOLDER = re.compile(r"(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})")
# index.html is written aside under this prefix, then renamed.
_STAGING_PREFIX = ".index.html."


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
    _remove_abandoned_pages(directory)
    staging = target.with_name(f"{_STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}")
    render_page(staging, "windows.html.j2", windows=windows)
    staging.replace(target)
    return target


def _remove_abandoned_pages(directory: Path) -> None:
    """Remove the pages being written aside by processes that died before renaming them (killed mid-write)."""
    for staging in directory.glob(f"{_STAGING_PREFIX}*"):
        owner = staging.name.removeprefix(_STAGING_PREFIX).partition("-")[0]
        if owner.isdigit() and not process_alive(int(owner)):
            staging.unlink(missing_ok=True)
