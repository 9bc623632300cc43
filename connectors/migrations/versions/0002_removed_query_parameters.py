"""Removed query parameters: per day, the names of the query parameters scrubbing took out of hits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLE = "removed_query_parameters"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("parameter", sa.Text, nullable=False),
        sa.Column("hits", sa.BigInteger, nullable=False),
        sa.Column("partition_key", sa.Date, nullable=False),
    )
    op.create_index(f"ix_{TABLE}_partition", TABLE, ["partition_key"])


def downgrade() -> None:
    op.drop_table(TABLE)
