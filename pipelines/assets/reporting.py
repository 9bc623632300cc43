"""Reporting: per-account activity over a report window, delivered to the report sink."""

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetIn,
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
from enrichment.summary import summarize_window
from enrichment.tagging import untagged_pages
from pipelines.metadata import markdown_table
from pipelines.partitions import report_window, window_bounds
from pipelines.resources import FileReportSinkResource, IntentRulesResource


def build_reporting_assets(partitions: DailyPartitionsDefinition, window_days: int) -> list[AssetsDefinition]:
    window = report_window(window_days)

    @multi_asset(
        ins={"company_hits": AssetIn(partition_mapping=window)},
        outs={
            "account_activity": AssetOut(group_name="reporting", description=f"Per target account over the {window_days} days up to the partition day: visits, pages, topics, furthest stage, intent score."),
            "digital_paths": AssetOut(group_name="reporting", description="Each account's pages in order: time, page, topics, stage, referrer."),
        },
        partitions_def=partitions,
    )
    def account_activity(context: AssetExecutionContext, company_hits: pd.DataFrame, rules: IntentRulesResource):
        """What each target account read in the report window, scored for intent."""
        start, end = window_bounds(context.partition_key, window_days)
        activity = build_account_activity(
            company_hits, rules.accounts_frame(), window_start=start, window_end=end, weights=rules.scoring_weights()
        )
        top = activity.accounts[["name", "intent_score", "furthest_stage", "visits", "pageviews", "top_topics"]]
        yield Output(activity.accounts, "account_activity", metadata={
            "window": f"{start} – {end}", "active accounts": len(activity.accounts), "top accounts": markdown_table(top, limit=10),
        })
        yield Output(activity.path, "digital_paths", metadata={"pages in paths": len(activity.path)})

    @asset(
        ins={
            "company_hits": AssetIn(partition_mapping=window),
            "traffic_counts": AssetIn(partition_mapping=window),
            "hit_drop_counts": AssetIn(partition_mapping=window),
            "page_tags": AssetIn(partition_mapping=window),
        },
        partitions_def=partitions,
        group_name="reporting",
    )
    def account_reports(
        context: AssetExecutionContext,
        company_hits: pd.DataFrame,
        traffic_counts: pd.DataFrame,
        hit_drop_counts: pd.DataFrame,
        page_tags: pd.DataFrame,
        account_activity: pd.DataFrame,
        digital_paths: pd.DataFrame,
        report_sink: FileReportSinkResource,
    ) -> MaterializeResult:
        """The window's summary and one page per account, delivered to the report sink."""
        start, end = window_bounds(context.partition_key, window_days)
        drops = hit_drop_counts.groupby("reason", as_index=False)["hits"].sum().sort_values("hits", ascending=False)
        report = WindowReport(
            window_start=start,
            window_end=end,
            accounts=account_activity,
            path=digital_paths,
            summary=summarize_window(traffic_counts, company_hits, drops, window_start=start, window_end=end),
            untagged_pages=untagged_pages(
                page_tags.drop_duplicates("url"), page_tags.groupby("url")["hits"].sum()
            ),
        )
        result = report_sink.get().deliver(report)
        return MaterializeResult(metadata={
            "report": MetadataValue.path(result.location),
            "accounts delivered": result.delivered,
            "identification by country": markdown_table(report.summary.identification_by_country),
            "drop reasons": markdown_table(drops),
        })

    return [account_activity, account_reports]
