"""Enrichment: unique IPs become companies, unique URLs become topics, companies become accounts."""

import datetime as dt

import pandas as pd
from dagster import (
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetOut,
    AssetsDefinition,
    DailyPartitionsDefinition,
    Output,
    asset,
    multi_asset,
)

from enrichment.hit_chunks import HitChunks
from enrichment.matching import match_companies
from enrichment.quality import rate_outside
from enrichment.resolution import claim_account_ranges, classify_lookups
from enrichment.settings import QualitySettings
from enrichment.summary import attribute_day
from enrichment.tagging import tag_pages, untagged_pages
from pipelines.checks import partition_check, record_check, selected
from pipelines.metadata import markdown_table
from pipelines.partitions import Days, DaysOfHits, ranged_backfills
from pipelines.resources import IntentRulesResource, MaxMindResource

# Company decisions below this confidence rest on the name alone (see config/classification_rules.yaml).
WEAK_CONFIDENCE = 0.7


ATTRIBUTION_OUTPUTS = ("account_hits", "prospect_days", "prospect_topics", "prospect_pages", "traffic_counts")


def build_enrichment_assets(partitions: DailyPartitionsDefinition, quality: QualitySettings) -> list[AssetsDefinition]:
    band = quality.identification_rate

    @multi_asset(
        outs={"ip_companies": AssetOut(group_name="resolution")},
        partitions_def=partitions,
        backfill_policy=ranged_backfills(),
        can_subset=True,
        check_specs=[
            partition_check(
                "identification_rate",
                "ip_companies",
                partitions,
                f"Between {band.min:.0%} and {band.max:.0%} of clean hits come from company networks.",
            ),
            partition_check(
                "maxmind_database_age",
                "ip_companies",
                partitions,
                "MaxMind publishes weekly: warn when a database is older than the configured age.",
            ),
        ],
    )
    def ip_companies(
        context: AssetExecutionContext, clean_hits: DaysOfHits, maxmind: MaxMindResource, rules: IntentRulesResource
    ):
        """Each unique visitor IP of the day, resolved once with MaxMind and classified with its reason and
        confidence by the classification rules; a target account's own IP ranges are that account's."""
        databases = maxmind.opened
        accounts = rules.target_accounts()
        classification_rules = rules.classification_rules()
        age_days = (dt.datetime.now(dt.UTC) - databases.oldest_build).days
        companies, by_class = {}, []
        for day, chunks in clean_hits.items():
            # Chunks share no address: their hits per IP are the day's.
            hits_per_ip = pd.concat([hits["ip"].value_counts(sort=False) for hits in chunks.frames()])
            classified = classify_lookups(databases.lookup(hits_per_ip.index.to_numpy()), classification_rules)
            companies[day] = claim_account_ranges(classified, accounts)
            hits_by_class = _hits_by_classification(hits_per_ip, companies[day])
            by_class.append(hits_by_class)
            company_hits = int(hits_by_class.loc[hits_by_class["classification"] == "company", "hits"].sum())
            rate = company_hits / chunks.hits if chunks.hits else None
            record_check(
                context,
                "ip_companies",
                "identification_rate",
                day,
                passed=not rate_outside(company_hits, chunks.hits, band.min, band.max),
                metadata={"rate": round(rate, 4) if rate is not None else "no hits", "band": f"{band.min}–{band.max}"},
            )
            record_check(
                context,
                "ip_companies",
                "maxmind_database_age",
                day,
                passed=age_days <= maxmind.max_age_days,
                severity=AssetCheckSeverity.WARN,
                metadata={"oldest build (days)": age_days, "limit (days)": maxmind.max_age_days},
            )
        totals = pd.concat(by_class).groupby("classification", as_index=False)["hits"].sum()
        every_day = pd.concat(companies.values(), ignore_index=True)
        weak = (every_day["classification"] == "company") & (every_day["confidence"] < WEAK_CONFIDENCE)
        yield Output(
            companies,
            "ip_companies",
            metadata={
                "unique IPs": len(every_day),
                "hits by classification": markdown_table(totals.sort_values("hits", ascending=False)),
                "classification rules version": every_day["rules_version"].iloc[0] if len(every_day) else "",
                f"company IPs on weak evidence (confidence < {WEAK_CONFIDENCE})": int(weak.sum()),
            },
        )

    @asset(partitions_def=partitions, group_name="tagging", backfill_policy=ranged_backfills())
    def page_tags(context: AssetExecutionContext, clean_hits: DaysOfHits, rules: IntentRulesResource):
        """Topic, funnel stage and content type of each unique URL read that day."""
        taxonomy = rules.taxonomy()
        tags, untagged = {}, []
        for day, chunks in clean_hits.items():
            url_hits, titles = _url_hits_and_titles(chunks)
            tags[day] = tag_pages(url_hits.index, taxonomy, titles=titles.to_dict())
            # The day's hit count per URL lets a report window rank untagged pages without the hits.
            tags[day]["hits"] = url_hits.reindex(tags[day]["url"]).to_numpy()
            untagged.append(untagged_pages(tags[day], url_hits))
        all_untagged = pd.concat(untagged).groupby("url", as_index=False)["hits"].sum()
        return Output(
            tags,
            metadata={
                "pages": sum(len(frame) for frame in tags.values()),
                "untagged pages": markdown_table(all_untagged.sort_values("hits", ascending=False)),
            },
        )

    @asset(partitions_def=partitions, group_name="matching", backfill_policy=ranged_backfills())
    def account_matches(ip_companies: Days, rules: IntentRulesResource):
        """Company IPs matched to target accounts (IP range, domain, name, alias, fuzzy); the rest are prospects."""
        accounts = rules.target_accounts()
        matches = {}
        for day, companies in ip_companies.items():
            company_ips = companies.loc[companies["classification"] == "company", ["ip", "organization", "domain"]]
            matches[day] = match_companies(company_ips, accounts, fuzzy_threshold=rules.fuzzy_match_threshold)
        every_day = pd.concat(matches.values(), ignore_index=True)
        matched = every_day.dropna(subset=["account_id"])
        by_account = matched.groupby(["account_id", "matched_by"]).size().rename("IPs").reset_index()
        return Output(
            matches,
            metadata={
                "matched IPs": len(matched),
                "prospect IPs": len(every_day) - len(matched),
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
            "prospect_pages": AssetOut(
                group_name="matching",
                description="Per company not on the account list: the day's pages with a funnel stage, to score it as accounts are.",
            ),
            "traffic_counts": AssetOut(
                group_name="matching",
                description="The day's hits and visits counted by country and classification: all that is kept of people at home, on mobile or behind a VPN.",
            ),
        },
        partitions_def=partitions,
        backfill_policy=ranged_backfills(),
        can_subset=True,
    )
    def attribution(
        context: AssetExecutionContext,
        clean_hits: DaysOfHits,
        ip_companies: Days,
        account_matches: Days,
        page_tags: Days,
        rules: IntentRulesResource,
    ):
        """Join the day's hits to companies, accounts and topics; keep target accounts' hits, count the rest.

        Reports read a window of days: counts per prospect and day keep that cheap however
        busy the site, while the accounts sales follows keep every hit for their digital path.
        A busy day is attributed in chunks of addresses (``attribute_day``).
        """
        salt = rules.salt()
        outputs: dict[str, Days] = {name: {} for name in ATTRIBUTION_OUTPUTS}
        for day, chunks in clean_hits.items():
            attributed = attribute_day(
                chunks, ip_companies[day], account_matches[day], page_tags[day], visitor_salt=salt
            )
            outputs["account_hits"][day] = attributed.account_hits
            outputs["prospect_days"][day] = attributed.prospects.days
            outputs["prospect_topics"][day] = attributed.prospects.topics
            outputs["prospect_pages"][day] = attributed.prospects.pages
            outputs["traffic_counts"][day] = attributed.traffic_counts
        account_hits = pd.concat(outputs["account_hits"].values(), ignore_index=True)
        prospect_days = pd.concat(outputs["prospect_days"].values(), ignore_index=True)
        metadata = {
            "account_hits": {"accounts": account_hits["account_id"].nunique()},
            "prospect_days": {
                "prospects": len(prospect_days),
                "prospect page views": int(prospect_days["pageviews"].sum()),
            },
        }
        for name, frames in outputs.items():
            if selected(context, name):
                yield Output(frames, name, metadata=metadata.get(name, {}))

    return [ip_companies, page_tags, account_matches, attribution]


def _hits_by_classification(hits_per_ip: pd.Series, companies: pd.DataFrame) -> pd.DataFrame:
    classification = companies.set_index("ip")["classification"].reindex(hits_per_ip.index)
    return hits_per_ip.groupby(classification.to_numpy()).sum().rename_axis("classification").reset_index(name="hits")


def _url_hits_and_titles(chunks: HitChunks) -> tuple[pd.Series, pd.Series]:
    """Hits per URL, most first, and the first title seen for each URL that has one."""
    counts, titles = [], []
    for hits in chunks.frames():
        counts.append(hits["url"].value_counts())
        titles.append(hits.dropna(subset=["page_title"]).drop_duplicates("url").set_index("url")["page_title"])
    url_hits = pd.concat(counts).groupby(level=0, sort=False).sum().sort_values(ascending=False, kind="stable")
    first_titles = pd.concat(titles)
    return url_hits, first_titles[~first_titles.index.duplicated()]
