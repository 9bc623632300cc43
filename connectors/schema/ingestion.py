"""Ingestion's tables: page views by people, what was dropped, lines that could not be parsed,
and which query parameters scrubbing removed."""

from __future__ import annotations

import sqlalchemy as sa

from connectors.schema.columns import TIMESTAMP, Personal, daily_table, personal


def hit_columns() -> list[sa.Column]:
    """A parsed hit's columns (``connectors.hits.HIT_COLUMNS``), for every table that keeps hits."""
    return [
        sa.Column("timestamp", TIMESTAMP, nullable=False),
        sa.Column("ip", sa.Text, nullable=False, **personal(Personal.IP_ADDRESS)),
        sa.Column("method", sa.Text),
        sa.Column("host", sa.Text),
        sa.Column("url", sa.Text, nullable=False, **personal(Personal.URL)),
        sa.Column("status", sa.BigInteger),
        sa.Column("referrer", sa.Text, **personal(Personal.URL)),
        sa.Column("user_agent", sa.Text),
        sa.Column("visitor_id", sa.Text, **personal(Personal.VISITOR_KEY)),
        sa.Column("session_id", sa.Text, **personal(Personal.VISIT_ID)),
        sa.Column("page_title", sa.Text),
        sa.Column("source_file", sa.Text, nullable=False),
        sa.Column("line_no", sa.BigInteger, nullable=False),
    ]


CLEAN_HITS = daily_table("clean_hits", *hit_columns(), in_chunks_of_addresses=True)

HIT_DROP_COUNTS = daily_table(
    "hit_drop_counts",
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("hits", sa.BigInteger, nullable=False),
)

QUARANTINED_LINES = daily_table(
    "quarantined_lines",
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("line_no", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    # Null once the quarantine's retention has passed: the file, line and reason stay.
    sa.Column("raw", sa.Text, **personal(Personal.RAW_LINE)),
)

# Names only (personal data in a name is masked), never values: what marketing may ask to allow.
REMOVED_QUERY_PARAMETERS = daily_table(
    "removed_query_parameters",
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("parameter", sa.Text, nullable=False),
    sa.Column("hits", sa.BigInteger, nullable=False),
)
