"""Small helpers that turn frames into metadata the Dagster UI shows well."""

from __future__ import annotations

import pandas as pd
from dagster import MetadataValue


def markdown_table(frame: pd.DataFrame, limit: int = 15) -> MetadataValue:
    """A markdown table of the first ``limit`` rows (the UI renders it on the asset page)."""
    if frame.empty:
        return MetadataValue.md("_none_")
    shown = frame.head(limit).astype(str)
    header = "| " + " | ".join(shown.columns) + " |"
    rule = "|" + "---|" * len(shown.columns)
    rows = ["| " + " | ".join(value.replace("|", "\\|") for value in row) + " |" for row in shown.to_numpy()]
    more = [f"\n_…and {len(frame) - limit} more_"] if len(frame) > limit else []
    return MetadataValue.md("\n".join([header, rule, *rows, *more]))
