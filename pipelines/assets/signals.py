"""Signals: trigger events and Company Surge topics per target account, for each report window."""

import datetime as dt
from pathlib import Path

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetsDefinition,
    DailyPartitionsDefinition,
    Output,
    asset,
)

from connectors.signals import read_landing_folder
from enrichment.signals import match_signals, newest_dates, signals_in_window
from pipelines.checks import partition_check
from pipelines.metadata import markdown_table
from pipelines.partitions import window_bounds
from pipelines.resources import IntentRulesResource

FEED_NAMES = {"event": "trigger events", "surge": "Company Surge"}


def build_signal_assets(
    partitions: DailyPartitionsDefinition, window_days: int, directory: Path | None, max_age_days: int
) -> list[AssetsDefinition]:
    """``account_signals`` from the landing folder ``directory`` (None: no signals), windows like reports."""

    @asset(
        partitions_def=partitions,
        group_name="reporting",
        description=f"Trigger events dated in the {window_days}-day window and each account's latest "
        "Company Surge score per topic in it, from the signals landing folder.",
        check_specs=[
            partition_check(
                "signal_feeds_fresh",
                "account_signals",
                partitions,
                f"Warns when a signal feed's newest row is more than {max_age_days} days older than the window's end.",
            )
        ],
    )
    def account_signals(context: AssetExecutionContext, rules: IntentRulesResource):
        """The window's signals per target account; bad rows are quarantined and counted per file."""
        window = context.partition_key
        start, end = window_bounds(window, window_days)
        landed = read_landing_folder(directory)
        signals, unknown_accounts, other_companies = match_signals(landed.events, landed.surge, rules.target_accounts())
        quarantined = pd.concat([landed.quarantined, unknown_accounts], ignore_index=True)
        moved = landed.files["file"].map(unknown_accounts["file"].value_counts()).fillna(0).astype("int64")
        files = landed.files.assign(rows=landed.files["rows"] - moved, quarantined=landed.files["quarantined"] + moved)
        in_window = signals_in_window(signals, start, end)
        yield Output(
            {window: in_window},
            metadata={
                "landing folder": str(directory) if directory else "not set",
                "files": markdown_table(files),
                "rows quarantined": len(quarantined),
                "quarantined rows": markdown_table(quarantined.sort_values(["file", "line"]), limit=30),
                "rows for other companies": other_companies,
                "signals in window": len(in_window),
            },
        )
        yield _freshness(newest_dates(landed.events, landed.surge, end), end, max_age_days)

    return [account_signals]


def _freshness(newest: dict[str, dt.date], window_end: dt.date, max_age_days: int) -> AssetCheckResult:
    """Warns for each feed whose newest row is older than ``max_age_days`` at the window's end."""
    ages = {kind: (window_end - day).days for kind, day in newest.items()}
    stale = {kind: age for kind, age in ages.items() if age > max_age_days}
    return AssetCheckResult(
        check_name="signal_feeds_fresh",
        asset_key="account_signals",
        passed=not stale,
        severity=AssetCheckSeverity.WARN,
        metadata={
            **{f"{FEED_NAMES[kind]} age (days)": age for kind, age in ages.items()},
            "limit (days)": max_age_days,
            "stale feeds": ", ".join(FEED_NAMES[kind] for kind in stale) or "none",
        },
    )
