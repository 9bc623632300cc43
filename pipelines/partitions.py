"""Time partitions: one per UTC day for hits; report windows keyed by their last day.

Dagster's time partitions follow cron ticks, so an exact 14-28 day window is not a
partitions definition of its own: a report partition is the window's end day, and its
inputs are the daily partitions of the N days up to it.
"""

from __future__ import annotations

import datetime as dt
import warnings

from dagster import BetaWarning, DailyPartitionsDefinition, TimeWindowPartitionMapping


def daily_partitions(start: dt.date) -> DailyPartitionsDefinition:
    return DailyPartitionsDefinition(start_date=start.isoformat(), timezone="UTC")


def report_window(window_days: int) -> TimeWindowPartitionMapping:
    """Map a report partition (its end day) to the daily partitions of its window."""
    # Windows near the first partition reach back before it; those days simply have no data.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)
        return TimeWindowPartitionMapping(
            start_offset=-(window_days - 1), end_offset=0, allow_nonexistent_upstream_partitions=True
        )


def window_bounds(end_key: str, window_days: int) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of the report window that ends on ``end_key``."""
    end = dt.date.fromisoformat(end_key)
    return end - dt.timedelta(days=window_days - 1), end
