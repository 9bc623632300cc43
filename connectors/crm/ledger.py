"""The delivery ledger: what each CRM sink delivered, per account and report window.

One row per ``(account_id, window_end, sink)`` holds the remote ids (company, note), a
hash of the payload last sent, the account's intent score, a status, the number of
attempts and the last error. Statuses move like this:

    in_flight ──► delivered | failed | not_found

A row is marked ``in_flight`` *before* the remote call. A row still ``in_flight`` at the
start of a run means an earlier run stopped between the CRM call and the ledger write:
the CRM may hold a note that the ledger does not know about, so the sink must look for
it before creating one. An unchanged payload of a ``delivered`` row is not sent again.
Forgetting an account (``connectors.crm.forget``) drops its rows once the CRM holds
nothing of it any more.

Owner alerts (``connectors.alerts.delivery``) keep each alert and digest they sent here too,
under sink names of their own (``slack:hot``, ``email:digest``).

The table is declared in ``connectors.schema`` with the rest of the warehouse and created
on first use; it works on SQLite and PostgreSQL (SQLAlchemy Core).
Error texts are stored as given: callers pass texts that are already free of secrets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from connectors.schema.reporting import CRM_DELIVERIES

DEFAULT_TABLE = CRM_DELIVERIES.name
# Long enough for HubSpot's validation messages, short enough to keep the table lean.
MAX_ERROR_CHARS = 2_000
_UPSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class DeliveryStatus(StrEnum):
    IN_FLIGHT = "in_flight"
    DELIVERED = "delivered"
    FAILED = "failed"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class LedgerEntry:
    """One account's delivery of one window to one sink."""

    account_id: str
    window_end: dt.date
    sink: str
    status: DeliveryStatus
    payload_hash: str | None
    intent_score: float | None
    company_id: str | None
    note_id: str | None
    attempts: int
    last_error: str | None
    updated_at: dt.datetime

    def is_delivered(self, payload_hash: str) -> bool:
        """True when exactly this payload already reached the sink."""
        return self.status is DeliveryStatus.DELIVERED and self.payload_hash == payload_hash


@dataclass(frozen=True)
class Attempt:
    """An account about to be sent (or found missing): what the ledger records beforehand."""

    account_id: str
    payload_hash: str
    intent_score: float | None
    company_id: str | None = None


