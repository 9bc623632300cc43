"""Ingestion: the day's log lines become page views by people; everything else is counted or kept aside.

Parsing and cleaning are one step. Every parsed hit of a day is already on disk in the
spool (Parquet, one file per day and log); storing it again in the warehouse would write
each hit twice, bots and static files included, for no reader: what is set aside is
counted by reason in ``hit_drop_counts``, and unparseable lines keep their file and line
number in ``quarantined_lines``.
"""

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetOut,
    AssetsDefinition,
    DailyPartitionsDefinition,
    Output,
    multi_asset,
)

from enrichment.cleaning import BOT_BEHAVIOUR, BOT_USER_AGENT, clean_hits, drop_counts
from enrichment.settings import QualitySettings
from pipelines.metadata import markdown_table
from pipelines.resources import HitSourcesResource, IntentRulesResource

BOT_REASONS = (BOT_USER_AGENT, BOT_BEHAVIOUR)


def build_ingestion_assets(partitions: DailyPartitionsDefinition, quality: QualitySettings) -> list[AssetsDefinition]:
    @multi_asset(
        outs={
            "clean_hits": AssetOut(
                group_name="ingestion",
                description="Page views by people: no bots, static files, own office or private addresses.",
            ),
            "hit_drop_counts": AssetOut(
                group_name="ingestion", description="How many of the day's hits were dropped, by reason."
            ),
            "quarantined_lines": AssetOut(
                group_name="ingestion",
                description="Log lines that could not be parsed, with source file, line number and reason.",
            ),
        },
        partitions_def=partitions,
        check_specs=[
            AssetCheckSpec(
                "parse_error_rate",
                asset="quarantined_lines",
                description=f"At most {quality.max_parse_error_rate:.0%} of the day's log lines are quarantined.",
            ),
            AssetCheckSpec(
                "bot_share",
                asset="hit_drop_counts",
                description=f"At most {quality.max_bot_share:.0%} of the day's hits are bots (warns: a new scraper or a missed bot rule).",
            ),
        ],
    )
    def ingested_hits(context: AssetExecutionContext, hit_sources: HitSourcesResource, rules: IntentRulesResource):
        """Read the day's hits from every configured source and drop what isn't a person reading a page.

        Malformed lines go to quarantine; every dropped hit is counted by reason. A file whose
        log format cannot be told is named in the metadata (and quarantined as line 0), and the
        other files are read as usual.
        """
        day = context.partition_time_window.start.date()
        batch = hit_sources.read_day(day)
        cleaned = clean_hits(
            batch.hits, office_networks=rules.office_networks, max_pages_per_minute=rules.max_pages_per_minute
        )
        drops = drop_counts(cleaned)
        kept = cleaned[cleaned["drop_reason"].isna()].drop(columns="drop_reason")
        yield Output(
            kept,
            "clean_hits",
            metadata={
                "files read": len(batch.files),
                "unreadable files": markdown_table(
                    pd.DataFrame({"file": list(batch.unreadable), "why": list(batch.unreadable.values())})
                ),
                "lines": batch.lines,
                "parsed hits": len(batch.hits),
                "kept": len(kept),
                "unique IPs": kept["ip"].nunique(),
            },
        )
        yield Output(
            drops,
            "hit_drop_counts",
            metadata={
                "dropped": len(cleaned) - len(kept),
                "drop reasons": markdown_table(drops),
            },
        )
        reasons = batch.quarantine["reason"].value_counts().rename_axis("reason").reset_index(name="lines")
        yield Output(batch.quarantine, "quarantined_lines", metadata={"reasons": markdown_table(reasons)})

        error_rate = len(batch.quarantine) / batch.lines if batch.lines else 0.0
        yield AssetCheckResult(
            check_name="parse_error_rate",
            asset_key=AssetKey("quarantined_lines"),
            passed=error_rate <= quality.max_parse_error_rate,
            metadata={
                "rate": round(error_rate, 4),
                "limit": quality.max_parse_error_rate,
                "quarantined": len(batch.quarantine),
            },
        )
        bots = int(drops.loc[drops["reason"].isin(BOT_REASONS), "hits"].sum())
        share = bots / len(cleaned) if len(cleaned) else 0.0
        yield AssetCheckResult(
            check_name="bot_share",
            asset_key=AssetKey("hit_drop_counts"),
            passed=share <= quality.max_bot_share,
            severity=AssetCheckSeverity.WARN,
            metadata={"bot share": round(share, 4), "limit": quality.max_bot_share},
        )

    return [ingested_hits]
