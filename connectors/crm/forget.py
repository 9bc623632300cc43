"""Forgetting accounts in the CRMs: what the delivery ledger says we wrote, removed through each vendor's API.

For each CRM sink, the ledger's entries of the accounts to forget name the notes we wrote
(HubSpot notes, Salesforce Tasks, Bitrix24 timeline comments, webhook documents) and the
records whose intent fields we set. The sink deletes the notes (an entry still in flight
may have left a note the ledger never heard of: it is looked up by its marker) and blanks
the intent fields of each record, unless another account's delivery was the last to write
that record. Then the accounts' entries leave the ledger. An account of which something
could not be removed keeps its entries, so running ``forget_in_crms`` again finishes it.
A dry-run sink writes the requests to files and the ledger stays untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from connectors.crm.ledger import DeliveryLedger, DeliveryStatus, LedgerEntry


@dataclass
class Erased:
    """What a sink removed: notes deleted, records blanked, and why something of an account is still there."""

    notes: int = 0
    records: int = 0
    failures: dict[str, str] = field(default_factory=dict)  # account id -> reason


class ErasingSink(Protocol):
    """A CRM sink that can remove what it delivered."""

    name: str

    @property
    def dry_run(self) -> bool: ...

    def erase(self, entries: Sequence[LedgerEntry], records: Sequence[str]) -> Erased:
        """Delete the notes of ``entries`` (and stray ones) and blank the intent fields of ``records``."""
        ...


@dataclass(frozen=True)
class CrmForgetResult:
    """One sink's part of a forget: accounts with nothing of theirs left there, and what was removed."""

    sink: str
    accounts: int
    notes_deleted: int
    records_cleared: int
    failures: dict[str, str]  # account id -> why something of it is still in the CRM


def forget_in_crms(
    account_ids: Iterable[str], sinks: Sequence[ErasingSink], ledger: DeliveryLedger
) -> list[CrmForgetResult]:
    """Remove from every sink's CRM what the ledger says was delivered for these accounts; one result per sink.

    A ``CrmError`` (credentials, limits, an unreachable CRM) stops at that sink with the
    ledger unchanged for it; sinks before it keep what they did.
    """
    wanted = set(account_ids)
    results = []
    for sink in sinks:
        entries = ledger.entries_of_accounts(sink.name, wanted)
        written = {entry.company_id for entry in entries if entry.company_id}
        owners = ledger.record_owners(sink.name, written)
        records = sorted(record for record in written if owners.get(record) in wanted)
        erased = sink.erase(entries, records) if entries else Erased()
        done = {entry.account_id for entry in entries} - erased.failures.keys()
        if not sink.dry_run:
            ledger.forget(sink.name, done)
        results.append(
            CrmForgetResult(
                sink=sink.name,
                accounts=len(done),
                notes_deleted=erased.notes,
                records_cleared=erased.records,
                failures=dict(erased.failures),
            )
        )
    return results


def stray_notes(entries: Sequence[LedgerEntry]) -> list[LedgerEntry]:
    """Entries still in flight without a note id: a run stopped there, and the CRM may hold their note."""
    return [entry for entry in entries if entry.status is DeliveryStatus.IN_FLIGHT and entry.note_id is None]


def account_failures(
    entries: Sequence[LedgerEntry], failed: Mapping[str, str], strays: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Failures by note or record id, as failures of the accounts they belong to.

    An id belongs to the accounts whose entries name it, and a stray note (``strays``:
    note id -> account id) to the account whose marker it carried.
    """
    failures: dict[str, str] = {}
    for entry in entries:
        for record_or_note in (entry.note_id, entry.company_id):
            if record_or_note in failed:
                failures.setdefault(entry.account_id, failed[record_or_note])
    for note_id, account_id in (strays or {}).items():
        if note_id in failed:
            failures.setdefault(account_id, failed[note_id])
    return failures
