"""Report windows' tables (partitioned by the window's last day) and the CRM delivery ledger."""

from __future__ import annotations

import sqlalchemy as sa

from connectors.schema.columns import TIMESTAMP, WAREHOUSE, Personal, daily_table, personal

ACCOUNT_ACTIVITY = daily_table(
    "account_activity",
    sa.Column("account_id", sa.Text, nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("crm_id", sa.Text),
    sa.Column("owner", sa.Text),
    sa.Column("matched_by", sa.Text),
    sa.Column("organizations", sa.Text, **personal(Personal.ORGANIZATION, listed=True)),
    sa.Column("countries", sa.Text),
    sa.Column("visits", sa.BigInteger, nullable=False),
    sa.Column("pageviews", sa.BigInteger, nullable=False),
    sa.Column("visitors", sa.BigInteger, nullable=False),
    sa.Column("first_seen", TIMESTAMP),
    sa.Column("last_seen", TIMESTAMP),
    sa.Column("furthest_stage", sa.Text),
    sa.Column("top_topics", sa.Text),
    sa.Column("top_pages", sa.Text),
    sa.Column("intent_score", sa.Double),
    sa.Column("window_start", sa.Date, nullable=False),
    sa.Column("window_end", sa.Date, nullable=False),
    sa.Column("surge", sa.Double),
    sa.Column("surging", sa.Boolean, nullable=False),
    sa.Column("level", sa.Text),
    sa.Column("mqa", sa.Boolean, nullable=False),
    sa.Column("previous_score", sa.Double),
    sa.Column("score_change", sa.Double),
    sa.Column("previous_stage", sa.Text),
    sa.Column("movement", sa.Text),
    sa.Column("explanation", sa.Text),
    sa.Column("top_contributions", sa.Text),
    sa.Column("trigger_events", sa.BigInteger),
    sa.Column("surge_topics", sa.Text),
    sa.Column("signal_score", sa.Double),
)

# Trigger events and Company Surge topics per target account in the window (company-level
# facts from the landing folder: no personal data).
ACCOUNT_SIGNALS = daily_table(
    "account_signals",
    sa.Column("account_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("type", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("source_url", sa.Text),
    sa.Column("topic", sa.Text),
    sa.Column("composite_score", sa.Double),
)

DIGITAL_PATHS = daily_table(
    "digital_paths",
    sa.Column("account_id", sa.Text, nullable=False),
    sa.Column("timestamp", TIMESTAMP, nullable=False),
    sa.Column("visit_id", sa.Text, **personal(Personal.VISIT_ID)),
    sa.Column("url", sa.Text, **personal(Personal.URL)),
    sa.Column("topics", sa.Text),
    sa.Column("stage", sa.Text),
    sa.Column("content_type", sa.Text),
    sa.Column("excluded_from_intent", sa.Boolean, nullable=False),
    sa.Column("referrer", sa.Text, **personal(Personal.URL)),
)

ACCOUNT_MOVEMENTS = daily_table(
    "account_movements",
    sa.Column("account_id", sa.Text, nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("movement", sa.Text),
    sa.Column("previous_stage", sa.Text),
    sa.Column("furthest_stage", sa.Text),
    sa.Column("previous_score", sa.Double),
    sa.Column("intent_score", sa.Double),
    sa.Column("score_change", sa.Double),
)

DELIVERY_STATUSES = ("in_flight", "delivered", "failed", "not_found")

# What each CRM sink delivered, per account and report window (connectors.crm.ledger).
CRM_DELIVERIES = sa.Table(
    "crm_deliveries",
    WAREHOUSE,
    sa.Column("account_id", sa.String(200), primary_key=True),
    sa.Column("window_end", sa.Date, primary_key=True),
    sa.Column("sink", sa.String(50), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("payload_hash", sa.String(64)),
    sa.Column("intent_score", sa.Float),
    sa.Column("company_id", sa.String(64)),
    sa.Column("note_id", sa.String(64)),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(
        "status IN ({})".format(", ".join(f"'{status}'" for status in DELIVERY_STATUSES)),
        name="ck_crm_deliveries_status",
    ),
)
