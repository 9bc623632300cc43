"""Bitrix24: each target account's window activity on its company, plus one timeline comment.

The sink finds each account's company (by ``crm_id``, else by a domain user field we own,
``UF_CRM_VI_DOMAIN`` by default), writes the configured intent user fields on it and adds
one comment per account and window to the company's timeline; a re-run of the window
updates that comment. The comment carries the window's marker, so a run that stopped after
Bitrix24 stored its comments but before the ledger recorded them finds them again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.crm.bitrix24.api import Bitrix24Client
from connectors.crm.delivery import Delivery, SendOutcome, Target, find_by_id_then_domain, write_records_then_notes
from connectors.crm.forget import Erased, account_failures, stray_notes
from connectors.crm.ledger import DeliveryLedger, LedgerEntry
from connectors.crm.note import note_marker
from connectors.crm.sink import CrmSink
from connectors.crm.windows import AccountWindow, field_mapping

DEFAULT_COMPANY_FIELDS = {
    "intent_score": "UF_CRM_VI_INTENT_SCORE",
    "furthest_stage": "UF_CRM_VI_INTENT_STAGE",
    "top_topics": "UF_CRM_VI_INTENT_TOPICS",
}
# Our own cap: Bitrix24 documents no limit for COMMENT; the cut note points to the full report.
COMMENT_MAX_CHARS = 20_000


class Bitrix24Sink(CrmSink):
    """Delivers a window's accounts to Bitrix24 companies and timeline comments.

    ``company_fields`` maps figures (``connectors.crm.windows.FIGURES``) to the company's
    user fields; create those (and the domain field) first. Accounts without a company are
    reported as ``not_found``; none is created.
    """

    name = "bitrix24"
    note_max_chars = COMMENT_MAX_CHARS
    client: Bitrix24Client

    def __init__(
        self,
        client: Bitrix24Client,
        ledger: DeliveryLedger,
        domains: Mapping[str, Sequence[str]] | None = None,
        *,
        company_fields: Mapping[str, str] = DEFAULT_COMPANY_FIELDS,
        report_base_url: str | None = None,
    ) -> None:
        super().__init__(client, ledger, domains, report_base_url=report_base_url)
        self.company_fields = field_mapping(company_fields, "Bitrix24")

    def content(self, window: AccountWindow) -> dict[str, Any]:
        """The company's user fields and the timeline comment."""
        return {
            "fields": {name: window.figures[figure] for figure, name in self.company_fields.items()},
            "comment": window.note,
        }

    def find_records(self, deliveries: Sequence[Delivery]) -> dict[str, str]:
        """Company ID by account id: by crm_id, else (or if that company is gone) by domain."""
        return find_by_id_then_domain(
            deliveries,
            by_id=lambda ids: {company: company for company in self.client.find_companies_by_id(ids)},
            by_domain=self.client.find_companies_by_domain,
        )

    def find_notes(self, targets: Sequence[Target]) -> dict[str, str]:
        """Comment ID by account id, for comments found by the window's marker."""
        comments = self.client.find_comments({t.record_id: t.delivery.window.marker for t in targets if t.record_id})
        return {
            t.delivery.account_id: comments[t.delivery.window.marker]
            for t in targets
            if t.delivery.window.marker in comments
        }

    def send(self, targets: Sequence[Target]) -> SendOutcome:
        """Update the companies, then the comments of those Bitrix24 accepted: known ones updated, others added."""
        return write_records_then_notes(
            targets,
            update_records=lambda batch: self.client.update_companies(
                [(t.record_id, t.delivery.content["fields"]) for t in batch]
            ),
            update_notes=lambda batch: self.client.update_comments(
                [(t.note_id, t.record_id, t.delivery.content["comment"]) for t in batch]
            ),
            create_notes=lambda batch: self.client.add_comments(
                [(t.record_id, t.delivery.content["comment"], t.delivery.window.marker) for t in batch]
            ),
        )

    def erase(self, entries: Sequence[LedgerEntry], records: Sequence[str]) -> Erased:
        """Delete the comments of ``entries`` (and those stopped runs left) and blank ``records``' intent fields."""
        owners = {e.note_id: e.company_id for e in entries if e.note_id and e.company_id}
        strays: dict[str, str] = {}  # comment id -> account id
        for entry in stray_notes(entries):  # rare: runs that stopped mid-write
            marker = note_marker(entry.account_id, entry.window_end)
            found = self.client.find_comments({entry.company_id: marker}) if entry.company_id else {}
            if marker in found:
                owners[found[marker]], strays[found[marker]] = entry.company_id, entry.account_id
        failed = self.client.delete_comments(list(owners.items()))
        blank = dict.fromkeys(self.company_fields.values(), "")
        cleared = self.client.update_companies([(record, blank) for record in records])
        failed |= {record: result.error for record, result in zip(records, cleared, strict=True) if result.error}
        return Erased(
            notes=len(owners.keys() - failed.keys()),
            records=len(set(records) - failed.keys()),
            failures=account_failures(entries, failed, strays),
        )
