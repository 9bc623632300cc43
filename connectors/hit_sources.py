"""Read one day of hits from the configured source files, through the spool (parsed once)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from connectors.hits import HIT_COLUMNS, QUARANTINE_COLUMNS
from connectors.hits.spool import HitSpool, ReadOptions


@dataclass
class DayOfHits:
    """The hits of one UTC day and the malformed lines attributed to it."""

    hits: pd.DataFrame
    quarantine: pd.DataFrame
    files: list[str] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return len(self.hits) + len(self.quarantine)


def read_day(files: Iterable[Path], day: dt.date, *, spool: HitSpool, options: ReadOptions = ReadOptions()) -> DayOfHits:
    """Hits whose UTC timestamp falls on ``day``, in time order, and that day's quarantined lines."""
    day_start = pd.Timestamp(day, tz="UTC")
    hit_parts: list[pd.DataFrame] = []
    quarantine_parts: list[pd.DataFrame] = []
    files_read: list[str] = []
    for path in files:
        if pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC") < day_start:
            continue  # a file last written before the day cannot hold its hits
        files_read.append(str(path))
        hits, quarantine = spool.read_day(path, day, options)
        hit_parts.append(hits)
        quarantine_parts.append(quarantine)
    hits = _concat(hit_parts, HIT_COLUMNS).sort_values("timestamp", kind="stable", ignore_index=True)
    return DayOfHits(hits=hits, quarantine=_concat(quarantine_parts, QUARANTINE_COLUMNS), files=files_read)


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    parts = [part for part in parts if len(part)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
