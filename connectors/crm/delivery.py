"""Delivery through the ledger: the steps every CRM sink takes, whatever the CRM.

A window reaches a CRM like this (``deliver_window``):

1. accounts whose exact payload the ledger already records as delivered are skipped;
2. the others' CRM records are looked up (by ``crm_id``, else by domain); accounts
   without one are recorded as ``not_found`` and looked up again next run;
3. when several accounts lead to one record, ``enrichment.record_claims`` says which
   one it carries; the others fail with the reason;
4. an account still ``in_flight`` from a run that stopped may already have its note
   (HubSpot note, Salesforce Task, Bitrix24 comment) in the CRM: it is looked up by its
   marker, never created twice;
5. every account is marked ``in_flight`` before the write, then ``delivered`` or ``failed``
   with the CRM's answer. One whose fate the CRM left unknown stays in flight, and is
   counted as such.

The CRM-specific half (lookups, batched writes) is a ``Destination``: each sink is one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from connectors.crm.ledger import Attempt, DeliveryLedger, DeliveryStatus, LedgerEntry
from connectors.crm.transport import CrmError
from connectors.crm.windows import AccountWindow
from connectors.sinks.base import SinkResult
from enrichment.record_claims import record_claims

OUTCOMES = ("delivered", "updated", "unchanged", "not_found", "failed")


@dataclass(frozen=True)
class Delivery:
    """What a sink sends for one account and window; the hash lets the ledger skip unchanged ones."""

    window: AccountWindow
    content: Any  # JSON-serialisable, sink-specific
    payload_hash: str

    @classmethod
    def of(cls, window: AccountWindow, content: Any) -> Delivery:
        payload = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return cls(window, content, hashlib.sha256(payload.encode()).hexdigest())

    @property
    def account_id(self) -> str:
        return self.window.account_id

    def attempt(self, record_id: str | None = None) -> Attempt:
        return Attempt(self.account_id, self.payload_hash, self.window.intent_score, record_id)


@dataclass(frozen=True)
class Target:
    """A delivery whose CRM record was found, with the note the record already has, if any."""

    delivery: Delivery
    record_id: str | None  # None where there is no record to find (a webhook)
    note_id: str | None


@dataclass
class SendOutcome:
    """What the CRM confirmed (note id by account id) and rejected (its reason by account id).

    An account in neither has an unknown fate: it stays in flight.
    """

    note_ids: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteResult:
    """A CRM's answer for one record of a batched write: the record's id, or why it failed.

    Neither (both None) means the CRM did not say: for a note, its fate is unknown.
    """

    record_id: str | None
    error: str | None = None


class Destination(Protocol):
    """The CRM-specific half of a sink: its lookups and its batched writes."""

    name: str

    @property
    def location(self) -> str: ...

    @property
    def dry_run(self) -> bool: ...

    def find_records(self, deliveries: Sequence[Delivery]) -> Mapping[str, str | None]:
        """The CRM record of each account that has one, by account id."""
        ...

    def find_notes(self, targets: Sequence[Target]) -> Mapping[str, str]:
        """Notes an interrupted run may have left, by account id (looked up by marker)."""
        ...

    def send(self, targets: Sequence[Target]) -> SendOutcome:
        """Write the records' fields and their notes (a new note where ``note_id`` is None)."""
        ...


def deliver_window(
    destination: Destination, ledger: DeliveryLedger, deliveries: Sequence[Delivery], window_end: dt.date
) -> SinkResult:
    """Deliver every changed account; details count delivered, updated, unchanged, not_found, failed.

    ``in_flight`` joins the details when the CRM left some accounts' fate unknown. In a
    dry run the destination records its writes instead of sending them and the ledger
    stays untouched. A ``CrmError`` is raised after the error is noted on the accounts in flight.
    """
    entries = ledger.entries(destination.name, window_end)
    pending = [
        d for d in deliveries if not (d.account_id in entries and entries[d.account_id].is_delivered(d.payload_hash))
    ]
    found = destination.find_records(pending) if pending else {}
    missing = [d for d in pending if d.account_id not in found]
    targets, conflicts = _claim_records([d for d in pending if d.account_id in found], found, entries)
    targets = _with_stray_notes(destination, targets, entries)
    unchanged = len(deliveries) - len(pending)
    if destination.dry_run:
        destination.send(targets)
        counts = Counter(unchanged=unchanged, not_found=len(missing), failed=len(conflicts))
        return _result(destination, counts, would_write=len(targets))

    sink = destination.name
    ledger.mark_not_found(sink, window_end, [d.attempt() for d in missing])
    ledger.mark_in_flight(
        sink, window_end, [t.delivery.attempt(t.record_id) for t in targets] + [d.attempt() for d, _ in conflicts]
    )
    ledger.mark_failed(sink, window_end, {d.account_id: reason for d, reason in conflicts})
    try:
        outcome = destination.send(targets)
    except CrmError as error:
        ledger.note_error(sink, window_end, [t.delivery.account_id for t in targets], str(error))
        raise
    ledger.mark_delivered(sink, window_end, outcome.note_ids)
    ledger.mark_failed(sink, window_end, outcome.failures)
    known_notes = {t.delivery.account_id for t in targets if t.note_id}
    counts = Counter(
        delivered=len(outcome.note_ids.keys() - known_notes),
        updated=len(outcome.note_ids.keys() & known_notes),
        unchanged=unchanged,
        not_found=len(missing),
        failed=len(outcome.failures) + len(conflicts),
    )
    in_flight = len(targets) - len(outcome.note_ids.keys() | outcome.failures.keys())
    return _result(destination, counts, **({"in_flight": in_flight} if in_flight else {}))


