"""Enrichment: unique IPs become companies, unique URLs become topics, companies become accounts."""

import datetime as dt

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetOut,
    AssetsDefinition,
    DailyPartitionsDefinition,
    Output,
    asset,
    multi_asset,
)

from enrichment.attribution import attribute_hits
from enrichment.matching import match_companies
from enrichment.resolution import claim_account_ranges, classify_lookups
from enrichment.settings import QualitySettings
from enrichment.summary import count_traffic, prospect_activity
from enrichment.tagging import tag_pages, untagged_pages
from pipelines.metadata import markdown_table
from pipelines.resources import IntentRulesResource, MaxMindResource

# Company decisions below this confidence rest on the name alone (see config/classification_rules.yaml).
WEAK_CONFIDENCE = 0.7


def build_enrichment_assets(partitions: DailyPartitionsDefinition, quality: QualitySettings) -> list[AssetsDefinition]:
    band = quality.identification_rate

    @asset(
        partitions_def=partitions,
        group_name="resolution",
        check_specs=[
            AssetCheckSpec(
                "identification_rate",
                asset="ip_companies",
                description=f"Between {band.min:.0%} and {band.max:.0%} of clean hits come from company networks.",
            ),
            AssetCheckSpec(
                "maxmind_database_age",
                asset="ip_companies",
                description="MaxMind publishes weekly: warn when a database is older than the configured age.",
            ),
        ],
    )
    def ip_companies(
        context: AssetExecutionContext, clean_hits: pd.DataFrame, maxmind: MaxMindResource, rules: IntentRulesResource
    ):
        """Each unique visitor IP of the day, resolved once with MaxMind and classified with its reason and
        confidence by the classification rules; a target account's own IP ranges are that account's."""
        databases = maxmind.opened
        classified = classify_lookups(databases.lookup(clean_hits["ip"].unique()))
        companies = claim_account_ranges(classified, rules.target_accounts())
        hits_by_class = (
            clean_hits[["ip"]]
            .merge(companies[["ip", "classification"]], on="ip", how="left")
            .groupby("classification")
            .size()
            .rename("hits")
            .reset_index()
            .sort_values("hits", ascending=False)
        )
        company_hits = int(hits_by_class.loc[hits_by_class["classification"] == "company", "hits"].sum())
        rate = company_hits / len(clean_hits) if len(clean_hits) else None
        weak = (companies["classification"] == "company") & (companies["confidence"] < WEAK_CONFIDENCE)
        yield Output(
            companies,
            metadata={
                "unique IPs": len(companies),
                "hits by classification": markdown_table(hits_by_class),
                "classification rules version": companies["rules_version"].iloc[0] if len(companies) else "",
                f"company IPs on weak evidence (confidence < {WEAK_CONFIDENCE})": int(weak.sum()),
            },
        )
        yield AssetCheckResult(
            check_name="identification_rate",
            passed=rate is None or band.min <= rate <= band.max,
            metadata={"rate": round(rate, 4) if rate is not None else "no hits", "band": f"{band.min}–{band.max}"},
        )
        age_days = (dt.datetime.now(dt.UTC) - databases.oldest_build).days
        yield AssetCheckResult(
            check_name="maxmind_database_age",
            passed=age_days <= maxmind.max_age_days,
            severity=AssetCheckSeverity.WARN,
            metadata={"oldest build (days)": age_days, "limit (days)": maxmind.max_age_days},
        )

    @asset(partitions_def=partitions, group_name="tagging")
    def page_tags(context: AssetExecutionContext, clean_hits: pd.DataFrame, rules: IntentRulesResource):
        """Topic, funnel stage and content type of each unique URL read that day."""
        titles = clean_hits.dropna(subset=["page_title"]).drop_duplicates("url").set_index("url")["page_title"]
        url_hits = clean_hits["url"].value_counts()
        tags = tag_pages(url_hits.index, rules.taxonomy(), titles=titles.to_dict())
        # The day's hit count per URL lets a report window rank untagged pages without the hits.
        tags["hits"] = url_hits.reindex(tags["url"]).to_numpy()
        untagged = untagged_pages(tags, url_hits)
        return Output(tags, metadata={"pages": len(tags), "untagged pages": markdown_table(untagged)})

    @asset(partitions_def=partitions, group_name="matching")
    def account_matches(ip_companies: pd.DataFrame, rules: IntentRulesResource):
        """Company IPs matched to target accounts (IP range, domain, name, alias, fuzzy); the rest are prospects."""
        companies = ip_companies.loc[ip_companies["classification"] == "company", ["ip", "organization", "domain"]]
        matches = match_companies(companies, rules.target_accounts(), fuzzy_threshold=rules.fuzzy_match_threshold)
        matched = matches.dropna(subset=["account_id"])
        by_account = matched.groupby(["account_id", "matched_by"]).size().rename("IPs").reset_index()
        return Output(
            matches,
            metadata={
                "matched IPs": len(matched),
                "prospect IPs": len(matches) - len(matched),
                "accounts": markdown_table(by_account),
            },
        )

    @multi_asset(
        outs={
            "account_hits": AssetOut(
                group_name="matching",
                description="Hits from target accounts' networks with their account, topics, stage, visitor and visit.",
            ),
            "prospect_days": AssetOut(
                group_name="matching",
                description="Per company not on the account list: the day's visits, page views and last hit.",
            ),
            "prospect_topics": AssetOut(
                group_name="matching", description="Per company not on the account list: the day's page views by topic."
            ),
            "traffic_counts": AssetOut(
                group_name="matching",
                description="The day's hits and visits counted by country and classification: all that is kept of people at home, on mobile or behind a VPN.",
            ),
        },
        partitions_def=partitions,
    )
    def attribution(
        clean_hits: pd.DataFrame,
        ip_companies: pd.DataFrame,
        account_matches: pd.DataFrame,
        page_tags: pd.DataFrame,
        rules: IntentRulesResource,
    ):
        """Join the day's hits to companies, accounts and topics; keep target accounts' hits, count the rest.

        Reports read a window of days: counts per prospect and day keep that cheap however
        busy the site, while the accounts sales follows keep every hit for their digital path.
        """
        hits = attribute_hits(clean_hits, ip_companies, account_matches, page_tags, visitor_salt=rules.salt())
        account_hits = hits[(hits["classification"] == "company") & hits["account_id"].notna()]
        prospect_days, prospect_topics = prospect_activity(hits)
        yield Output(account_hits, "account_hits", metadata={"accounts": account_hits["account_id"].nunique()})
        yield Output(
            prospect_days,
            "prospect_days",
            metadata={
                "prospects": len(prospect_days),
                "prospect page views": int(prospect_days["pageviews"].sum()),
            },
        )
        yield Output(prospect_topics, "prospect_topics")
        yield Output(count_traffic(hits), "traffic_counts")

    return [ip_companies, page_tags, account_matches, attribution]
