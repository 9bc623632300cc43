"""Resolution, tagging and matching: per-day tables of companies, pages, accounts and counts."""

from __future__ import annotations

import sqlalchemy as sa

from connectors.schema.columns import TIMESTAMP, Personal, daily_table, personal
from connectors.schema.ingestion import hit_columns

IP_COMPANIES = daily_table(
    "ip_companies",
    sa.Column("ip", sa.Text, nullable=False, **personal(Personal.IP_ADDRESS)),
    sa.Column("network", sa.Text, **personal(Personal.NETWORK)),
    sa.Column("organization", sa.Text, **personal(Personal.ORGANIZATION)),
    # Small ISPs are often sole proprietors: their names are people's names.
    sa.Column("isp", sa.Text, **personal(Personal.ORGANIZATION)),
    sa.Column("domain", sa.Text),
    sa.Column("asn", sa.BigInteger),
    sa.Column("as_organization", sa.Text, **personal(Personal.ORGANIZATION)),
    sa.Column("country", sa.Text),
    sa.Column("connection_type", sa.Text),
    sa.Column("user_type", sa.Text),
    sa.Column("mobile_country_code", sa.Text),
    sa.Column("mobile_network_code", sa.Text),
    sa.Column("is_anonymous", sa.Boolean),
    sa.Column("is_anonymous_vpn", sa.Boolean),
    sa.Column("is_hosting_provider", sa.Boolean),
    sa.Column("is_public_proxy", sa.Boolean),
    sa.Column("is_tor_exit_node", sa.Boolean),
    sa.Column("is_residential_proxy", sa.Boolean),
    sa.Column("database_epoch", sa.BigInteger),
    sa.Column("sources", sa.Text),
    sa.Column("classification", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("confidence", sa.Double),
    sa.Column("rules_version", sa.Text),
)

PAGE_TAGS = daily_table(
    "page_tags",
    sa.Column("url", sa.Text, nullable=False, **personal(Personal.URL)),
    sa.Column("path", sa.Text),
    sa.Column("topics", sa.Text),
    sa.Column("stage", sa.Text),
    sa.Column("content_type", sa.Text),
    sa.Column("excluded_from_intent", sa.Boolean, nullable=False),
    sa.Column("rule", sa.Text),
    sa.Column("hits", sa.BigInteger, nullable=False),
)

ACCOUNT_MATCHES = daily_table(
    "account_matches",
    sa.Column("ip", sa.Text, nullable=False, **personal(Personal.IP_ADDRESS)),
    sa.Column("organization", sa.Text, **personal(Personal.ORGANIZATION)),
    sa.Column("domain", sa.Text),
    sa.Column("account_id", sa.Text),
    sa.Column("matched_by", sa.Text),
    sa.Column("confidence", sa.Double),
)

ACCOUNT_HITS = daily_table(
    "account_hits",
    *hit_columns(),
    sa.Column("network", sa.Text, **personal(Personal.NETWORK)),
    sa.Column("organization", sa.Text, **personal(Personal.ORGANIZATION)),
    sa.Column("domain", sa.Text),
    sa.Column("country", sa.Text),
    sa.Column("classification", sa.Text),
    sa.Column("account_id", sa.Text, nullable=False),
    sa.Column("matched_by", sa.Text),
    sa.Column("path", sa.Text),
    sa.Column("topics", sa.Text),
    sa.Column("stage", sa.Text),
    sa.Column("content_type", sa.Text),
    sa.Column("excluded_from_intent", sa.Boolean, nullable=False),
    sa.Column("visitor_key", sa.Text, **personal(Personal.VISITOR_KEY)),
    sa.Column("visit_id", sa.Text, **personal(Personal.VISIT_ID)),
)

PROSPECT_DAYS = daily_table(
    "prospect_days",
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("organization", sa.Text, **personal(Personal.ORGANIZATION)),
    sa.Column("domain", sa.Text),
    sa.Column("country", sa.Text),
    sa.Column("visits", sa.BigInteger, nullable=False),
    sa.Column("pageviews", sa.BigInteger, nullable=False),
    sa.Column("last_seen", TIMESTAMP, nullable=False),
)

PROSPECT_TOPICS = daily_table(
    "prospect_topics",
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("organization", sa.Text, **personal(Personal.ORGANIZATION)),
    sa.Column("domain", sa.Text),
    sa.Column("country", sa.Text),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("pageviews", sa.BigInteger, nullable=False),
)

PROSPECT_PAGES = daily_table(
    "prospect_pages",
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("organization", sa.Text, **personal(Personal.ORGANIZATION)),
    sa.Column("domain", sa.Text),
    sa.Column("country", sa.Text),
    sa.Column("path", sa.Text),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text),
    sa.Column("pageviews", sa.BigInteger, nullable=False),
)

TRAFFIC_COUNTS = daily_table(
    "traffic_counts",
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("classification", sa.Text, nullable=False),
    sa.Column("resolved", sa.Boolean, nullable=False),
    sa.Column("target_account", sa.Boolean, nullable=False),
    sa.Column("hits", sa.BigInteger, nullable=False),
    sa.Column("visits", sa.BigInteger, nullable=False),
    sa.Column("ips", sa.BigInteger, nullable=False),
)
