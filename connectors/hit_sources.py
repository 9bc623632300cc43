"""Read one day of hits from the configured source files.

Daily partitions read the same files, so each quarantined line must belong to exactly
one day or it would be stored once per partition. A malformed line has no trustworthy
timestamp, so it takes the day of the nearest parsed line before it in the same file
(logs are written in time order), else the nearest after it, else the file's
modification day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from connectors.hits import HIT_COLUMNS, QUARANTINE_COLUMNS, ColumnMapping, read_hits


@dataclass
class DayOfHits:
    """The hits of one UTC day and the malformed lines attributed to it."""

    hits: pd.DataFrame
    quarantine: pd.DataFrame
    files: list[str] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return len(self.hits) + len(self.quarantine)


def read_day(
    files: Iterable[Path],
    day: dt.date,
    *,
    log_format: str | None = None,
    column_mapping: ColumnMapping | None = None,
    trust_forwarded_for: bool = False,
    chunk_size: int = 100_000,
) -> DayOfHits:
    """Hits whose UTC timestamp falls on ``day``, streamed from ``files`` chunk by chunk."""
    day_start = pd.Timestamp(day, tz="UTC")
    hit_parts: list[pd.DataFrame] = []
    quarantine_parts: list[pd.DataFrame] = []
    files_read: list[str] = []
    for path in files:
        modified = pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC")
        if modified < day_start:  # a file last written before the day cannot hold its hits
            continue
        files_read.append(str(path))
        previous_day = None
        for chunk in read_hits(
            path, log_format=log_format, chunk_size=chunk_size,
            column_mapping=column_mapping, trust_forwarded_for=trust_forwarded_for,
        ):
            hit_days = chunk.hits["timestamp"].dt.date
            hit_parts.append(chunk.hits[hit_days == day])
            quarantine_days = _quarantine_days(chunk.quarantine, chunk.hits, previous_day, modified.date())
            quarantine_parts.append(chunk.quarantine[quarantine_days == day])
            if len(chunk.hits):
                previous_day = hit_days.iloc[-1]
    hits = _concat(hit_parts, HIT_COLUMNS).sort_values("timestamp", kind="stable", ignore_index=True)
    return DayOfHits(hits=hits, quarantine=_concat(quarantine_parts, QUARANTINE_COLUMNS), files=files_read)


def _quarantine_days(
    quarantine: pd.DataFrame, hits: pd.DataFrame, previous_day: dt.date | None, file_day: dt.date
) -> pd.Series:
    """The day each quarantined line belongs to (aligned with ``quarantine``'s index).

    ``previous_day`` is the day of the last parsed line of the file's earlier chunks.
    """
    if quarantine.empty or hits.empty:
        return pd.Series(previous_day or file_day, index=quarantine.index, dtype=object)
    good = pd.DataFrame({"line_no": hits["line_no"].astype("int64"), "day": hits["timestamp"].dt.date})
    good = good.sort_values("line_no")
    bad = pd.DataFrame({"line_no": quarantine["line_no"].astype("int64"), "row": quarantine.index}).sort_values("line_no")
    before = pd.merge_asof(bad, good, on="line_no", direction="backward")["day"]
    after = pd.merge_asof(bad, good, on="line_no", direction="forward")["day"]
    days = before.where(before.notna(), previous_day if previous_day else after)
    return pd.Series(days.to_numpy(), index=bad["row"].to_numpy()).reindex(quarantine.index)


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    parts = [part for part in parts if len(part)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
