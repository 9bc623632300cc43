"""The warehouse schema: every table declared once, with real types and personal-data tags.

Migrations (``connectors.migrations``) bring a database to this schema; the warehouse
writes and reads only what is declared here. To add a column: declare it in the table's
module and add a migration (``alembic revision``, see the README).
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from connectors.schema import enrichment, ingestion, reporting
from connectors.schema.columns import (
    LIST_SEPARATOR,
    PARTITION_COLUMN,
    TIMESTAMP,
    WAREHOUSE,
    Personal,
    in_chunks_of_addresses,
    is_listed,
    personal_kind,
)

__all__ = [
    "LIST_SEPARATOR",
    "PARTITION_COLUMN",
    "TIMESTAMP",
    "WAREHOUSE",
    "Personal",
    "enrichment",
    "in_chunks_of_addresses",
    "ingestion",
    "is_listed",
    "personal_columns",
    "personal_kind",
    "reporting",
]


def personal_columns(
    metadata: sa.MetaData = WAREHOUSE, kinds: frozenset[Personal] | None = None
) -> Iterator[sa.Column]:
    """Every column tagged as personal data (of one of ``kinds`` when given), table by table."""
    for table in metadata.sorted_tables:
        for column in table.columns:
            kind = personal_kind(column)
            if kind is not None and (kinds is None or kind in kinds):
                yield column
