"""The declared schema: real types, a date partition key, every table created up front.

Upgrades a warehouse written before the schema was declared, where pandas created each
table from the first frame written to it (dates as text, no constraints), without losing
a row: each existing table is rebuilt with its declared types and its rows copied across.
A column this revision does not know stops the upgrade, naming it, rather than be dropped.

The tables are spelt out here as they were at this revision, so that later migrations
change them from a known state.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
# The delivery ledger created its table from this same declaration in every release.
ALREADY_DECLARED = {"crm_deliveries"}


def _hit_columns() -> list[sa.Column]:
    return [
        sa.Column("timestamp", TIMESTAMP, nullable=False),
        sa.Column("ip", sa.Text, nullable=False),
        sa.Column("method", sa.Text),
        sa.Column("host", sa.Text),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("status", sa.BigInteger),
        sa.Column("referrer", sa.Text),
        sa.Column("user_agent", sa.Text),
        sa.Column("visitor_id", sa.Text),
        sa.Column("session_id", sa.Text),
        sa.Column("page_title", sa.Text),
        sa.Column("source_file", sa.Text, nullable=False),
        sa.Column("line_no", sa.BigInteger, nullable=False),
    ]


def _daily(metadata: sa.MetaData, name: str, *columns: sa.Column) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        *columns,
        sa.Column("partition_key", sa.Date, nullable=False),
        sa.Index(f"ix_{name}_partition", "partition_key"),
    )


def _tables(metadata: sa.MetaData) -> list[sa.Table]:
    text, big, boolean, double, date = sa.Text, sa.BigInteger, sa.Boolean, sa.Double, sa.Date
    return [
        _daily(metadata, "clean_hits", *_hit_columns()),
        _daily(
            metadata,
            "hit_drop_counts",
            sa.Column("reason", text, nullable=False),
            sa.Column("hits", big, nullable=False),
        ),
        _daily(
            metadata,
            "quarantined_lines",
            sa.Column("source_file", text, nullable=False),
            sa.Column("line_no", big, nullable=False),
            sa.Column("reason", text, nullable=False),
            sa.Column("raw", text),
        ),
        _daily(
            metadata,
            "ip_companies",
            sa.Column("ip", text, nullable=False),
            *(sa.Column(name, text) for name in ("network", "organization", "isp", "domain")),
            sa.Column("asn", big),
            *(
                sa.Column(name, text)
                for name in (
                    "as_organization",
                    "country",
                    "connection_type",
                    "user_type",
                    "mobile_country_code",
                    "mobile_network_code",
                )
            ),
            *(
                sa.Column(name, boolean)
                for name in (
                    "is_anonymous",
                    "is_anonymous_vpn",
                    "is_hosting_provider",
                    "is_public_proxy",
                    "is_tor_exit_node",
                    "is_residential_proxy",
                )
            ),
            sa.Column("database_epoch", big),
            sa.Column("sources", text),
            sa.Column("classification", text, nullable=False),
            sa.Column("reason", text),
            sa.Column("confidence", double),
            sa.Column("rules_version", text),
        ),
        _daily(
            metadata,
            "page_tags",
            sa.Column("url", text, nullable=False),
            *(sa.Column(name, text) for name in ("path", "topics", "stage", "content_type")),
            sa.Column("excluded_from_intent", boolean, nullable=False),
            sa.Column("rule", text),
            sa.Column("hits", big, nullable=False),
        ),
        _daily(
            metadata,
            "account_matches",
            sa.Column("ip", text, nullable=False),
            *(sa.Column(name, text) for name in ("organization", "domain", "account_id", "matched_by")),
            sa.Column("confidence", double),
        ),
        _daily(
            metadata,
            "account_hits",
            *_hit_columns(),
            *(sa.Column(name, text) for name in ("network", "organization", "domain", "country", "classification")),
            sa.Column("account_id", text, nullable=False),
            *(sa.Column(name, text) for name in ("matched_by", "path", "topics", "stage", "content_type")),
            sa.Column("excluded_from_intent", boolean, nullable=False),
            sa.Column("visitor_key", text),
            sa.Column("visit_id", text),
        ),
        _daily(
            metadata,
            "prospect_days",
            sa.Column("day", date, nullable=False),
            *(sa.Column(name, text) for name in ("organization", "domain", "country")),
            sa.Column("visits", big, nullable=False),
            sa.Column("pageviews", big, nullable=False),
            sa.Column("last_seen", TIMESTAMP, nullable=False),
        ),
        _daily(
            metadata,
            "prospect_topics",
            sa.Column("day", date, nullable=False),
            *(sa.Column(name, text) for name in ("organization", "domain", "country")),
            sa.Column("topic", text, nullable=False),
            sa.Column("pageviews", big, nullable=False),
        ),
        _daily(
            metadata,
            "traffic_counts",
            sa.Column("day", date, nullable=False),
            sa.Column("country", text, nullable=False),
            sa.Column("classification", text, nullable=False),
            sa.Column("resolved", boolean, nullable=False),
            sa.Column("target_account", boolean, nullable=False),
            *(sa.Column(name, big, nullable=False) for name in ("hits", "visits", "ips")),
        ),
        _daily(
            metadata,
            "account_activity",
            sa.Column("account_id", text, nullable=False),
            *(
                sa.Column(name, text)
                for name in ("name", "crm_id", "owner", "matched_by", "organizations", "countries")
            ),
            *(sa.Column(name, big, nullable=False) for name in ("visits", "pageviews", "visitors")),
            sa.Column("first_seen", TIMESTAMP),
            sa.Column("last_seen", TIMESTAMP),
            *(sa.Column(name, text) for name in ("furthest_stage", "top_topics", "top_pages")),
            sa.Column("intent_score", double),
            sa.Column("window_start", date, nullable=False),
            sa.Column("window_end", date, nullable=False),
            sa.Column("surge", double),
            sa.Column("surging", boolean, nullable=False),
            sa.Column("level", text),
            sa.Column("mqa", boolean, nullable=False),
            sa.Column("previous_score", double),
            sa.Column("score_change", double),
            *(sa.Column(name, text) for name in ("previous_stage", "movement", "explanation", "top_contributions")),
        ),
        _daily(
            metadata,
            "digital_paths",
            sa.Column("account_id", text, nullable=False),
            sa.Column("timestamp", TIMESTAMP, nullable=False),
            *(sa.Column(name, text) for name in ("visit_id", "url", "topics", "stage", "content_type")),
            sa.Column("excluded_from_intent", boolean, nullable=False),
            sa.Column("referrer", text),
        ),
        _daily(
            metadata,
            "account_movements",
            sa.Column("account_id", text, nullable=False),
            *(sa.Column(name, text) for name in ("name", "movement", "previous_stage", "furthest_stage")),
            *(sa.Column(name, double) for name in ("previous_score", "intent_score", "score_change")),
        ),
        sa.Table(
            "crm_deliveries",
            metadata,
            sa.Column("account_id", sa.String(200), primary_key=True),
            sa.Column("window_end", date, primary_key=True),
            sa.Column("sink", sa.String(50), primary_key=True),
            sa.Column("status", sa.String(20), nullable=False),
            sa.Column("payload_hash", sa.String(64)),
            sa.Column("intent_score", sa.Float),
            sa.Column("company_id", sa.String(64)),
            sa.Column("note_id", sa.String(64)),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("last_error", text),
            sa.Column("updated_at", TIMESTAMP, nullable=False),
            sa.CheckConstraint(
                "status IN ('in_flight', 'delivered', 'failed', 'not_found')", name="ck_crm_deliveries_status"
            ),
        ),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for table in _tables(sa.MetaData()):
        if table.name not in existing:
            table.create(bind)
        elif table.name not in ALREADY_DECLARED:
            _rebuild(bind, table)


def downgrade() -> None:
    raise NotImplementedError("a warehouse cannot go back to tables without a declared schema")


def _rebuild(bind: sa.Connection, table: sa.Table) -> None:
    """Give an existing table ``table``'s declaration, keeping every row."""
    old_columns = {column["name"] for column in sa.inspect(bind).get_columns(table.name)}
    unknown = sorted(old_columns - set(table.c.keys()))
    if unknown:
        raise RuntimeError(f"{table.name}.{unknown[0]} is not part of the declared schema: nothing was changed")
    missing = [column.name for column in table.columns if column.name not in old_columns and not column.nullable]
    if missing:
        raise RuntimeError(f"{table.name} has no {missing[0]!r} column, which the declared schema requires")

    staging = sa.Table(
        f"{table.name}_0001",
        sa.MetaData(),
        *(sa.Column(column.name, column.type, nullable=column.nullable) for column in table.columns),
    )
    staging.create(bind)
    old = sa.table(table.name, *(sa.column(name) for name in old_columns))
    copied = [column for column in table.columns if column.name in old_columns]
    # PostgreSQL converts the text pandas left (dates, or anything first written empty);
    # SQLite keeps each value as stored, which is already what the declared type reads.
    values = [
        sa.cast(old.c[column.name], column.type) if bind.dialect.name == "postgresql" else old.c[column.name]
        for column in copied
    ]
    bind.execute(staging.insert().from_select([column.name for column in copied], sa.select(*values)))
    count = sa.select(sa.func.count())
    before, after = bind.scalar(count.select_from(old)), bind.scalar(count.select_from(staging))
    if before != after:
        raise RuntimeError(f"{table.name}: {before} rows before the rebuild, {after} after: nothing was changed")
    op.drop_table(table.name)  # its pandas-era index goes with it
    op.rename_table(staging.name, table.name)
    for index in table.indexes:
        index.create(bind)
