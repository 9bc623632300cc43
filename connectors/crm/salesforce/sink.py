"""Salesforce: each target account's window activity on its Account, plus one Task.

The sink finds each account's Account (by ``crm_id``, else by domain: a dedicated domain
field such as ``Website_Domain__c`` first, the standard ``Website`` as a fallback), writes
the configured intent fields on it and logs one completed Task per account and window,
related to the Account. A re-run of the window updates that Task. The Task's Subject
carries the window's marker, so a run that stopped after Salesforce stored its Tasks but
before the ledger recorded them finds them again instead of adding second ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.crm.delivery import Delivery, SendOutcome, Target, find_by_id_then_domain, write_records_then_notes
from connectors.crm.forget import Erased, account_failures, stray_notes
from connectors.crm.ledger import DeliveryLedger, LedgerEntry
from connectors.crm.note import note_marker
from connectors.crm.salesforce.api import SalesforceClient
from connectors.crm.sink import CrmSink
from connectors.crm.windows import AccountWindow, field_mapping

DEFAULT_ACCOUNT_FIELDS = {
    "intent_score": "Web_Intent_Score__c",
    "furthest_stage": "Web_Intent_Stage__c",
    "top_topics": "Web_Intent_Topics__c",
    "visits": "Web_Intent_Visits__c",
    "window": "Web_Intent_Window__c",
}
TASK_DESCRIPTION_MAX_CHARS = 32_000  # Task.Description is a 32,000-character text area


class SalesforceSink(CrmSink):
    """Delivers a window's accounts to Salesforce Accounts and Tasks.

    ``account_fields`` maps figures (``connectors.crm.windows.FIGURES``) to the Account's
    field API names; create those fields (and the domain field) first. Accounts without an
    Account are reported as ``not_found``; none is created.
    """

    name = "salesforce"
    note_max_chars = TASK_DESCRIPTION_MAX_CHARS
    client: SalesforceClient

    def __init__(
        self,
        client: SalesforceClient,
        ledger: DeliveryLedger,
        domains: Mapping[str, Sequence[str]] | None = None,
        *,
        account_fields: Mapping[str, str] = DEFAULT_ACCOUNT_FIELDS,
        task_status: str = "Completed",
        report_base_url: str | None = None,
    ) -> None:
        super().__init__(client, ledger, domains, report_base_url=report_base_url)
        self.account_fields = field_mapping(account_fields, "Salesforce")
        self.task_status = task_status

    def content(self, window: AccountWindow) -> dict[str, Any]:
        """The Account's fields and the Task, whose Subject carries the window's marker."""
        return {
            "fields": {api_name: window.figures[figure] for figure, api_name in self.account_fields.items()},
            "task": {
                "Subject": f"Website intent {window.figures['window']} ({window.marker})",
                "Description": window.note,
                "Status": self.task_status,
                "ActivityDate": window.window_end.isoformat(),
            },
        }

    def find_records(self, deliveries: Sequence[Delivery]) -> dict[str, str]:
        """Account Id by account id: by crm_id, else (or if that Account is gone) by domain."""
        return find_by_id_then_domain(
            deliveries, by_id=self.client.find_accounts_by_id, by_domain=self.client.find_accounts_by_domain
        )

    def find_notes(self, targets: Sequence[Target]) -> dict[str, str]:
        """Task Id by account id, for Tasks found by their Subject (it holds the window's marker)."""
        subjects = {t.delivery.account_id: t.delivery.content["task"]["Subject"] for t in targets}
        tasks = self.client.find_tasks({t.record_id: subjects[t.delivery.account_id] for t in targets if t.record_id})
        return {account_id: tasks[subject] for account_id, subject in subjects.items() if subject in tasks}

    def send(self, targets: Sequence[Target]) -> SendOutcome:
        """Update the Accounts, then the Tasks of those Salesforce accepted: known ones updated, others created."""
        return write_records_then_notes(
            targets,
            update_records=lambda batch: self.client.update_records(
                [{"attributes": {"type": "Account"}, "id": t.record_id, **t.delivery.content["fields"]} for t in batch]
            ),
            update_notes=lambda batch: self.client.update_records(
                [{"attributes": {"type": "Task"}, "id": t.note_id, **t.delivery.content["task"]} for t in batch]
            ),
            create_notes=lambda batch: self.client.create_tasks(
                [{"attributes": {"type": "Task"}, **t.delivery.content["task"], "WhatId": t.record_id} for t in batch]
            ),
        )

    def erase(self, entries: Sequence[LedgerEntry], records: Sequence[str]) -> Erased:
        """Delete the Tasks of ``entries`` (and those stopped runs left) and clear ``records``' intent fields."""
        markers = {note_marker(e.account_id, e.window_end): e.account_id for e in stray_notes(entries)}
        strays = {task: markers[marker] for marker, task in self.client.find_tasks_by_marker(list(markers)).items()}
        tasks = [e.note_id for e in entries if e.note_id] + list(strays)
        failed = self.client.delete_records(tasks)
        cleared = self.client.update_records(
            [
                {"attributes": {"type": "Account"}, "id": record, **dict.fromkeys(self.account_fields.values())}
                for record in records
            ]
        )
        failed |= {record: result.error for record, result in zip(records, cleared, strict=True) if result.error}
        return Erased(
            notes=len(set(tasks) - failed.keys()),
            records=len(set(records) - failed.keys()),
            failures=account_failures(entries, failed, strays),
        )
