"""HubSpot: each target account's window activity on its company record, plus one note.

The sink finds each account's company (by ``crm_id``, else by domain), writes the
``website_intent`` properties on it and logs one note per account and window on its
timeline; a re-run of the window updates that note instead of adding another. It is a
``Destination`` of the shared delivery flow (``connectors.crm.delivery``): the ledger
makes re-runs cheap (unchanged accounts are skipped) and crash-safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from connectors.crm.delivery import (
    Delivery,
    SendOutcome,
    Target,
    WriteResult,
    find_by_id_then_domain,
    write_records_then_notes,
)
from connectors.crm.forget import Erased, account_failures, stray_notes
from connectors.crm.hubspot.api import NOTE_BODY, BatchOutcome, HubSpotClient
from connectors.crm.ledger import DeliveryLedger, LedgerEntry
from connectors.crm.note import NOTE_MAX_CHARS, note_marker
from connectors.crm.sink import CrmSink
from connectors.crm.windows import AccountWindow
from enrichment.tagging import STAGES
from enrichment.trend import Trend

NOTE_TO_COMPANY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 190}
PROPERTY_GROUP = {"name": "website_intent", "label": "Website intent", "displayOrder": -1}


def _property(name: str, label: str, kind: str, field_type: str, description: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": kind,
        "fieldType": field_type,
        "groupName": PROPERTY_GROUP["name"],
        "description": description,
        "formField": False,
        **extra,
    }


def _options(values: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {"label": value.capitalize(), "value": value, "displayOrder": order, "hidden": False}
        for order, value in enumerate(values)
    ]


COMPANY_PROPERTIES: tuple[dict[str, Any], ...] = (
    _property(
        "vi_intent_score",
        "Intent score",
        "number",
        "number",
        "Website buying intent in the last report window, 0 to 100 (Visitor Intent).",
        numberDisplayHint="unformatted",
    ),
    _property(
        "vi_intent_trend",
        "Intent trend",
        "enumeration",
        "select",
        "How the intent score moved since the account's previous report window.",
        options=_options(trend.value for trend in Trend),
    ),
    _property(
        "vi_furthest_stage",
        "Furthest funnel stage",
        "enumeration",
        "select",
        "The furthest funnel stage of the pages the company read in the window.",
        options=_options(STAGES),
    ),
    _property(
        "vi_top_topics",
        "Top topics",
        "string",
        "textarea",
        "The topics the company read most in the window, with page views.",
    ),
    _property(
        "vi_visits",
        "Website visits in window",
        "number",
        "number",
        "Visits from the company in the report window.",
        numberDisplayHint="unformatted",
    ),
    _property(
        "vi_pageviews",
        "Website pageviews in window",
        "number",
        "number",
        "Page views from the company in the report window.",
        numberDisplayHint="unformatted",
    ),
    _property(
        "vi_last_visit", "Last website visit", "datetime", "date", "When the company last visited the website (UTC)."
    ),
    _property(
        "vi_report_window",
        "Intent report window",
        "string",
        "text",
        "The report window the website intent properties describe.",
    ),
)
# Which figure (``connectors.crm.windows.FIGURES``) each of our properties holds.
PROPERTY_FIGURES = {
    "vi_intent_score": "intent_score",
    "vi_intent_trend": "intent_trend",
    "vi_furthest_stage": "furthest_stage",
    "vi_top_topics": "top_topics",
    "vi_visits": "visits",
    "vi_pageviews": "pageviews",
    "vi_last_visit": "last_visit",
    "vi_report_window": "window",
}


class HubSpotSink(CrmSink):
    """Delivers a window's accounts to HubSpot companies and notes.

    Accounts whose company isn't found are reported as ``not_found`` and looked up again
    next run; companies are created only with ``create_missing_companies``.
    """

    name = "hubspot"
    note_form = "html"
    client: HubSpotClient

    def __init__(
        self,
        client: HubSpotClient,
        ledger: DeliveryLedger,
        domains: Mapping[str, Sequence[str]] | None = None,
        *,
        create_missing_companies: bool = False,
        report_base_url: str | None = None,
        note_max_chars: int = NOTE_MAX_CHARS,
    ) -> None:
        super().__init__(client, ledger, domains, report_base_url=report_base_url)
        self.create_missing_companies = create_missing_companies
        self.note_max_chars = note_max_chars

    def content(self, window: AccountWindow) -> dict[str, Any]:
        """The company's properties and the note (its timestamp the window's last moment, so re-runs hash alike)."""
        return {
            "properties": {name: str(window.figures[figure]) for name, figure in PROPERTY_FIGURES.items()},
            "note": {"hs_timestamp": f"{window.window_end.isoformat()}T23:59:59Z", NOTE_BODY: window.note},
        }

    def find_records(self, deliveries: Sequence[Delivery]) -> dict[str, str]:
        """Company record id by account id: by crm_id, else (or if that record is gone) by domain.

        With ``create_missing_companies``, an account with a domain and no company gets one.
        """
        found = find_by_id_then_domain(
            deliveries,
            by_id=lambda ids: {company: company for company in self.client.read_companies(ids)},
            by_domain=self.client.find_companies_by_domain,
        )
        creatable = [d for d in deliveries if d.account_id not in found and d.window.domains]
        if self.create_missing_companies and creatable:
            created = self.client.create_companies(
                [
                    {
                        "properties": {"name": d.window.name, "domain": d.window.domains[0]},
                        "associations": [],
                        "objectWriteTraceId": d.window.marker,
                    }
                    for d in creatable
                ]
            )
            found |= {
                d.account_id: created.confirmed[d.window.marker]
                for d in creatable
                if created.confirmed.get(d.window.marker)
            }
        return found

    def find_notes(self, targets: Sequence[Target]) -> dict[str, str]:
        """Note record id by account id, for notes found by the window's marker."""
        notes = self.client.find_notes([t.delivery.window.marker for t in targets])
        return {
            t.delivery.account_id: notes[t.delivery.window.marker] for t in targets if t.delivery.window.marker in notes
        }

    def send(self, targets: Sequence[Target]) -> SendOutcome:
        """Update the companies, then the notes of those HubSpot accepted: known ones updated, others created."""
        if targets:
            self.client.ensure_company_properties(PROPERTY_GROUP, COMPANY_PROPERTIES)
        return write_records_then_notes(
            targets,
            update_records=lambda batch: _results(
                batch,
                self.client.update_companies(
                    [_traced(t, id=t.record_id, properties=t.delivery.content["properties"]) for t in batch]
                ),
                unconfirmed="HubSpot did not confirm the company update",
            ),
            update_notes=lambda batch: _results(
                batch,
                self.client.update_notes(
                    [_traced(t, id=t.note_id, properties=t.delivery.content["note"]) for t in batch]
                ),
            ),
            create_notes=lambda batch: _results(
                batch,
                self.client.create_notes(
                    [
                        _traced(
                            t,
                            properties=t.delivery.content["note"],
                            associations=[{"to": {"id": t.record_id}, "types": [NOTE_TO_COMPANY]}],
                        )
                        for t in batch
                    ]
                ),
            ),
        )

    def erase(self, entries: Sequence[LedgerEntry], records: Sequence[str]) -> Erased:
        """Archive the notes of ``entries`` (and those stopped runs left) and blank ``records``' intent properties."""
        markers = {note_marker(e.account_id, e.window_end): e.account_id for e in stray_notes(entries)}
        strays = {note: markers[marker] for marker, note in self.client.find_notes(list(markers)).items()}
        notes = [e.note_id for e in entries if e.note_id] + list(strays)
        self.client.archive_notes(notes)
        blank = {definition["name"]: "" for definition in COMPANY_PROPERTIES}
        cleared = self.client.update_companies(
            [{"id": record, "properties": blank, "objectWriteTraceId": f"forget-{record}"} for record in records]
        )
        failed = {
            record: cleared.rejected.get(f"forget-{record}", "HubSpot did not confirm blanking the company")
            for record in records
            if f"forget-{record}" not in cleared.confirmed
        }
        return Erased(
            notes=len(notes),
            records=len(records) - len(failed),
            failures=account_failures(entries, failed, strays),
        )


def _traced(target: Target, **input_fields: Any) -> dict[str, Any]:
    """A batch input traced by the account's marker."""
    return {**input_fields, "objectWriteTraceId": target.delivery.window.marker}


def _results(batch: list[Target], outcome: BatchOutcome, *, unconfirmed: str | None = None) -> list[WriteResult]:
    """One ``WriteResult`` per target from HubSpot's answers by marker; unconfirmed ones as ``unconfirmed`` says."""
    results = []
    for target in batch:
        marker = target.delivery.window.marker
        if marker in outcome.rejected:
            results.append(WriteResult(None, outcome.rejected[marker]))
        elif marker in outcome.confirmed:
            results.append(WriteResult(outcome.confirmed[marker]))
        else:
            results.append(WriteResult(None, unconfirmed))
    return results
