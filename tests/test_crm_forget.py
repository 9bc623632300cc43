"""Forgetting accounts in the CRMs: what the ledger says we wrote leaves each CRM, through its API.

Each sink delivers to its local fake first; ``forget_in_crms`` then removes the notes
(HubSpot notes archived, Salesforce Tasks deleted, Bitrix24 timeline comments deleted,
a signed forget event to the webhook receiver) and blanks the intent fields of the
records, and the accounts' ledger rows go. The fakes check every request against the
vendors' documented shapes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from connectors.crm.bitrix24 import Bitrix24Client, Bitrix24Sink
from connectors.crm.forget import forget_in_crms
from connectors.crm.hubspot import COMPANY_PROPERTIES, HubSpotClient, HubSpotSink
from connectors.crm.ledger import DeliveryLedger
from connectors.crm.salesforce import SalesforceClient, SalesforceSink
from connectors.crm.transport import CrmAuthError, RetryPolicy
from connectors.crm.webhook import WebhookSink, sign
from tests.crm_fakes.bitrix24_server import FakeBitrix24, ManualClock
from tests.crm_fakes.hubspot_server import FakeHubSpot
from tests.crm_fakes.salesforce_server import FakeSalesforce
from tests.test_hubspot import END, START, account, window_report
from tests.test_webhook import NOW, Receiver

NO_WAITING = RetryPolicy(attempts=2, initial_wait=0, max_wait=0, jitter=0)
TOKEN = "pat-na1-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
SECRET = "x7k2abc9def0ghij"
WEBHOOK_SECRET = "whsec_5f0c1e2d3b4a59687766554433221100"
LATER_START, LATER_END = START + dt.timedelta(days=14), END + dt.timedelta(days=14)


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ledger(tmp_path: Path) -> DeliveryLedger:
    return DeliveryLedger(f"sqlite:///{tmp_path / 'ledger.db'}")


@pytest.fixture
def hubspot(server: HTTPServer) -> Iterator[FakeHubSpot]:
    server.clear()
    fake = FakeHubSpot(server, token=TOKEN)
    yield fake
    assert fake.violations == [], "requests or answers outside HubSpot's API description"


def hubspot_sink(hubspot: FakeHubSpot, ledger: DeliveryLedger, **options: Any) -> HubSpotSink:
    client = HubSpotClient(TOKEN, base_url=hubspot.url, retry=NO_WAITING, search_interval=0, **options)
    return HubSpotSink(client, ledger)


def entries_of(ledger: DeliveryLedger, sink: str, account_id: str) -> list[Any]:
    return ledger.entries_of_accounts(sink, [account_id])


# --- HubSpot ------------------------------------------------------------------------------


def test_forgetting_an_account_archives_its_notes_and_blanks_its_company_in_hubspot(hubspot, ledger):
    acme, globex = hubspot.add_company("Acme", "acme.com"), hubspot.add_company("Globex", "globex.example")
    sink = hubspot_sink(hubspot, ledger)
    sink.deliver(window_report([account("ACME", crm_id=acme), account("GLOBEX", crm_id=globex)]))
    sink.deliver(window_report([account("ACME", crm_id=acme, score=50)], start=LATER_START, end=LATER_END))

    [result] = forget_in_crms(["ACME"], [sink], ledger)

    assert (result.sink, result.accounts, result.notes_deleted, result.records_cleared) == ("hubspot", 1, 2, 1)
    assert hubspot.notes_of(acme) == [] and len(hubspot.archived_notes) == 2
    assert {name: hubspot.companies[acme][name] for name in (p["name"] for p in COMPANY_PROPERTIES)} == dict.fromkeys(
        (p["name"] for p in COMPANY_PROPERTIES), ""
    )
    assert hubspot.companies[acme]["name"] == "Acme"  # the company itself stays: it is sales' record
    assert len(hubspot.notes_of(globex)) == 1 and hubspot.companies[globex]["vi_intent_score"] == "72"
    assert entries_of(ledger, "hubspot", "ACME") == [] and len(entries_of(ledger, "hubspot", "GLOBEX")) == 1


def test_a_note_a_stopped_run_left_without_a_ledger_record_is_found_by_its_marker_and_archived(
    hubspot, ledger, monkeypatch
):
    acme = hubspot.add_company("Acme", "acme.com")

    def killed(*args: Any) -> None:
        raise KeyboardInterrupt("killed between the CRM call and the ledger write")

    with monkeypatch.context() as patch:
        patch.setattr(ledger, "mark_delivered", killed)
        with pytest.raises(KeyboardInterrupt):
            hubspot_sink(hubspot, ledger).deliver(window_report([account("ACME", crm_id=acme)]))
    assert ledger.entries("hubspot", END)["ACME"].note_id is None

    [result] = forget_in_crms(["ACME"], [hubspot_sink(hubspot, ledger)], ledger)

    assert result.notes_deleted == 1 and hubspot.notes_of(acme) == []


def test_a_company_another_account_was_delivered_to_since_keeps_its_properties(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    sink = hubspot_sink(hubspot, ledger)
    sink.deliver(window_report([account("ACME", crm_id=acme)]))
    sink.deliver(window_report([account("ACME-HOLDING", crm_id=acme, score=40)], start=LATER_START, end=LATER_END))

    [result] = forget_in_crms(["ACME"], [sink], ledger)

    assert (result.notes_deleted, result.records_cleared) == (1, 0)
    assert hubspot.companies[acme]["vi_intent_score"] == "40"  # ACME-HOLDING's, written last
    assert len(hubspot.notes_of(acme)) == 1


def test_forgetting_in_a_dry_run_writes_the_requests_and_keeps_the_ledger(hubspot, ledger, tmp_path):
    acme = hubspot.add_company("Acme", "acme.com")
    hubspot_sink(hubspot, ledger).deliver(window_report([account("ACME", crm_id=acme)]))

    forget_in_crms(["ACME"], [hubspot_sink(hubspot, ledger, dry_run_dir=tmp_path / "requests")], ledger)

    written = [json.loads(path.read_text()) for path in sorted((tmp_path / "requests").iterdir())]
    assert [r["url"].removeprefix(hubspot.url) for r in written] == [
        "/crm/objects/2026-09/notes/batch/archive",
        "/crm/objects/2026-09/companies/batch/update",
    ]
    assert len(hubspot.notes_of(acme)) == 1 and len(entries_of(ledger, "hubspot", "ACME")) == 1


def test_refused_credentials_stop_forgetting_with_the_ledger_unchanged(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    hubspot_sink(hubspot, ledger).deliver(window_report([account("ACME", crm_id=acme)]))
    revoked = HubSpotSink(HubSpotClient("pat-na1-revoked", base_url=hubspot.url, retry=NO_WAITING), ledger)

    with pytest.raises(CrmAuthError, match="HUBSPOT_ACCESS_TOKEN"):
        forget_in_crms(["ACME"], [revoked], ledger)

    assert len(entries_of(ledger, "hubspot", "ACME")) == 1 and len(hubspot.notes_of(acme)) == 1


# --- Salesforce --------------------------------------------------------------------------------


@pytest.fixture
def salesforce(server: HTTPServer) -> Iterator[FakeSalesforce]:
    server.clear()
    fake = FakeSalesforce(server, client_id="3MVG9client", client_secret="sf-secret")
    yield fake
    assert fake.violations == [], "requests outside Salesforce's documented API"


def salesforce_sink(salesforce: FakeSalesforce, ledger: DeliveryLedger) -> SalesforceSink:
    return SalesforceSink(SalesforceClient(salesforce.url, "3MVG9client", "sf-secret", retry=NO_WAITING), ledger)


def test_forgetting_an_account_deletes_its_tasks_and_clears_its_fields_in_salesforce(salesforce, ledger):
    acme, globex = salesforce.add_account("Acme"), salesforce.add_account("Globex")
    sink = salesforce_sink(salesforce, ledger)
    sink.deliver(window_report([account("ACME", crm_id=acme), account("GLOBEX", crm_id=globex)]))
    [task] = salesforce.tasks_of(acme)

    [result] = forget_in_crms(["ACME"], [sink], ledger)

    assert (result.accounts, result.notes_deleted, result.records_cleared) == (1, 1, 1)
    assert salesforce.tasks_of(acme) == [] and len(salesforce.tasks_of(globex)) == 1
    assert [salesforce.accounts[acme].get(field) for field in sink.account_fields.values()] == [None] * 5
    assert salesforce.accounts[globex]["Web_Intent_Score__c"] == 72
    [delete] = salesforce.calls("composite/sobjects", "DELETE")
    assert (delete.json, delete.args) == (None, {"ids": task["Id"], "allOrNone": "false"})
    assert entries_of(ledger, "salesforce", "ACME") == []


def test_a_task_salesforce_refuses_to_delete_keeps_the_account_in_the_ledger_until_a_later_forget(salesforce, ledger):
    acme = salesforce.add_account("Acme")
    sink = salesforce_sink(salesforce, ledger)
    sink.deliver(window_report([account("ACME", crm_id=acme)]))
    [task] = salesforce.tasks_of(acme)
    salesforce.undeletable[task["Id"]] = "insufficient access rights on object id"

    [result] = forget_in_crms(["ACME"], [sink], ledger)

    assert result.accounts == 0
    assert "INSUFFICIENT_ACCESS_OR_READONLY" in result.failures["ACME"]
    assert len(entries_of(ledger, "salesforce", "ACME")) == 1

    del salesforce.undeletable[task["Id"]]
    [again] = forget_in_crms(["ACME"], [sink], ledger)

    assert (again.accounts, again.failures) == (1, {})
    assert salesforce.tasks_of(acme) == [] and entries_of(ledger, "salesforce", "ACME") == []


# --- Bitrix24 ------------------------------------------------------------------------------------


def test_forgetting_an_account_deletes_its_comments_and_blanks_its_fields_in_bitrix24(server, ledger):
    server.clear()
    clock = ManualClock()
    bitrix = FakeBitrix24(server, user_id="1", secret=SECRET, clock=clock)
    acme = bitrix.add_company("Acme")
    bitrix.add_comment(acme, "A call note from sales")
    client = Bitrix24Client(bitrix.webhook_url, retry=NO_WAITING, sleep=clock.sleep, clock=clock, now=clock)
    sink = Bitrix24Sink(client, ledger)
    sink.deliver(window_report([account("ACME", crm_id=acme)]))
    sink.deliver(window_report([account("ACME", crm_id=acme)], start=LATER_START, end=LATER_END))

    [result] = forget_in_crms(["ACME"], [sink], ledger)

    assert (result.accounts, result.notes_deleted, result.records_cleared) == (1, 2, 1)
    assert [c["COMMENT"] for c in bitrix.comments_of(acme)] == ["A call note from sales"]
    assert [bitrix.companies[acme][field] for field in sink.company_fields.values()] == ["", "", ""]
    assert {params["ownerId"] for params in bitrix.calls("crm.timeline.comment.delete")} == {acme}
    assert entries_of(ledger, "bitrix24", "ACME") == []
    assert bitrix.violations == []


# --- the webhook, and all sinks at once ---------------------------------------------------------------


def test_forgetting_sends_the_webhook_receiver_a_signed_forget_event(server, ledger):
    server.clear()
    receiver = Receiver(server)
    sink = WebhookSink(receiver.url, WEBHOOK_SECRET, ledger, retry=NO_WAITING, clock=lambda: NOW)
    sink.deliver(window_report([account("ACME"), account("GLOBEX")]))

    [result] = forget_in_crms(["ACME"], [sink], ledger)

    assert (result.accounts, result.notes_deleted) == (1, 1)
    assert receiver.forgotten == [{"event": "forget", "account_id": "ACME", "window_ends": ["2026-11-15"]}]
    headers, body = receiver.requests[-1]
    assert headers["X-Visitor-Intent-Signature"] == sign(WEBHOOK_SECRET, headers["X-Visitor-Intent-Timestamp"], body)
    assert [d["account_id"] for d in receiver.documents.values()] == ["GLOBEX"]


def test_one_call_forgets_the_account_in_every_sink_and_reports_each(hubspot, ledger):
    other = HTTPServer()  # each fake answers on a server of its own
    other.start()
    try:
        salesforce = FakeSalesforce(other, client_id="3MVG9client", client_secret="sf-secret")
        acme_hubspot, acme_salesforce = hubspot.add_company("Acme", "acme.com"), salesforce.add_account("Acme")
        hubspot_sink(hubspot, ledger).deliver(window_report([account("ACME", crm_id=acme_hubspot)]))
        salesforce_sink(salesforce, ledger).deliver(window_report([account("ACME", crm_id=acme_salesforce)]))
        sinks = [hubspot_sink(hubspot, ledger), salesforce_sink(salesforce, ledger)]

        results = forget_in_crms(["ACME", "NEVER-DELIVERED"], sinks, ledger)
    finally:
        other.stop()

    assert [(r.sink, r.accounts, r.notes_deleted) for r in results] == [("hubspot", 1, 1), ("salesforce", 1, 1)]
    assert hubspot.notes_of(acme_hubspot) == [] and salesforce.tasks_of(acme_salesforce) == []
    assert salesforce.violations == []
