"""The Salesforce sink against a local fake of Salesforce's REST API that keeps state.

The fake speaks Salesforce's documented shapes (token, SOQL query pages, sObject
Collections SaveResults, error arrays) and records any request outside them; the
``salesforce`` fixture fails a test that sent one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from connectors.crm.ledger import DeliveryLedger, DeliveryStatus
from connectors.crm.note import note_marker
from connectors.crm.salesforce import SalesforceClient, SalesforceSink
from connectors.crm.transport import CrmAuthError, CrmLimitReached, CrmUnavailable, RetryPolicy
from tests.crm_fakes.salesforce_server import FakeSalesforce
from tests.test_hubspot import END, START, account, details, page, window_report

CLIENT_ID = "3MVG9VwZxxW3bBQjhE6m21CG2nSS4WC.GNbZCtKeQxFH7218ns6xOLCNnJVKnZFTZWKzt2qwSFqt2taMt5mcr"
CLIENT_SECRET = "8A4BE698BCA216718ECB0B1DCA294C69732EAD9472A1790F8FED38DD2E02B5FA"
NO_WAITING = RetryPolicy(attempts=3, initial_wait=0, max_wait=0, jitter=0)
SUBJECT = f"Website intent 2026-11-02 to 2026-11-15 ({note_marker('ACME', END)})"


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    server = HTTPServer(threaded=True)  # a deliberately slow answer must not block the retry
    server.start()
    yield server
    server.stop()


@pytest.fixture
def salesforce(server: HTTPServer) -> Iterator[FakeSalesforce]:
    server.clear()
    fake = FakeSalesforce(server, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    yield fake
    assert fake.violations == [], "requests outside Salesforce's documented API"


@pytest.fixture
def ledger(tmp_path: Path) -> DeliveryLedger:
    return DeliveryLedger(f"sqlite:///{tmp_path / 'ledger.db'}")


@pytest.fixture
def sleeps() -> list[float]:
    """Every wait the client asked for; nothing really sleeps."""
    return []


def client_for(salesforce: FakeSalesforce, sleeps: list[float] | None = None, **options: Any) -> SalesforceClient:
    settings: dict[str, Any] = {"retry": NO_WAITING, "sleep": sleeps.append if sleeps is not None else lambda _: None}
    secret = options.pop("client_secret", CLIENT_SECRET)
    return SalesforceClient(salesforce.url, CLIENT_ID, secret, **{**settings, **options})


def sink_for(
    salesforce: FakeSalesforce,
    ledger: DeliveryLedger,
    *,
    client: SalesforceClient | None = None,
    domains: dict[str, list[str]] | None = None,
    **options: Any,
) -> SalesforceSink:
    return SalesforceSink(client or client_for(salesforce), ledger, domains or {}, **options)


def task_writes(salesforce: FakeSalesforce, method: str) -> list[dict[str, Any]]:
    return [
        record
        for call in salesforce.calls("composite/sobjects", method)
        for record in call.json["records"]
        if record["attributes"]["type"] == "Task"
    ]


# --- delivering a window -----------------------------------------------------------


def test_each_account_gets_its_intent_fields_and_one_completed_task(salesforce, ledger):
    acme = salesforce.add_account("Acme", "https://www.acme.com")
    report = window_report([account("ACME", crm_id=acme)], [page("ACME", "2026-11-03 10:00", "/pricing")])

    result = sink_for(salesforce, ledger).deliver(report)

    assert result.details == details(delivered=1)
    [token] = salesforce.calls("/services/oauth2/token")
    assert token.form == {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    [update, create] = [call.json for call in salesforce.calls("composite/sobjects")]
    assert update == {
        "allOrNone": False,
        "records": [
            {
                "attributes": {"type": "Account"},
                "id": acme,
                "Web_Intent_Score__c": 72,
                "Web_Intent_Stage__c": "decision",
                "Web_Intent_Topics__c": "pricing (4); integrations (2)",
                "Web_Intent_Visits__c": 3,
                "Web_Intent_Window__c": "2026-11-02 to 2026-11-15",
            }
        ],
    }
    [task] = create["records"]
    assert create["allOrNone"] is False
    assert {k: v for k, v in task.items() if k != "Description"} == {
        "attributes": {"type": "Task"},
        "Subject": SUBJECT,
        "Status": "Completed",
        "ActivityDate": "2026-11-15",
        "WhatId": acme,
    }
    assert task["Description"].startswith("Website activity 2026-11-02 to 2026-11-15\nIntent score 72/100 (new)")
    assert "- 2026-11-03 10:00: /pricing (decision)" in task["Description"]
    assert "<" not in task["Description"]  # Task comments are plain text
    assert salesforce.accounts[acme]["Web_Intent_Score__c"] == 72
    assert [t["Subject"] for t in salesforce.tasks_of(acme)] == [SUBJECT]
    assert ledger.entries("salesforce", END)["ACME"].note_id == salesforce.tasks_of(acme)[0]["Id"]


def test_accounts_are_found_by_the_domain_field_then_by_website(salesforce, ledger):
    acme = salesforce.add_account("Acme", "https://acme.com", domain="acme.com")
    globex = salesforce.add_account("Globex", "https://www.Globex.example/en")
    salesforce.add_account("Not Globex", "https://notglobex.example")
    report = window_report([account("ACME"), account("GLOBEX", score=20)])
    domains = {"ACME": ["WWW.Acme.com"], "GLOBEX": ["globex.example"]}

    result = sink_for(salesforce, ledger, domains=domains).deliver(report)

    assert result.details == details(delivered=2)
    assert salesforce.queries() == [
        "SELECT Id, Website_Domain__c FROM Account WHERE Website_Domain__c IN ('acme.com', 'globex.example') "
        "ORDER BY CreatedDate, Id",
        "SELECT Id, Website FROM Account WHERE Website LIKE '%globex.example%' ORDER BY CreatedDate, Id",
    ]
    assert len(salesforce.tasks_of(acme)) == len(salesforce.tasks_of(globex)) == 1


def test_quotes_and_wildcards_in_domains_are_escaped_in_soql(salesforce, ledger):
    odd = salesforce.add_account("O'Neil", "https://o'neil_co.example")
    salesforce.add_account("Lookalike", "https://o'neilxco.example")

    found = client_for(salesforce, domain_field=None).find_accounts_by_domain(["o'neil_co.example"])

    assert found == {"o'neil_co.example": odd}
    assert salesforce.queries() == [
        "SELECT Id, Website FROM Account WHERE Website LIKE '%o\\'neil\\_co.example%' ORDER BY CreatedDate, Id",
    ]


def test_an_account_whose_crm_id_is_gone_or_malformed_falls_back_to_its_domain(salesforce, ledger):
    acme = salesforce.add_account("Acme", domain="acme.com")
    globex = salesforce.add_account("Globex", domain="globex.example")
    report = window_report([account("ACME", crm_id="001000000009999AAA"), account("GLOBEX", crm_id="12345")])

    result = sink_for(salesforce, ledger, domains={"ACME": ["acme.com"], "GLOBEX": ["globex.example"]}).deliver(report)

    assert result.details == details(delivered=2)
    assert salesforce.queries()[0] == "SELECT Id FROM Account WHERE Id IN ('001000000009999AAA')"  # "12345" is no Id
    assert len(salesforce.tasks_of(acme)) == len(salesforce.tasks_of(globex)) == 1


def test_a_15_character_crm_id_finds_its_account(salesforce, ledger):
    acme = salesforce.add_account("Acme")

    sink_for(salesforce, ledger).deliver(window_report([account("ACME", crm_id=acme[:15])]))

    assert len(salesforce.tasks_of(acme)) == 1


def test_accounts_without_an_account_are_reported_and_nothing_is_created(salesforce, ledger):
    salesforce.add_account("Acme", domain="acme.com")
    report = window_report([account("ACME"), account("NOWHERE")])

    result = sink_for(salesforce, ledger, domains={"ACME": ["acme.com"], "NOWHERE": ["nowhere.example"]}).deliver(
        report
    )

    assert result.details == details(delivered=1, not_found=1)
    assert len(salesforce.accounts) == 1
    assert ledger.entries("salesforce", END)["NOWHERE"].status is DeliveryStatus.NOT_FOUND


def test_two_accounts_pointing_at_one_account_do_not_overwrite_each_other(salesforce, ledger):
    acme = salesforce.add_account("Acme")
    report = window_report([account("ACME", crm_id=acme, score=80), account("ACME-DE", crm_id=acme, score=30)])

    result = sink_for(salesforce, ledger).deliver(report)

    assert result.details == details(delivered=1, failed=1)
    assert salesforce.accounts[acme]["Web_Intent_Score__c"] == 80
    assert "ACME" in ledger.entries("salesforce", END)["ACME-DE"].last_error


def test_the_field_mapping_is_configurable_and_checked(salesforce, ledger):
    salesforce.account_fields.add("Intent_Trend__c")
    acme = salesforce.add_account("Acme")

    sink_for(salesforce, ledger, account_fields={"intent_trend": "Intent_Trend__c"}).deliver(
        window_report([account("ACME", crm_id=acme)])
    )

    assert salesforce.accounts[acme]["Intent_Trend__c"] == "new"
    with pytest.raises(ValueError, match="intent_scroe"):
        sink_for(salesforce, ledger, account_fields={"intent_scroe": "Web_Intent_Score__c"})


def test_two_hundred_and_fifty_accounts_are_written_in_collections_of_at_most_two_hundred(salesforce, ledger):
    ids = {f"ACC-{n}": salesforce.add_account(f"Company {n}") for n in range(250)}

    result = sink_for(salesforce, ledger).deliver(window_report([account(a, crm_id=i) for a, i in ids.items()]))

    assert result.details == details(delivered=250)
    assert [len(call.json["records"]) for call in salesforce.calls("composite/sobjects")] == [200, 50, 200, 50]
    assert all(len(query) <= 2_000 for query in salesforce.queries())
    assert all(len(salesforce.tasks_of(account_id)) == 1 for account_id in ids.values())


def test_query_results_are_read_page_by_page(salesforce, ledger):
    salesforce.page_size = 2
    ids = [salesforce.add_account(f"Company {n}", domain=f"c{n}.example") for n in range(5)]

    found = client_for(salesforce).find_accounts_by_domain([f"c{n}.example" for n in range(5)])

    assert sorted(found.values()) == ids
    assert len([call for call in salesforce.requests if "/query/" in call.path]) == 2  # two more pages after the first


# --- re-runs, partial failures and crashes -----------------------------------------------


def test_rerunning_a_window_updates_its_task_instead_of_adding_one(salesforce, ledger):
    acme = salesforce.add_account("Acme")
    globex = salesforce.add_account("Globex")
    sink = sink_for(salesforce, ledger)
    sink.deliver(window_report([account("ACME", crm_id=acme, score=40), account("GLOBEX", crm_id=globex)]))

    result = sink.deliver(window_report([account("ACME", crm_id=acme, score=65), account("GLOBEX", crm_id=globex)]))

    assert result.details == details(updated=1, unchanged=1)
    [task] = salesforce.tasks_of(acme)
    assert "Intent score 65/100" in task["Description"]
    assert [record["id"] for record in task_writes(salesforce, "PATCH")] == [task["Id"]]
    assert salesforce.accounts[acme]["Web_Intent_Score__c"] == 65


def test_an_unchanged_window_sends_nothing(salesforce, ledger):
    acme = salesforce.add_account("Acme")
    sink = sink_for(salesforce, ledger)
    report = window_report([account("ACME", crm_id=acme)])
    sink.deliver(report)
    sent = len(salesforce.requests)

    result = sink.deliver(report)

    assert result.details == details(unchanged=1)
    assert len(salesforce.requests) == sent


def test_an_account_rejected_by_a_validation_rule_fails_alone_and_is_retried_next_run(salesforce, ledger):
    acme = salesforce.add_account("Acme")
    globex = salesforce.add_account("Globex")
    salesforce.validation_rules[globex] = "Industry is required"
    sink = sink_for(salesforce, ledger)
    report = window_report([account("ACME", crm_id=acme), account("GLOBEX", crm_id=globex)])

    first = sink.deliver(report)

    assert first.details == details(delivered=1, failed=1)
    entry = ledger.entries("salesforce", END)["GLOBEX"]
    assert (entry.status, entry.last_error) == (
        DeliveryStatus.FAILED,
        "FIELD_CUSTOM_VALIDATION_EXCEPTION Industry is required",
    )
    assert salesforce.tasks_of(globex) == []

    del salesforce.validation_rules[globex]
    second = sink.deliver(report)

    assert second.details == details(delivered=1, unchanged=1)
    assert len(salesforce.tasks_of(acme)) == len(salesforce.tasks_of(globex)) == 1


def test_a_run_killed_after_salesforce_stored_the_tasks_resumes_without_duplicates(salesforce, ledger, monkeypatch):
    ids = {f"ACC-{n}": salesforce.add_account(f"Company {n}") for n in range(3)}
    report = window_report([account(account_id, crm_id=record) for account_id, record in ids.items()])

    def killed(*args: Any) -> None:
        raise KeyboardInterrupt("killed between the CRM call and the ledger write")

    with monkeypatch.context() as patch:
        patch.setattr(ledger, "mark_delivered", killed)
        with pytest.raises(KeyboardInterrupt):
            sink_for(salesforce, ledger).deliver(report)
    assert all(len(salesforce.tasks_of(record)) == 1 for record in ids.values())

    result = sink_for(salesforce, DeliveryLedger(ledger.engine)).deliver(report)

    assert result.details == details(updated=3)
    assert all(len(salesforce.tasks_of(record)) == 1 for record in ids.values())
    assert {entry.status for entry in ledger.entries("salesforce", END).values()} == {DeliveryStatus.DELIVERED}


def test_a_task_create_that_timed_out_after_salesforce_stored_it_is_not_repeated(salesforce, ledger):
    acme = salesforce.add_account("Acme")
    globex = salesforce.add_account("Globex")
    salesforce.answer_late("composite/sobjects", 0.5, method="POST")
    client = client_for(salesforce, timeout=0.2)
    report = window_report([account("ACME", crm_id=acme), account("GLOBEX", crm_id=globex)])

    result = sink_for(salesforce, ledger, client=client).deliver(report)

    assert result.details == details(delivered=2)
    assert len(salesforce.tasks_of(acme)) == len(salesforce.tasks_of(globex)) == 1
    assert len(salesforce.calls("composite/sobjects", "POST")) == 1  # the retry found both Tasks stored
    assert {entry.note_id for entry in ledger.entries("salesforce", END).values()} == set(salesforce.tasks)


# --- limits, sessions, server errors, timeouts --------------------------------------------


def test_the_request_limit_stops_the_run_and_the_next_run_finishes_it(salesforce, ledger, sleeps):
    acme = salesforce.add_account("Acme")
    salesforce.limit_next("composite/sobjects", method="POST")
    report = window_report([account("ACME", crm_id=acme)])

    with pytest.raises(CrmLimitReached, match="REQUEST_LIMIT_EXCEEDED"):
        sink_for(salesforce, ledger, client=client_for(salesforce, sleeps)).deliver(report)

    assert sleeps == []  # not retried
    entry = ledger.entries("salesforce", END)["ACME"]
    assert entry.status is DeliveryStatus.IN_FLIGHT
    assert "request limit" in entry.last_error
    assert salesforce.tasks_of(acme) == []

    result = sink_for(salesforce, ledger).deliver(report)

    assert result.details == details(delivered=1)
    assert len(salesforce.tasks_of(acme)) == 1


def test_api_calls_go_to_the_instance_url_the_token_answer_names(salesforce, ledger):
    acme = salesforce.add_account("Acme")
    login = HTTPServer()
    login.start()
    try:
        client = SalesforceClient(salesforce.serve_login(login), CLIENT_ID, CLIENT_SECRET, retry=NO_WAITING)

        result = sink_for(salesforce, ledger, client=client).deliver(window_report([account("ACME", crm_id=acme)]))
    finally:
        login.stop()

    assert result.details == details(delivered=1)
    assert len(salesforce.calls("/services/oauth2/token")) == 1 and len(salesforce.tasks_of(acme)) == 1
    # the fixture fails the test if any API call went to the login URL


def test_an_expired_session_gets_one_new_token(salesforce, ledger):
    acme = salesforce.add_account("Acme")
    client = client_for(salesforce)
    sink_for(salesforce, ledger, client=client).deliver(window_report([account("ACME", crm_id=acme, score=40)]))
    salesforce.expire_sessions()

    result = sink_for(salesforce, ledger, client=client).deliver(
        window_report([account("ACME", crm_id=acme, score=60)])
    )

    assert result.details == details(updated=1)
    assert len(salesforce.calls("/services/oauth2/token")) == 2


def test_a_session_refused_twice_stops_the_run_naming_the_environment_variables(salesforce, ledger):
    acme = salesforce.add_account("Acme")
    salesforce.fail_next(
        "composite/sobjects",
        401,
        [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
        times=2,
    )

    with pytest.raises(CrmAuthError, match="SALESFORCE_CLIENT_SECRET") as raised:
        sink_for(salesforce, ledger).deliver(window_report([account("ACME", crm_id=acme)]))

    assert "INVALID_SESSION_ID" in str(raised.value)
    assert len(salesforce.calls("/services/oauth2/token")) == 2
    assert salesforce.accounts[acme].get("Web_Intent_Score__c") is None


def test_a_wrong_client_secret_stops_the_run_before_anything_is_sent(salesforce, ledger):
    acme = salesforce.add_account("Acme")
    client = client_for(salesforce, client_secret="not-the-secret")

    with pytest.raises(
        CrmAuthError, match="invalid_client invalid client credentials.*SALESFORCE_CLIENT_SECRET"
    ) as raised:
        sink_for(salesforce, ledger, client=client).deliver(window_report([account("ACME", crm_id=acme)]))

    assert "not-the-secret" not in str(raised.value)
    assert ledger.entries("salesforce", END) == {}


def test_server_errors_are_retried_with_exponential_backoff(salesforce, ledger, sleeps):
    acme = salesforce.add_account("Acme")
    salesforce.fail_next("composite/sobjects", 503, method="PATCH", times=2)
    client = client_for(salesforce, sleeps, retry=RetryPolicy(attempts=3, initial_wait=0.5, max_wait=10, jitter=0))

    result = sink_for(salesforce, ledger, client=client).deliver(window_report([account("ACME", crm_id=acme)]))

    assert result.details == details(delivered=1)
    assert sleeps == [0.5, 1.0]
    assert len(salesforce.tasks_of(acme)) == 1


def test_a_query_that_times_out_is_retried(salesforce, ledger):
    acme = salesforce.add_account("Acme")
    # A late answer that would say "no such Account": only a timeout and a retry find Acme.
    salesforce.fail_next("/query", 200, {"totalSize": 0, "done": True, "records": []}, delay=0.5)

    result = sink_for(salesforce, ledger, client=client_for(salesforce, timeout=0.1)).deliver(
        window_report([account("ACME", crm_id=acme)])
    )

    assert result.details == details(delivered=1)
    assert len(salesforce.calls("/query")) == 2


def test_salesforce_failing_through_every_retry_stops_the_run_with_nothing_marked_delivered(salesforce, ledger):
    acme = salesforce.add_account("Acme")
    salesforce.fail_next("composite/sobjects", 500, method="PATCH", times=NO_WAITING.attempts)

    with pytest.raises(CrmUnavailable, match="after 3 attempts"):
        sink_for(salesforce, ledger).deliver(window_report([account("ACME", crm_id=acme)]))

    assert ledger.entries("salesforce", END)["ACME"].status is DeliveryStatus.IN_FLIGHT


# --- dry runs ----------------------------------------------------------------------------


def test_a_dry_run_writes_the_requests_to_files_and_sends_no_change(salesforce, ledger, tmp_path):
    acme = salesforce.add_account("Acme")
    report = window_report([account("ACME", crm_id=acme)], [page("ACME", "2026-11-03 10:00", "/pricing")])
    client = client_for(salesforce, dry_run_dir=tmp_path / "requests")

    result = sink_for(salesforce, ledger, client=client).deliver(report)

    written = [json.loads(path.read_text()) for path in sorted((tmp_path / "requests").iterdir())]
    assert [(r["method"], r["url"].removeprefix(salesforce.url)) for r in written] == [
        ("PATCH", "/services/data/v68.0/composite/sobjects"),
        ("POST", "/services/data/v68.0/composite/sobjects"),
    ]
    assert {r["headers"]["Authorization"] for r in written} == {"Bearer [REDACTED]"}
    assert result.details["would_write"] == 1
    assert salesforce.tasks == {} and "Web_Intent_Score__c" not in salesforce.accounts[acme]
    assert ledger.entries("salesforce", END) == {}

    sink_for(salesforce, ledger).deliver(report)  # the real run sends exactly what the dry run wrote
    sent = [(call.method, call.json) for call in salesforce.calls("composite/sobjects")]
    assert sent == [(r["method"], r["json"]) for r in written]


def test_the_client_secret_and_tokens_stay_out_of_reprs_and_logs(salesforce, ledger, caplog):
    caplog.set_level(logging.DEBUG)
    acme = salesforce.add_account("Acme")
    client = client_for(salesforce)

    sink_for(salesforce, ledger, client=client).deliver(window_report([account("ACME", crm_id=acme)]))

    [token] = salesforce.tokens
    assert CLIENT_SECRET not in repr(client) and "[REDACTED]" in repr(client)
    assert CLIENT_SECRET not in caplog.text and token not in caplog.text


@pytest.mark.parametrize("version", ["68.0", "v68.0"])
def test_the_api_version_is_accepted_with_or_without_its_v(salesforce, version):
    assert client_for(salesforce, api_version=version).api_version == "v68.0"


def test_start_and_end_dates_come_from_the_report(salesforce, ledger):
    acme = salesforce.add_account("Acme")
    later = END + dt.timedelta(days=14)

    report = window_report([account("ACME", crm_id=acme)], start=START + dt.timedelta(days=14), end=later)

    sink_for(salesforce, ledger).deliver(report)

    [task] = salesforce.tasks_of(acme)
    assert (task["ActivityDate"], task["Subject"]) == (
        "2026-11-29",
        f"Website intent 2026-11-16 to 2026-11-29 ({note_marker('ACME', later)})",
    )