def write_records_then_notes(
    targets: Sequence[Target],
    *,
    update_records: Callable[[list[Target]], list[WriteResult]],
    update_notes: Callable[[list[Target]], list[WriteResult]],
    create_notes: Callable[[list[Target]], list[WriteResult]],
) -> SendOutcome:
    """Write the records' fields; then the notes of the records the CRM accepted.

    A known note (``note_id``) is updated, the others are created. An account whose record
    was rejected gets no note, so a failed account leaves nothing half-written behind.
    Each callable answers one ``WriteResult`` per target, in order.
    """
    outcome = SendOutcome()

    def accepted(batch: list[Target], results: list[WriteResult]) -> Iterator[tuple[Target, WriteResult]]:
        for target, result in zip(batch, results, strict=True):
            if result.error is not None:
                outcome.failures[target.delivery.account_id] = result.error
            else:
                yield target, result

    written = [target for target, _ in accepted(list(targets), update_records(list(targets)))]
    known = [target for target in written if target.note_id]
    new = [target for target in written if not target.note_id]
    for batch, write in ((known, update_notes), (new, create_notes)):
        for target, result in accepted(batch, write(batch) if batch else []):
            if result.record_id:
                outcome.note_ids[target.delivery.account_id] = result.record_id
    return outcome


def find_by_id_then_domain(
    deliveries: Sequence[Delivery],
    *,
    by_id: Callable[[list[str]], Mapping[str, str]],
    by_domain: Callable[[list[str]], Mapping[str, str]],
) -> dict[str, str]:
    """Each account's CRM record by account id: by ``crm_id``, else (or if that record is gone) by domain.

    ``by_id`` answers the existing record of each given id; ``by_domain`` the record of each
    domain that has one. An account takes the record of the first of its domains found.
    """
    ids = sorted({d.window.crm_id for d in deliveries if d.window.crm_id})
    existing = by_id(ids) if ids else {}
    found = {d.account_id: existing[d.window.crm_id] for d in deliveries if d.window.crm_id in existing}
    rest = [d for d in deliveries if d.account_id not in found and d.window.domains]
    by_domains = by_domain(sorted({domain for d in rest for domain in d.window.domains})) if rest else {}
    for delivery in rest:
        record = next((by_domains[domain] for domain in delivery.window.domains if domain in by_domains), None)
        if record:
            found[delivery.account_id] = record
    return found


def _claim_records(
    deliveries: list[Delivery], records_found: Mapping[str, str | None], entries: Mapping[str, LedgerEntry]
) -> tuple[list[Target], list[tuple[Delivery, str]]]:
    """Targets for the accounts that carry their record; the others, with why they cannot be delivered."""
    claims = record_claims(
        (d.account_id, record_id, d.window.intent_score)
        for d in deliveries
        if (record_id := records_found[d.account_id]) is not None
    )
    targets: list[Target] = []
    conflicts: list[tuple[Delivery, str]] = []
    for delivery in deliveries:
        record_id = records_found[delivery.account_id]
        owner = claims.get(record_id) if record_id is not None else None
        if owner is not None and owner != delivery.account_id:
            reason = (
                f"CRM record {record_id} is already delivered for account {owner}; "
                "give each target account its own record (crm_id or domain)"
            )
            conflicts.append((delivery, reason))
            continue
        entry = entries.get(delivery.account_id)
        targets.append(Target(delivery, record_id, entry.note_id if entry else None))
    return targets, conflicts


def _with_stray_notes(
    destination: Destination, targets: list[Target], entries: Mapping[str, LedgerEntry]
) -> list[Target]:
    """Targets with the notes that runs which stopped before their ledger write left in the CRM."""
    stray = [t for t in targets if t.note_id is None and _in_flight(entries.get(t.delivery.account_id))]
    if not stray:
        return targets
    notes = destination.find_notes(stray)
    return [Target(t.delivery, t.record_id, t.note_id or notes.get(t.delivery.account_id)) for t in targets]


def _in_flight(entry: LedgerEntry | None) -> bool:
    return entry is not None and entry.status is DeliveryStatus.IN_FLIGHT


def _result(destination: Destination, counts: Counter[str], **extra: int) -> SinkResult:
    return SinkResult(
        sink=destination.name,
        location=destination.location,
        delivered=counts["delivered"] + counts["updated"],
        details={**{key: counts[key] for key in OUTCOMES}, **extra},
    )
