"""Alembic's environment: migrations run on the connection they are given, one upgrader at a time.

``visitor-intent db upgrade`` and ``connectors.migrations.ensure_current`` pass the
connection. For ``alembic`` on the command line (writing a new migration), the URL
comes from ``-x url=...`` or $VISITOR_INTENT_DATABASE_URL.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context

from connectors.schema import WAREHOUSE

# Any constant: the key of the PostgreSQL advisory lock that one upgrader holds at a time.
_UPGRADE_LOCK = 0x5649_4D49_4752_4154  # "VIMIGRAT"


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=WAREHOUSE, compare_type=True)
    with context.begin_transaction():
        # Taken before Alembic reads the version table: a second upgrader waits, then finds nothing to do.
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_UPGRADE_LOCK)))
        elif connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ["VISITOR_INTENT_DATABASE_URL"]
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()
