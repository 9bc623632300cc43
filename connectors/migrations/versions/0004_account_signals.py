"""Signals beside own-site intent: the window's trigger events and Company Surge topics per account.

Windows written before this revision have no signals; their accounts show none until the
window is reported again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_signals",
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        *(sa.Column(name, sa.Text) for name in ("type", "title", "source_url", "topic")),
        sa.Column("composite_score", sa.Double),
        sa.Column("partition_key", sa.Date, nullable=False),
    )
    op.create_index("ix_account_signals_partition", "account_signals", ["partition_key"])
    with op.batch_alter_table("account_activity") as table:
        table.add_column(sa.Column("trigger_events", sa.BigInteger))
        table.add_column(sa.Column("surge_topics", sa.Text))
        table.add_column(sa.Column("signal_score", sa.Double))


def downgrade() -> None:
    with op.batch_alter_table("account_activity") as table:
        for column in ("signal_score", "surge_topics", "trigger_events"):
            table.drop_column(column)
    op.drop_index("ix_account_signals_partition", table_name="account_signals")
    op.drop_table("account_signals")
