"""Prospects' pages per day: what scoring prospects like target accounts needs.

Days written before this revision have no prospect pages; their prospects score 0 until
the days are processed again (``visitor-intent run`` over their logs).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prospect_pages",
        sa.Column("day", sa.Date, nullable=False),
        *(sa.Column(name, sa.Text) for name in ("organization", "domain", "country", "path")),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text),
        sa.Column("pageviews", sa.BigInteger, nullable=False),
        sa.Column("partition_key", sa.Date, nullable=False),
    )
    op.create_index("ix_prospect_pages_partition", "prospect_pages", ["partition_key"])


def downgrade() -> None:
    op.drop_index("ix_prospect_pages_partition", table_name="prospect_pages")
    op.drop_table("prospect_pages")
