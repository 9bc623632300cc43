"""Reporting: per-account activity over a report window, judged for intent and delivered."""

import datetime as dt

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetOut,
    AssetsDefinition,
    DailyPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    Output,
    asset,
    multi_asset,
)

from connectors.sinks.base import WindowReport
from enrichment.activity import build_account_activity
from enrichment.content import content_performance
from enrichment.intent import assess_accounts, movements
from enrichment.settings import QualitySettings
from enrichment.summary import summarize_window
from enrichment.tagging import untagged_pages
from pipelines.metadata import markdown_table
from pipelines.partitions import report_window, window_bounds
from pipelines.resources import FileReportSinkResource, IntentRulesResource

MOVERS = ["name", "movement", "previous_stage", "furthest_stage", "score_change"]


def build_reporting_assets(
    partitions: DailyPartitionsDefinition, window_days: int, baseline_weeks: int, quality: QualitySettings
) -> list[AssetsDefinition]:
    window = report_window(window_days)
    # The surge baseline, and the previous window inside it, come from the same daily company hits.
    window_with_history = report_window(window_days + 7 * baseline_weeks)

    @multi_asset(
        ins={"account_hits": AssetIn(partition_mapping=window_with_history)},
        outs={
            "account_activity": AssetOut(
                group_name="reporting",
                description=f"Per target account over the {window_days} days up to the partition day: visits, pages, topics, furthest stage, intent score, surge, level and why.",
            ),
            "digital_paths": AssetOut(
                group_name="reporting",
                description="Each account's pages in order: time, page, topics, stage, referrer.",
            ),
            "account_movements": AssetOut(
                group_name="reporting",
                description="How accounts moved since the previous window: new, returning, stage advanced, gone quiet.",
            ),
        },
        partitions_def=partitions,
        check_specs=[
            AssetCheckSpec(
                "accounts_have_evidence",
                asset="account_activity",
                description="No account is scored without page views in the window.",
            )
        ],
    )
    def account_activity(context: AssetExecutionContext, account_hits: pd.DataFrame, rules: IntentRulesResource):
        """What each target account read in the report window, scored and judged for intent."""
        start, end = window_bounds(context.partition_key, window_days)
        previous_start, previous_end = start - dt.timedelta(days=window_days), start - dt.timedelta(days=1)
        accounts, weights = rules.accounts_frame(), rules.scoring_weights()
        current = build_account_activity(account_hits, accounts, window_start=start, window_end=end, weights=weights)
        previous = build_account_activity(
            account_hits, accounts, window_start=previous_start, window_end=previous_end, weights=weights
        )
        before_previous = account_hits[account_hits["timestamp"] < pd.Timestamp(previous_start, tz="UTC")]
        seen_before = set(before_previous["account_id"].dropna())
        assessed = assess_accounts(
            current.accounts,
            window_hits=account_hits,
            baseline_hits=account_hits,
            previous_accounts=previous.accounts,
            seen_before=seen_before,
            window_start=start,
            window_end=end,
            weights=weights,
            settings=rules.intent_settings(),
        )
        moves = movements(current.accounts, previous.accounts, seen_before)
        top = assessed[["name", "intent_score", "level", "surge", "furthest_stage", "movement"]]
        yield Output(
            assessed,
            "account_activity",
            metadata={
                "window": f"{start} – {end}",
                "active accounts": len(assessed),
                "top accounts": markdown_table(top, limit=10),
            },
        )
        yield Output(current.path, "digital_paths", metadata={"pages in paths": len(current.path)})
        yield Output(
            moves,
            "account_movements",
            metadata={"movers": markdown_table(moves[moves["movement"] != "steady"][MOVERS])},
        )
        unfounded = assessed[(assessed["intent_score"] > 0) & (assessed["pageviews"] < 1)]
        yield AssetCheckResult(
            check_name="accounts_have_evidence",
            asset_key=AssetKey("account_activity"),
            passed=unfounded.empty,
            metadata={"accounts scored without page views": len(unfounded)},
        )

    @asset(
        ins={
            "account_hits": AssetIn(partition_mapping=window),
            "prospect_days": AssetIn(partition_mapping=window),
            "prospect_topics": AssetIn(partition_mapping=window),
            "traffic_counts": AssetIn(partition_mapping=window),
            "hit_drop_counts": AssetIn(partition_mapping=window),
            "page_tags": AssetIn(partition_mapping=window),
        },
        partitions_def=partitions,
        group_name="reporting",
        check_specs=[
            AssetCheckSpec(
                "identification_by_country",
                asset="account_reports",
                description="Each country with enough visits is identified at the rate expected for it (warns: a stale database or unusual traffic).",
            )
        ],
    )
    def account_reports(
        context: AssetExecutionContext,
        account_hits: pd.DataFrame,
        prospect_days: pd.DataFrame,
        prospect_topics: pd.DataFrame,
        traffic_counts: pd.DataFrame,
        hit_drop_counts: pd.DataFrame,
        page_tags: pd.DataFrame,
        account_activity: pd.DataFrame,
        digital_paths: pd.DataFrame,
        account_movements: pd.DataFrame,
        report_sink: FileReportSinkResource,
    ):
        """The window's summary and one page per account, delivered to the report folder."""
        start, end = window_bounds(context.partition_key, window_days)
        drops = hit_drop_counts.groupby("reason", as_index=False)["hits"].sum().sort_values("hits", ascending=False)
        summary = summarize_window(
            traffic_counts, prospect_days, prospect_topics, drops, window_start=start, window_end=end
        )
        bands = {country: (band.min, band.max) for country, band in quality.expected_identification.items()}
        report = WindowReport(
            window_start=start,
            window_end=end,
            accounts=account_activity,
            path=digital_paths,
            summary=summary,
            untagged_pages=untagged_pages(page_tags.drop_duplicates("url"), page_tags.groupby("url")["hits"].sum()),
            movements=account_movements,
            content_performance=content_performance(account_hits, account_movements),
            expected_identification=bands,
        )
        result = report_sink.get().deliver(report)
        outside = _outside_band(summary.identification_by_country, bands, quality.min_visits_per_country)
        # The report folder is the product; nothing goes to the warehouse.
        return MaterializeResult(
            metadata={
                "summary": MetadataValue.url(f"file://{result.location}"),
                "accounts delivered": result.delivered,
                "identification by country": markdown_table(summary.identification_by_country),
                "drop reasons": markdown_table(drops),
            },
            check_results=[
                AssetCheckResult(
                    check_name="identification_by_country",
                    passed=outside.empty,
                    severity=AssetCheckSeverity.WARN,
                    metadata={"countries outside their band": markdown_table(outside)},
                )
            ],
        )

    return [account_activity, account_reports]


def _outside_band(by_country: pd.DataFrame, bands: dict[str, tuple[float, float]], min_visits: int) -> pd.DataFrame:
    """Countries with at least ``min_visits`` visits whose identification rate is outside their band."""
    countries = by_country[(by_country["country"] != "ALL") & (by_country["visits"] >= min_visits)]
    default = bands.get("*", (0.0, 1.0))
    low = countries["country"].map(lambda country: bands.get(country, default)[0]).astype(float)
    high = countries["country"].map(lambda country: bands.get(country, default)[1]).astype(float)
    outside = countries.assign(expected=[f"{a:.0%}–{b:.0%}" for a, b in zip(low, high)])
    return outside[(countries["rate"] < low) | (countries["rate"] > high)][["country", "visits", "rate", "expected"]]
