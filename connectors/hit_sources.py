"""Read one day of hits from the configured source files, through the spool (parsed once)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from connectors.hits.schema import HIT_DTYPES, QUARANTINE_DTYPES
from connectors.hits.spool import HitSpool, ReadOptions


@dataclass
class DayOfHits:
    """The hits of one UTC day and the malformed lines attributed to it.

    ``unreadable`` maps each file read whose log format cannot be told to why; its one
    quarantined row (line 0) is in ``quarantine`` on the file's modification day only.
    """

    hits: pd.DataFrame
    quarantine: pd.DataFrame
    files: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)

    @property
    def lines(self) -> int:
        return len(self.hits) + len(self.quarantine)

    @classmethod
    def combine(cls, days: list[DayOfHits]) -> DayOfHits:
        """The hits of several sources' days in one time order."""
        return cls(
            hits=_concat([d.hits for d in days], HIT_DTYPES).sort_values("timestamp", kind="stable", ignore_index=True),
            quarantine=_concat([d.quarantine for d in days], QUARANTINE_DTYPES),
            files=[f for d in days for f in d.files],
            unreadable={file: why for d in days for file, why in d.unreadable.items()},
        )


def read_day(
    files: Iterable[Path], day: dt.date, *, spool: HitSpool, options: ReadOptions = ReadOptions()
) -> DayOfHits:
    """Hits whose UTC timestamp falls on ``day``, in time order, and that day's quarantined lines.

    An empty file adds nothing; a file whose format cannot be told is named in ``unreadable``.
    """
    day_start = pd.Timestamp(day, tz="UTC")
    days = []
    for path in files:
        if pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC") < day_start:
            continue  # a file last written before the day cannot hold its hits
        why = spool.summary(path, options).unreadable
        unreadable = {str(path): why} if why else {}
        days.append(DayOfHits(*spool.read_day(path, day, options), files=[str(path)], unreadable=unreadable))
    return DayOfHits.combine(days)


def _concat(parts: list[pd.DataFrame], dtypes: dict[str, str]) -> pd.DataFrame:
    """The parts one after another; typed even when there are none (steps after read its dtypes)."""
    parts = [part for part in parts if len(part)]
    if parts:
        return pd.concat(parts, ignore_index=True)
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()})
