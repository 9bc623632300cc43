"""The building blocks of the declared warehouse: its metadata, column types and personal-data tags.

Every column that may hold personal data carries ``info={"personal": <kind>}``. Retention,
``forget`` and the README's data inventory find personal data by these tags, never by
column names, so a renamed or added column is covered as soon as it is declared.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

WAREHOUSE = sa.MetaData()
"""Every table of the warehouse, as the newest migration leaves it."""

PARTITION_COLUMN = "partition_key"

# A timestamp with time zone. PostgreSQL stores the instant; SQLite stores UTC as ISO 8601
# text ('T' between date and time, as every release has written it), so text order is time order.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(
    sqlite.DATETIME(
        storage_format="%(year)04d-%(month)02d-%(day)02dT%(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
    ),
    "sqlite",
)


class Personal(StrEnum):
    """Kinds of personal data a column may hold; each kind has one retention rule."""

    IP_ADDRESS = "ip_address"  # a visitor's address
    NETWORK = "network"  # the network of an address (as telling as the address when it is small)
    RAW_LINE = "raw_line"  # a log line as written, address and all
    VISITOR_KEY = "visitor_key"  # a pseudonymous visitor: the site's visitor id or our keyed hash
    VISIT_ID = "visit_id"  # one visit (or the site's session) of such a visitor
    ORGANIZATION = "organization"  # a MaxMind organization or ISP name, which may be a person's
    URL = "url"  # a page or referrer URL, whose query string may name someone


LIST_SEPARATOR = ";"
_IN_CHUNKS_OF_ADDRESSES = "in_chunks_of_addresses"


def personal(kind: Personal, *, listed: bool = False) -> dict[str, Any]:
    """Column keyword arguments tagging it as ``kind``; ``listed``: values are ";"-separated lists."""
    return {"info": {"personal": kind, "listed": listed}}


def personal_kind(column: sa.Column) -> Personal | None:
    """The kind of personal data ``column`` is tagged with, if any."""
    return column.info.get("personal")


def is_listed(column: sa.Column) -> bool:
    """Whether the column holds ``LIST_SEPARATOR``-separated lists of values."""
    return column.info.get("listed", False)


def daily_table(name: str, *columns: sa.Column, in_chunks_of_addresses: bool = False) -> sa.Table:
    """A table with one partition per UTC day: ``partition_key`` is the day, indexed.

    ``in_chunks_of_addresses``: a day of it goes from step to step in chunks of addresses
    (``enrichment.hit_chunks``), however it was stored, so that what reads it works a busy day
    one chunk at a time.
    """
    return sa.Table(
        name,
        WAREHOUSE,
        *columns,
        sa.Column(PARTITION_COLUMN, sa.Date, nullable=False),
        sa.Index(f"ix_{name}_partition", PARTITION_COLUMN),
        info={_IN_CHUNKS_OF_ADDRESSES: in_chunks_of_addresses},
    )


def in_chunks_of_addresses(table: sa.Table) -> bool:
    """Whether a day of ``table`` goes from step to step in chunks of addresses (see ``daily_table``)."""
    return table.info.get(_IN_CHUNKS_OF_ADDRESSES, False)