class DeliveryLedger:
    """Reads and records deliveries in one table of any SQLAlchemy database."""

    def __init__(self, url_or_engine: str | Engine, *, table: str = DEFAULT_TABLE) -> None:
        self.engine = sa.create_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        self.table = CRM_DELIVERIES if table == DEFAULT_TABLE else CRM_DELIVERIES.to_metadata(sa.MetaData(), name=table)
        self.table.create(self.engine, checkfirst=True)

    def entries(self, sink: str, window_end: dt.date) -> dict[str, LedgerEntry]:
        """Every account's entry for one window of one sink, by account id."""
        query = sa.select(self.table).where(self.table.c.sink == sink, self.table.c.window_end == window_end)
        with self.engine.connect() as connection:
            return {row.account_id: _entry(row) for row in connection.execute(query)}

    def previous_scores(self, sink: str, window_end: dt.date, account_ids: Iterable[str]) -> dict[str, float]:
        """Each account's intent score in its latest earlier window of this sink, if it had one."""
        columns = self.table.c
        query = (
            sa.select(columns.account_id, columns.intent_score)
            .where(
                columns.sink == sink,
                columns.window_end < window_end,
                columns.account_id.in_(list(account_ids)),
                columns.intent_score.is_not(None),
            )
            .order_by(columns.window_end)
        )
        with self.engine.connect() as connection:
            # Ordered by window: the latest window's score overwrites the earlier ones.
            return {row.account_id: row.intent_score for row in connection.execute(query)}

    def entries_of_accounts(self, sink: str, account_ids: Iterable[str]) -> list[LedgerEntry]:
        """Every entry of these accounts for one sink, whatever the window, oldest window first."""
        columns = self.table.c
        query = (
            sa.select(self.table)
            .where(columns.sink == sink, columns.account_id.in_(sorted(set(account_ids))))
            .order_by(columns.window_end, columns.account_id)
        )
        with self.engine.connect() as connection:
            return [_entry(row) for row in connection.execute(query)]

    def record_owners(self, sink: str, company_ids: Iterable[str]) -> dict[str, str]:
        """The account of the latest delivery that wrote each CRM record, by record id."""
        columns = self.table.c
        query = (
            sa.select(columns.company_id, columns.account_id)
            .where(columns.sink == sink, columns.company_id.in_(sorted(set(company_ids))))
            .order_by(columns.window_end, columns.updated_at)
        )
        with self.engine.connect() as connection:
            # Ordered by window: the latest delivery's account overwrites the earlier ones.
            return {row.company_id: row.account_id for row in connection.execute(query)}

    def forget(self, sink: str, account_ids: Iterable[str]) -> int:
        """Drop every entry of these accounts for one sink (the CRM holds nothing of theirs any more)."""
        columns = self.table.c
        statement = sa.delete(self.table).where(columns.sink == sink, columns.account_id.in_(sorted(set(account_ids))))
        with self.engine.begin() as connection:
            return connection.execute(statement).rowcount

    def mark_in_flight(self, sink: str, window_end: dt.date, attempts: Sequence[Attempt]) -> None:
        """Record that these accounts are about to be sent; counts one more attempt each."""
        self._upsert(sink, window_end, attempts, DeliveryStatus.IN_FLIGHT)

    def mark_not_found(self, sink: str, window_end: dt.date, attempts: Sequence[Attempt]) -> None:
        """Record that no CRM record matched these accounts; they are looked up again next run."""
        self._upsert(sink, window_end, attempts, DeliveryStatus.NOT_FOUND)

    def mark_delivered(self, sink: str, window_end: dt.date, note_ids: Mapping[str, str]) -> None:
        """Record accounts the CRM confirmed, with the id of each account's note."""
        self._update(
            sink,
            window_end,
            [{"key": account_id, "new_note_id": note_id} for account_id, note_id in note_ids.items()],
            status=DeliveryStatus.DELIVERED.value,
            note_id=sa.bindparam("new_note_id"),
            last_error=None,
        )

    def mark_failed(self, sink: str, window_end: dt.date, errors: Mapping[str, str]) -> None:
        """Record accounts the CRM rejected, with its reason; they are sent again next run."""
        self._update(
            sink,
            window_end,
            [{"key": account_id, "error": error[:MAX_ERROR_CHARS]} for account_id, error in errors.items()],
            status=DeliveryStatus.FAILED.value,
            last_error=sa.bindparam("error"),
        )

    def note_error(self, sink: str, window_end: dt.date, account_ids: Iterable[str], error: str) -> None:
        """Attach an error to entries without changing their status (a run stopped while they were in flight)."""
        self._update(
            sink,
            window_end,
            [{"key": account_id} for account_id in account_ids],
            last_error=error[:MAX_ERROR_CHARS],
        )

    def _upsert(self, sink: str, window_end: dt.date, attempts: Sequence[Attempt], status: DeliveryStatus) -> None:
        if not attempts:
            return
        now = _now()
        rows = [
            {
                "account_id": attempt.account_id,
                "window_end": window_end,
                "sink": sink,
                "status": status.value,
                "payload_hash": attempt.payload_hash,
                "intent_score": attempt.intent_score,
                "company_id": attempt.company_id,
                "attempts": 1,
                "updated_at": now,
            }
            for attempt in attempts
        ]
        with self.engine.begin() as connection:
            insert = _UPSERTS[connection.dialect.name](self.table)
            excluded = insert.excluded
            statement = insert.on_conflict_do_update(
                index_elements=["account_id", "window_end", "sink"],
                set_={
                    "status": excluded.status,
                    "payload_hash": excluded.payload_hash,
                    "intent_score": excluded.intent_score,
                    # A company found earlier stays known if this lookup came back empty-handed.
                    "company_id": sa.func.coalesce(excluded.company_id, self.table.c.company_id),
                    "attempts": self.table.c.attempts + 1,
                    "updated_at": excluded.updated_at,
                },
            )
            connection.execute(statement, rows)

    def _update(self, sink: str, window_end: dt.date, rows: list[dict[str, Any]], **values: Any) -> None:
        if not rows:
            return
        columns = self.table.c
        statement = (
            sa.update(self.table)
            .where(columns.sink == sink, columns.window_end == window_end, columns.account_id == sa.bindparam("key"))
            .values(updated_at=_now(), **values)
        )
        with self.engine.begin() as connection:
            connection.execute(statement, rows)


def _entry(row: sa.Row[Any]) -> LedgerEntry:
    values = row._asdict()
    values["status"] = DeliveryStatus(values["status"])
    return LedgerEntry(**values)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
