"""The report's CSV files: plain times and rates, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

RATE_DIGITS = 4  # a rate of 0..1 to a hundredth of a percent
# A spreadsheet evaluates a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_csv(frame: pd.DataFrame, target: Path) -> None:
    """Write ``frame`` to ``target`` as CSV a spreadsheet opens safely."""
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
