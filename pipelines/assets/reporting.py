"""Reporting: per-account activity over a report window, judged for intent and delivered."""

import datetime as dt

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
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
from enrichment.activity import build_account_activity, hits_in_window
from enrichment.content import content_performance
from enrichment.intent import assess_accounts, movements
from enrichment.quality import judge_countries, outside_band
from enrichment.settings import QualitySettings, ReportSettings
from enrichment.signals import account_signal_summary, explain_weight, with_signals
from enrichment.summary import summarize_window
from enrichment.tagging import untagged_pages
from enrichment.trend import score_history
from pipelines.checks import partition_check
from pipelines.metadata import markdown_table
from pipelines.partitions import Days, report_window, window_bounds
from pipelines.resources import FileReportSinkResource, IntentRulesResource

MOVERS = ["name", "movement", "previous_stage", "furthest_stage", "score_change"]


def build_reporting_assets(
    partitions: DailyPartitionsDefinition,
    report: ReportSettings,
    baseline_weeks: int,
    quality: QualitySettings,
    signal_weight: float,
) -> list[AssetsDefinition]:
    window_days = report.window_days
    window = report_window(window_days)
    # Each account's score over its last windows is computed afresh from their account hits.
    history_span = report_window(window_days * report.history_windows)
    # The surge baseline, and the previous window inside it, come from the same daily company hits.
    window_with_history = report_window(window_days + 7 * baseline_weeks)

    @multi_asset(
        ins={"account_hits": AssetIn(partition_mapping=window_with_history), "account_signals": AssetIn()},
        outs={
            "account_activity": AssetOut(
                group_name="reporting",
                description=f"Per target account over the {window_days} days up to the partition day: visits, pages, topics, furthest stage, intent score, surge, level and why, with its signals (trigger events, surging topics, signal score).",
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
            partition_check(
                "accounts_have_evidence",
                "account_activity",
                partitions,
                "No account is scored without page views in the window.",
            )
        ],
    )
    def account_activity(
        context: AssetExecutionContext, account_hits: Days, account_signals: Days, rules: IntentRulesResource
    ):
        """What each target account read in the report window, scored and judged for intent, beside its signals."""
        account_hits = _every_day(account_hits)
        start, end = window_bounds(context.partition_key, window_days)
        previous_start, previous_end = start - dt.timedelta(days=window_days), start - dt.timedelta(days=1)
        accounts, weights = rules.accounts_frame(), rules.scoring_weights()
        current = build_account_activity(account_hits, accounts, window_start=start, window_end=end, weights=weights)
        previous = build_account_activity(
            account_hits, accounts, window_start=previous_start, window_end=previous_end, weights=weights
        )
        before_previous = account_hits[account_hits["timestamp"] < pd.Timestamp(previous_start, tz="UTC")]
        seen_before = set(before_previous["account_id"].dropna())
        signals = account_signal_summary(account_signals[context.partition_key])
        site_scores = current.accounts.set_index("account_id")["intent_score"]
        assessed = assess_accounts(
            with_signals(current.accounts, signals, signal_weight),
            window_hits=account_hits,
            baseline_hits=account_hits,
            previous_accounts=previous.accounts,
            seen_before=seen_before,
            window_start=start,
            window_end=end,
            weights=weights,
            settings=rules.intent_settings(),
        )
        assessed["explanation"] = explain_weight(
            assessed["explanation"], assessed["account_id"].map(site_scores), assessed["signal_score"], signal_weight
        )
        moves = movements(current.accounts, previous.accounts, seen_before)
        top = assessed[["name", "intent_score", "signal_score", "level", "surge", "furthest_stage", "movement"]]
        yield Output(
            {context.partition_key: assessed},
            "account_activity",
            metadata={
                "window": f"{start} – {end}",
                "active accounts": len(assessed),
                "top accounts": markdown_table(top, limit=10),
            },
        )
        yield Output(
            {context.partition_key: current.path}, "digital_paths", metadata={"pages in paths": len(current.path)}
        )
        yield Output(
            {context.partition_key: moves},
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
            "account_hits": AssetIn(partition_mapping=history_span),
            "prospect_days": AssetIn(partition_mapping=window),
            "prospect_topics": AssetIn(partition_mapping=window),
            "prospect_pages": AssetIn(partition_mapping=window),
            "traffic_counts": AssetIn(partition_mapping=window),
            "hit_drop_counts": AssetIn(partition_mapping=window),
            "page_tags": AssetIn(partition_mapping=window),
        },
        partitions_def=partitions,
        group_name="reporting",
        check_specs=[
            partition_check(
                "identification_by_country",
                "account_reports",
                partitions,
                f"Each country with at least {quality.min_visits_per_country} visits of known country is "
                "identified at the rate expected for it (warns: a stale database or unusual traffic).",
            )
        ],
    )
    def account_reports(
        context: AssetExecutionContext,
        account_hits: Days,
        prospect_days: Days,
        prospect_topics: Days,
        prospect_pages: Days,
        traffic_counts: Days,
        hit_drop_counts: Days,
        page_tags: Days,
        account_activity: Days,
        digital_paths: Days,
        account_movements: Days,
        account_signals: Days,
        report_sink: FileReportSinkResource,
        rules: IntentRulesResource,
    ):
        """The window's summary and one page per account, delivered to the report folder."""
        account_hits, prospect_days, prospect_topics, prospect_pages = map(
            _every_day, (account_hits, prospect_days, prospect_topics, prospect_pages)
        )
        traffic_counts, hit_drop_counts, page_tags = map(_every_day, (traffic_counts, hit_drop_counts, page_tags))
        window = context.partition_key
        account_activity, digital_paths = account_activity[window], digital_paths[window]
        account_movements, account_signals = account_movements[window], account_signals[window]
        start, end = window_bounds(window, window_days)
        history = score_history(
            account_hits,
            account_activity["account_id"],
            window_end=end,
            window_days=window_days,
            windows=report.history_windows,
            weights=rules.scoring_weights(),
        )
        account_hits = hits_in_window(account_hits, start, end)
        drops = hit_drop_counts.groupby("reason", as_index=False)["hits"].sum().sort_values("hits", ascending=False)
        summary = summarize_window(
            traffic_counts,
            prospect_days,
            prospect_topics,
            prospect_pages,
            drops,
            window_start=start,
            window_end=end,
            weights=rules.scoring_weights(),
        )
        bands = {country: (band.min, band.max) for country, band in quality.expected_identification.items()}
        window_report = WindowReport(
            window_start=start,
            window_end=end,
            accounts=account_activity,
            path=digital_paths,
            summary=summary,
            untagged_pages=untagged_pages(page_tags.drop_duplicates("url"), page_tags.groupby("url")["hits"].sum()),
            movements=account_movements,
            content_performance=content_performance(account_hits, account_movements),
            expected_identification=bands,
            min_visits_per_country=quality.min_visits_per_country,
            score_history=history,
            signals=account_signals,
        )
        result = report_sink.get().deliver(window_report)
        outside = outside_band(
            judge_countries(summary.identification_by_country, bands, quality.min_visits_per_country)
        )
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
                    metadata={
                        "outside their band": "; ".join(
                            f"{row.country} {row.rate:.0%} of {row.visits} visits (expected {row.expected})"
                            for row in outside.itertuples()
                        )
                        or "none",
                        "countries outside their band": markdown_table(outside),
                    },
                )
            ],
        )

    return [account_activity, account_reports]


def _every_day(days: Days) -> pd.DataFrame:
    """A window's days as one frame (the days that hold rows; else the first, for its columns)."""
    frames = list(days.values())
    filled = [frame for frame in frames if len(frame)] or frames[:1]
    return filled[0] if len(filled) == 1 else pd.concat(filled, ignore_index=True)
