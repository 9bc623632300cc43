"""What every CRM sink shares: a client, the ledger, the accounts' domains, and ``deliver``.

A sink turns the report into one ``Delivery`` per account (``content`` says what it sends)
and hands them to the shared ledger-driven flow (``connectors.crm.delivery``); the sink
itself is that flow's ``Destination``: its lookups and batched writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.crm.delivery import Delivery, deliver_window
from connectors.crm.ledger import DeliveryLedger
from connectors.crm.note import NoteForm
from connectors.crm.transport import CrmClient
from connectors.crm.windows import AccountWindow, account_windows
from connectors.sinks.base import SinkResult, WindowReport


class CrmSink:
    """A CRM sink (the ``ReportSink`` protocol): subclasses name it, say what ``content`` it sends, and write it.

    ``domains`` maps account ids to their target-account domains, used when an account
    has no ``crm_id``. ``report_base_url`` (where the file sink's reports are served) lets a
    note, or a document, link to the account's full report.
    """

    name: str
    note_max_chars: int | None = None  # None: the sink sends no note
    note_form: NoteForm = "text"

    def __init__(
        self,
        client: CrmClient,
        ledger: DeliveryLedger,
        domains: Mapping[str, Sequence[str]] | None = None,
        *,
        report_base_url: str | None = None,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.domains = {account_id: tuple(values) for account_id, values in (domains or {}).items()}
        self.report_base_url = report_base_url

    @property
    def location(self) -> str:
        return str(self.client.dry_run_dir) if self.client.dry_run else self.client.location

    @property
    def dry_run(self) -> bool:
        return self.client.dry_run

    def deliver(self, report: WindowReport) -> SinkResult:
        """Deliver every changed account; details count delivered, updated, unchanged, not_found, failed.

        ``delivered`` in the result is the number of accounts written (new and updated notes);
        ``in_flight`` joins the details when the CRM left some accounts' fate unknown.
        Raises ``CrmAuthError``, ``CrmLimitReached`` and ``CrmUnavailable`` after recording state.
        """
        windows = account_windows(
            report,
            self.ledger,
            self.name,
            self.domains,
            note_max_chars=self.note_max_chars,
            note_form=self.note_form,
            report_base_url=self.report_base_url,
        )
        deliveries = [Delivery.of(window, self.content(window)) for window in windows]
        return deliver_window(self, self.ledger, deliveries, report.window_end)

    def content(self, window: AccountWindow) -> Any:
        """What this sink sends for one account and window (JSON-serialisable; its hash skips unchanged ones)."""
        raise NotImplementedError
