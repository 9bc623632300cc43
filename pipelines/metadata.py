"""Small helpers that turn frames into metadata the Dagster UI shows well."""

from __future__ import annotations

import pandas as pd
from dagster import MetadataValue


def markdown_table(frame: pd.DataFrame, limit: int = 15) -> MetadataValue:
    """A markdown table of the first ``limit`` rows (the UI renders it on the asset page)."""
    if frame.empty:
        return MetadataValue.md("_none_")
    shown = frame.head(limit)
    header = "| " + " | ".join(str(column) for column in shown.columns) + " |"
    rule = "|" + "---|" * len(shown.columns)
    rows = ["| " + " | ".join(_cell(value) for value in row) + " |" for row in shown.itertuples(index=False)]
    more = [f"\n_…and {len(frame) - limit} more_"] if len(frame) > limit else []
    return MetadataValue.md("\n".join([header, rule, *rows, *more]))


def _cell(value: object) -> str:
    """A table cell: blank for missing values, pipes escaped so they don't split the cell."""
    return "" if pd.api.types.is_scalar(value) and pd.isna(value) else str(value).replace("|", "\\|")
