"""Time partitions: one per UTC day for hits; report windows keyed by their last day.

Dagster's time partitions follow cron ticks, so an exact 14-28 day window is not a
partitions definition of its own: a report partition is the window's end day, and its
inputs are the daily partitions of the N days up to it.

A run may cover several consecutive days (a ranged run): starting a run costs more than
a small site's day of hits, so backfills take up to ``DAYS_PER_RUN`` days per run. Every
partitioned asset handles each of its run's days on its own, so a day's result never
depends on the days it ran with.
"""

from __future__ import annotations

import datetime as dt
import warnings

import pandas as pd
from dagster import BackfillPolicy, BetaWarning, DailyPartitionsDefinition, TimeWindowPartitionMapping

from connectors.hits.spool import HitSpool
from enrichment.hit_chunks import HitChunks

# A week per backfill run: few runs, and a run's frames (held until it ends) stay a week's.
DAYS_PER_RUN = 7

# A partitioned asset's value, in and out of the warehouse I/O manager: one frame per partition
# key, for the days of the run (daily assets) or of the window read (report assets).
Days = dict[str, pd.DataFrame]
# Clean hits' value: a day's hits in chunks of addresses (``connectors.schema.in_chunks_of_addresses``).
DaysOfHits = dict[str, HitChunks]


def daily_partitions(start: dt.date) -> DailyPartitionsDefinition:
    return DailyPartitionsDefinition(start_date=start.isoformat(), timezone="UTC")


def first_partition_day(configured: dt.date, spool: HitSpool) -> dt.date:
    """The first daily partition: the settings' day, or earlier when the spool ever held older hits.

    Stable across runs: a partial log never moves it forward, old data only moves it back.
    """
    spooled = spool.first_day()
    return min(configured, spooled) if spooled else configured


def ranged_backfills() -> BackfillPolicy:
    """Backfills in runs of up to ``DAYS_PER_RUN`` consecutive days."""
    return BackfillPolicy.multi_run(max_partitions_per_run=DAYS_PER_RUN)


# Dagster 1.13 calls an asset's `backfill_policy` beta and says so each time an asset is defined.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=BetaWarning)


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
