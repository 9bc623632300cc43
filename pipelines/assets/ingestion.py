"""Ingestion: the day's log lines become page views by people; everything else is counted or kept aside.

Parsing and cleaning are one step. Every parsed hit of a day is already on disk in the
spool (Parquet, one file per day and log); storing it again in the warehouse would write
each hit twice, bots and static files included, for no reader: what is set aside is
counted by reason in ``hit_drop_counts``, and unparseable lines keep their file and line
number in ``quarantined_lines``. Hits arrive scrubbed (``connectors.hits.chunks``): the
names of the query parameters taken out of them are counted per day in
``removed_query_parameters``, so marketing sees what the allow-list removes.
"""

import datetime as dt

import pandas as pd
from dagster import (
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetOut,
    AssetsDefinition,
    DailyPartitionsDefinition,
    MaterializeResult,
    Output,
    asset,
    multi_asset,
)

from enrichment.cleaning import BOT_BEHAVIOUR, BOT_USER_AGENT, clean_hits, drop_counts
from enrichment.hit_chunks import HitChunks
from enrichment.quality import rate_outside
from enrichment.scrubbing import removed_parameter_counts
from enrichment.settings import QualitySettings
from pipelines.checks import partition_check, record_check, selected
from pipelines.metadata import markdown_table
from pipelines.partitions import ranged_backfills
from pipelines.resources import HitSourcesResource, IntentRulesResource

BOT_REASONS = (BOT_USER_AGENT, BOT_BEHAVIOUR)


def build_ingestion_assets(partitions: DailyPartitionsDefinition, quality: QualitySettings) -> list[AssetsDefinition]:
    @asset(group_name="ingestion")
    def spooled_logs(hit_sources: HitSourcesResource) -> MaterializeResult:
        """Every configured log file parsed once into the spool, one Parquet file per day.

        Only new or changed files are parsed. The new-logs sensor requests this when files
        change, then the days the spool holds.
        """
        logs = list(hit_sources.spool_sources())
        days = sorted({day for log in logs for day, hits in log.hits.items() if hits})
        return MaterializeResult(
            metadata={
                "files": len(logs),
                "hits": sum(sum(log.hits.values()) for log in logs),
                "days": len(days),
                "first day": days[0].isoformat() if days else "none",
                "last day": days[-1].isoformat() if days else "none",
            }
        )

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
            "removed_query_parameters": AssetOut(
                group_name="ingestion",
                description="Query parameters not on privacy.allowed_query_parameters: hits per removed name and day.",
            ),
        },
        partitions_def=partitions,
        backfill_policy=ranged_backfills(),
        can_subset=True,
        deps=[spooled_logs],
        check_specs=[
            partition_check(
                "parse_error_rate",
                "quarantined_lines",
                partitions,
                f"At most {quality.max_parse_error_rate:.0%} of the day's log lines are quarantined.",
            ),
            partition_check(
                "bot_share",
                "hit_drop_counts",
                partitions,
                f"At most {quality.max_bot_share:.0%} of the day's hits are bots (warns: a new scraper or a missed bot rule).",
            ),
        ],
    )
    def ingested_hits(context: AssetExecutionContext, hit_sources: HitSourcesResource, rules: IntentRulesResource):
        """Read each day's hits from every log that holds the day and drop what isn't a person reading a page.

        A busy day is read and cleaned in chunks of addresses (``read_day_in_chunks``).
        Malformed lines go to quarantine; every dropped hit is counted by reason. A file whose
        log format cannot be told is named in the metadata (and quarantined as line 0), and the
        other files are read as usual.
        """
        kept, drops, quarantined, removed = {}, {}, {}, {}
        files, unreadable, lines, parsed = set(), {}, 0, 0
        days = [dt.date.fromisoformat(key) for key in context.partition_keys]
        for day, chunks in hit_sources.read_days(days):
            key = day.isoformat()
            day_kept, day_reasons, day_quarantined, day_removed, day_lines = HitChunks(), [], [], [], 0
            for batch in chunks:
                # Only the hits that had parameters removed: a column would keep the whole chunk alive.
                day_removed.append(batch.hits["removed_parameters"].dropna())
                cleaned = clean_hits(
                    batch.hits.drop(columns="removed_parameters"),
                    office_networks=rules.cleaning.office_networks,
                    max_pages_per_minute=rules.cleaning.max_pages_per_minute,
                )
                day_reasons.append(cleaned["drop_reason"])
                day_kept.add(cleaned[cleaned["drop_reason"].isna()].drop(columns="drop_reason"))
                day_quarantined.append(batch.quarantine)
                files.update(batch.files)
                unreadable.update(batch.unreadable)
                day_lines += batch.lines
            reasons = pd.concat(day_reasons, ignore_index=True)
            removed[key] = removed_parameter_counts(pd.concat(day_removed, ignore_index=True)).assign(day=day)
            drops[key] = drop_counts(reasons.to_frame())
            kept[key] = day_kept
            quarantined[key] = pd.concat(day_quarantined, ignore_index=True)
            lines, parsed = lines + day_lines, parsed + len(reasons)
            _judge_day(context, key, day_lines, len(quarantined[key]), len(reasons), drops[key])

        all_drops = pd.concat(drops.values(), ignore_index=True).groupby("reason", as_index=False)["hits"].sum()
        outputs = {
            "clean_hits": (
                kept,
                {
                    "days": len(days),
                    "files read": len(files),
                    "unreadable files": markdown_table(
                        pd.DataFrame({"file": list(unreadable), "why": list(unreadable.values())})
                    ),
                    "lines": lines,
                    "parsed hits": parsed,
                    "kept": sum(chunks.hits for chunks in kept.values()),
                },
            ),
            "hit_drop_counts": (
                drops,
                {"dropped": int(all_drops["hits"].sum()), "drop reasons": markdown_table(all_drops)},
            ),
            "quarantined_lines": (quarantined, {"reasons": markdown_table(_reasons(quarantined.values()))}),
            "removed_query_parameters": (removed, {"removed parameters": markdown_table(_removed(removed.values()))}),
        }
        for name, (frames, metadata) in outputs.items():
            if selected(context, name):
                yield Output(frames, name, metadata=metadata)

    def _judge_day(
        context: AssetExecutionContext, key: str, lines: int, quarantined: int, cleaned: int, drops: pd.DataFrame
    ) -> None:
        error_rate = quarantined / lines if lines else 0.0
        record_check(
            context,
            "quarantined_lines",
            "parse_error_rate",
            key,
            passed=not rate_outside(quarantined, lines, high=quality.max_parse_error_rate),
            metadata={"rate": round(error_rate, 4), "limit": quality.max_parse_error_rate, "quarantined": quarantined},
        )
        bots = int(drops.loc[drops["reason"].isin(BOT_REASONS), "hits"].sum())
        share = bots / cleaned if cleaned else 0.0
        record_check(
            context,
            "hit_drop_counts",
            "bot_share",
            key,
            passed=not rate_outside(bots, cleaned, high=quality.max_bot_share),
            severity=AssetCheckSeverity.WARN,
            metadata={"bot share": round(share, 4), "limit": quality.max_bot_share},
        )

    return [spooled_logs, ingested_hits]


def _reasons(quarantined) -> pd.DataFrame:
    reasons = pd.concat([frame["reason"] for frame in quarantined], ignore_index=True)
    return reasons.value_counts().rename_axis("reason").reset_index(name="lines")


def _removed(counts) -> pd.DataFrame:
    """Hits per removed parameter name over the run's days, most first."""
    every_day = pd.concat(counts, ignore_index=True)
    totals = every_day.groupby("parameter", as_index=False)["hits"].sum()
    return totals.sort_values(["hits", "parameter"], ascending=[False, True], ignore_index=True)
