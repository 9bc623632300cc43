"""The HubSpot sink against a local fake of HubSpot's CRM API that keeps state.

Every request the connector sends is validated against tests/crm_fakes/hubspot_openapi.yaml
(written from HubSpot's own 2026-09 descriptions); the ``hubspot`` fixture fails a test
that sent anything the description doesn't allow.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from pytest_httpserver import HTTPServer

from connectors.crm.hubspot import COMPANY_PROPERTIES, HubSpotClient, HubSpotSink
from connectors.crm.ledger import DeliveryLedger, DeliveryStatus
from connectors.crm.note import note_marker, render_note
from connectors.crm.transport import CrmAuthError, CrmLimitReached, CrmUnavailable, RetryPolicy
from connectors.sinks.base import WindowReport
from enrichment.summary import WindowSummary
from enrichment.trend import Trend, intent_trend
from tests.crm_fakes.hubspot_server import FakeHubSpot

TOKEN = "pat-na1-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
START, END = dt.date(2026, 11, 2), dt.date(2026, 11, 15)
NO_WAITING = RetryPolicy(attempts=3, initial_wait=0, max_wait=0, jitter=0)


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    server = HTTPServer(threaded=True)  # a deliberately slow answer must not block the retry
    server.start()
    yield server
    server.stop()


@pytest.fixture
def hubspot(server: HTTPServer) -> Iterator[FakeHubSpot]:
    server.clear()
    fake = FakeHubSpot(server, token=TOKEN)
    yield fake
    assert fake.violations == [], "requests or answers outside HubSpot's API description"


@pytest.fixture
def ledger(tmp_path: Path) -> DeliveryLedger:
    return DeliveryLedger(f"sqlite:///{tmp_path / 'ledger.db'}")


@pytest.fixture
def sleeps() -> list[float]:
    """Every wait the client asked for; nothing really sleeps."""
    return []


def client_for(hubspot: FakeHubSpot, sleeps: list[float] | None = None, **options: Any) -> HubSpotClient:
    settings: dict[str, Any] = {"base_url": hubspot.url, "retry": NO_WAITING, "search_interval": 0}
    if sleeps is not None:
        settings["sleep"] = sleeps.append
    return HubSpotClient(options.pop("token", TOKEN), **{**settings, **options})


def sink_for(
    hubspot: FakeHubSpot,
    ledger: DeliveryLedger,
    *,
    client: HubSpotClient | None = None,
    domains: dict[str, list[str]] | None = None,
    **options: Any,
) -> HubSpotSink:
    return HubSpotSink(client or client_for(hubspot), ledger, domains or {}, **options)


def account(account_id: str, *, crm_id: str | None = None, score: float = 72.4, **overrides: Any) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "name": f"{account_id} Inc.",
        "crm_id": crm_id,
        "owner": None,
        "matched_by": "domain",
        "organizations": f"{account_id} Inc.",
        "countries": "DE",
        "visits": 3,
        "pageviews": 7,
        "visitors": 2,
        "first_seen": pd.Timestamp("2026-11-03 10:00", tz="UTC"),
        "last_seen": pd.Timestamp("2026-11-14 09:12", tz="UTC"),
        "furthest_stage": "decision",
        "top_topics": "pricing (4); integrations (2)",
        "top_pages": "/pricing (3); /docs (1)",
        "intent_score": score,
        "window_start": START,
        "window_end": END,
        **overrides,
    }


def page(account_id: str, when: str, url: str, *, visit: str = "v1", stage: str | None = "decision") -> dict[str, Any]:
    return {
        "account_id": account_id,
        "timestamp": pd.Timestamp(when, tz="UTC"),
        "visit_id": visit,
        "url": url,
        "topics": "pricing",
        "stage": stage,
        "content_type": "pricing",
        "excluded_from_intent": False,
        "referrer": "https://mail.example/?to=jane.doe@acme.com",
    }


def window_report(
    accounts: list[dict[str, Any]],
    pages: list[dict[str, Any]] | None = None,
    *,
    start: dt.date = START,
    end: dt.date = END,
) -> WindowReport:
    empty = pd.DataFrame()
    path = pd.DataFrame(pages or [], columns=list(page("x", "2026-11-03", "/").keys()))
    frame = pd.DataFrame([{**a, "window_start": start, "window_end": end} for a in accounts])
    return WindowReport(start, end, frame, path, WindowSummary(empty, empty, empty, empty, empty), empty)


def details(**counts: int) -> dict[str, int]:
    return {"delivered": 0, "updated": 0, "unchanged": 0, "not_found": 0, "failed": 0, **counts}


# --- delivering a window -----------------------------------------------------------


def test_each_account_gets_its_intent_properties_and_one_note_on_its_company(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    report = window_report([account("ACME", crm_id=acme)], [page("ACME", "2026-11-03 10:00", "/pricing")])

    result = sink_for(hubspot, ledger).deliver(report)

    assert result.details == details(delivered=1)
    marker = note_marker("ACME", END)
    properties = {
        "vi_intent_score": "72",
        "vi_intent_trend": "new",
        "vi_furthest_stage": "decision",
        "vi_top_topics": "pricing (4); integrations (2)",
        "vi_visits": "3",
        "vi_pageviews": "7",
        "vi_last_visit": "2026-11-14T09:12:00Z",
        "vi_report_window": "2026-11-02 to 2026-11-15",
    }
    assert hubspot.calls("companies/batch/update")[0].json == {
        "inputs": [{"id": acme, "properties": properties, "objectWriteTraceId": marker}]
    }
    [create] = hubspot.calls("notes/batch/create")[0].json["inputs"]
    assert create["associations"] == [
        {"to": {"id": acme}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 190}]}
    ]
    assert create["properties"]["hs_timestamp"] == "2026-11-15T23:59:59Z"
    assert create["objectWriteTraceId"] == marker
    assert hubspot.companies[acme] | properties == hubspot.companies[acme]
    [note] = hubspot.notes_of(acme)
    assert marker in note.properties["hs_note_body"]


def test_accounts_without_crm_id_are_found_by_domain_with_one_search(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    globex = hubspot.add_company("Globex", "globex.example")
    report = window_report([account("ACME"), account("GLOBEX", score=20)])
    domains = {"ACME": ["WWW.Acme.com"], "GLOBEX": ["https://globex.example/about"]}

    result = sink_for(hubspot, ledger, domains=domains).deliver(report)

    assert result.details == details(delivered=2)
    assert [call.json for call in hubspot.calls("companies/search")] == [
        {
            "filterGroups": [
                {"filters": [{"propertyName": "domain", "operator": "IN", "values": ["acme.com", "globex.example"]}]}
            ],
            "properties": ["domain"],
            "sorts": [],
            "limit": 200,
            "after": "0",
        }
    ]
    assert len(hubspot.notes_of(acme)) == len(hubspot.notes_of(globex)) == 1


def test_an_account_whose_crm_id_is_gone_falls_back_to_its_domain(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    report = window_report([account("ACME", crm_id="404")])

    sink_for(hubspot, ledger, domains={"ACME": ["acme.com"]}).deliver(report)

    assert len(hubspot.notes_of(acme)) == 1


def test_accounts_without_a_company_are_reported_and_no_company_is_created(hubspot, ledger):
    hubspot.add_company("Acme", "acme.com")
    report = window_report([account("ACME"), account("NOWHERE", crm_id="404")])

    result = sink_for(hubspot, ledger, domains={"ACME": ["acme.com"], "NOWHERE": ["nowhere.example"]}).deliver(report)

    assert result.details == details(delivered=1, not_found=1)
    assert len(hubspot.companies) == 1
    assert hubspot.calls("objects/2026-09/companies/batch/create") == []
    assert ledger.entries("hubspot", END)["NOWHERE"].status is DeliveryStatus.NOT_FOUND


def test_missing_companies_are_created_only_when_asked_to(hubspot, ledger):
    report = window_report([account("NEWCO")])

    result = sink_for(hubspot, ledger, domains={"NEWCO": ["newco.example"]}, create_missing_companies=True).deliver(
        report
    )

    assert result.details == details(delivered=1)
    [company_id] = hubspot.companies
    assert hubspot.companies[company_id]["domain"] == "newco.example"
    assert len(hubspot.notes_of(company_id)) == 1


def test_two_accounts_pointing_at_one_company_do_not_overwrite_each_other(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    report = window_report([account("ACME", crm_id=acme, score=80), account("ACME-DE", crm_id=acme, score=30)])

    result = sink_for(hubspot, ledger).deliver(report)

    assert result.details == details(delivered=1, failed=1)
    assert hubspot.companies[acme]["vi_intent_score"] == "80"
    assert "ACME" in ledger.entries("hubspot", END)["ACME-DE"].last_error


# --- property setup ----------------------------------------------------------------


def test_the_property_group_and_missing_properties_are_created_once(hubspot, ledger):
    hubspot.groups.add("website_intent")
    hubspot.properties["vi_intent_score"] = {**COMPANY_PROPERTIES[0], "options": []}
    acme = hubspot.add_company("Acme", "acme.com")
    sink = sink_for(hubspot, ledger)

    sink.deliver(window_report([account("ACME", crm_id=acme)]))
    sink.deliver(
        window_report([account("ACME", crm_id=acme)], start=END + dt.timedelta(days=1), end=END + dt.timedelta(days=14))
    )

    assert [call.json["name"] for call in hubspot.calls("properties/2026-09/companies/groups")] == ["website_intent"]
    [create] = hubspot.calls("properties/2026-09/companies/batch/create")
    assert {(p["name"], p["type"], p["fieldType"]) for p in create.json["inputs"]} == {
        ("vi_intent_trend", "enumeration", "select"),
        ("vi_furthest_stage", "enumeration", "select"),
        ("vi_top_topics", "string", "textarea"),
        ("vi_visits", "number", "number"),
        ("vi_pageviews", "number", "number"),
        ("vi_last_visit", "datetime", "date"),
        ("vi_report_window", "string", "text"),
    }
    assert {p["groupName"] for p in create.json["inputs"]} == {"website_intent"}
    assert len(hubspot.calls("properties/2026-09/companies/batch/read")) == 2


# --- re-runs -----------------------------------------------------------------------


def test_rerunning_a_window_updates_its_note_instead_of_adding_one(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    globex = hubspot.add_company("Globex", "globex.example")
    sink = sink_for(hubspot, ledger)
    sink.deliver(window_report([account("ACME", crm_id=acme, score=40), account("GLOBEX", crm_id=globex)]))

    result = sink.deliver(window_report([account("ACME", crm_id=acme, score=65), account("GLOBEX", crm_id=globex)]))

    assert result.details == details(updated=1, unchanged=1)
    [note] = hubspot.notes_of(acme)
    assert "<strong>65</strong>/100" in note.properties["hs_note_body"]
    assert hubspot.companies[acme]["vi_intent_score"] == "65"
    assert len(hubspot.notes_of(globex)) == 1


def test_an_unchanged_window_sends_nothing(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    sink = sink_for(hubspot, ledger)
    report = window_report([account("ACME", crm_id=acme)])
    sink.deliver(report)
    sent = len(hubspot.requests)

    result = sink.deliver(report)

    assert result.details == details(unchanged=1)
    assert len(hubspot.requests) == sent


def test_the_trend_compares_with_the_previous_window(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    sink = sink_for(hubspot, ledger)
    sink.deliver(
        window_report(
            [account("ACME", crm_id=acme, score=30)],
            start=START - dt.timedelta(days=14),
            end=START - dt.timedelta(days=1),
        )
    )

    sink.deliver(window_report([account("ACME", crm_id=acme, score=60)]))

    assert hubspot.companies[acme]["vi_intent_trend"] == "rising"
    assert len(hubspot.notes_of(acme)) == 2  # one per window


@pytest.mark.parametrize(
    ("score", "previous", "trend"),
    [(50, None, Trend.NEW), (50, 40, Trend.RISING), (50, 47, Trend.STEADY), (50, 60, Trend.FALLING)],
)
def test_intent_trend(score, previous, trend):
    assert intent_trend(score, previous) is trend


# --- partial failures and crashes ----------------------------------------------------


def test_a_company_rejected_by_a_validation_rule_fails_alone_and_is_retried_next_run(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    globex = hubspot.add_company("Globex", "globex.example")
    hubspot.validation_rules[globex] = "Industry is required by a validation rule"
    sink = sink_for(hubspot, ledger)
    report = window_report([account("ACME", crm_id=acme), account("GLOBEX", crm_id=globex)])

    first = sink.deliver(report)

    assert first.details == details(delivered=1, failed=1)
    entry = ledger.entries("hubspot", END)["GLOBEX"]
    assert entry.status is DeliveryStatus.FAILED
    assert "Industry is required" in entry.last_error
    assert hubspot.notes_of(globex) == []

    del hubspot.validation_rules[globex]
    second = sink.deliver(report)

    assert second.details == details(delivered=1, unchanged=1)
    assert len(hubspot.notes_of(acme)) == len(hubspot.notes_of(globex)) == 1


def test_a_run_killed_after_hubspot_stored_the_notes_resumes_without_duplicates(hubspot, ledger, monkeypatch):
    companies = {f"ACC-{n}": hubspot.add_company(f"Company {n}", f"c{n}.example") for n in range(3)}
    report = window_report([account(account_id, crm_id=company_id) for account_id, company_id in companies.items()])

    def killed(*args: Any) -> None:
        raise KeyboardInterrupt("killed between the CRM call and the ledger write")

    with monkeypatch.context() as patch:
        patch.setattr(ledger, "mark_delivered", killed)
        with pytest.raises(KeyboardInterrupt):
            sink_for(hubspot, ledger).deliver(report)
    assert all(len(hubspot.notes_of(company_id)) == 1 for company_id in companies.values())

    result = sink_for(hubspot, DeliveryLedger(ledger.engine)).deliver(report)

    assert result.details == details(updated=3)
    assert all(len(hubspot.notes_of(company_id)) == 1 for company_id in companies.values())
    assert {entry.status for entry in ledger.entries("hubspot", END).values()} == {DeliveryStatus.DELIVERED}


# --- delivery honesty: what HubSpot confirmed -------------------------------------------


def test_notes_are_confirmed_by_their_marker_when_hubspot_echoes_no_trace_id(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    hubspot.echo_trace_ids = False

    result = sink_for(hubspot, ledger).deliver(window_report([account("ACME", crm_id=acme)]))

    assert result.details == details(delivered=1)
    [note_id] = hubspot.notes
    assert ledger.entries("hubspot", END)["ACME"].status is DeliveryStatus.DELIVERED
    assert ledger.entries("hubspot", END)["ACME"].note_id == note_id
    assert hubspot.calls("notes/search") == []  # the marker in the returned body sufficed


def test_notes_are_read_back_when_hubspot_echoes_neither_trace_id_nor_body(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    hubspot.echo_trace_ids = hubspot.echo_written_properties = False

    result = sink_for(hubspot, ledger).deliver(window_report([account("ACME", crm_id=acme)]))

    assert result.details == details(delivered=1)
    assert ledger.entries("hubspot", END)["ACME"].note_id == next(iter(hubspot.notes))
    assert len(hubspot.calls("notes/search")) == 1


def test_a_note_hubspot_did_not_confirm_is_counted_in_flight_and_repaired_next_run(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    hubspot.echo_trace_ids = hubspot.echo_written_properties = False
    hubspot.index_new_notes = False  # not found by search yet
    report = window_report([account("ACME", crm_id=acme)])

    first = sink_for(hubspot, ledger).deliver(report)

    assert first.details == {**details(), "in_flight": 1}
    assert ledger.entries("hubspot", END)["ACME"].status is DeliveryStatus.IN_FLIGHT
    hubspot.unindexed_notes.clear()  # indexed by now

    second = sink_for(hubspot, ledger).deliver(report)

    assert second.details == details(updated=1)
    assert len(hubspot.notes_of(acme)) == 1


# --- rate limits, server errors, timeouts ----------------------------------------------


def test_a_rate_limited_request_waits_as_long_as_retry_after_says(hubspot, ledger, sleeps):
    acme = hubspot.add_company("Acme", "acme.com")
    hubspot.rate_limit_next("companies/batch/update", "TEN_SECONDLY_ROLLING", retry_after="7")

    result = sink_for(hubspot, ledger, client=client_for(hubspot, sleeps)).deliver(
        window_report([account("ACME", crm_id=acme)])
    )

    assert result.details == details(delivered=1)
    assert sleeps == [7.0]
    assert len(hubspot.calls("companies/batch/update")) == 2


def test_a_rate_limit_without_retry_after_backs_off_exponentially(hubspot, ledger, sleeps):
    acme = hubspot.add_company("Acme", "acme.com")
    hubspot.rate_limit_next("notes/batch/create", "SECONDLY", times=2)
    client = client_for(hubspot, sleeps, retry=RetryPolicy(attempts=3, initial_wait=0.5, max_wait=10, jitter=0))

    result = sink_for(hubspot, ledger, client=client).deliver(window_report([account("ACME", crm_id=acme)]))

    assert result.details == details(delivered=1)
    assert sleeps == [0.5, 1.0]
    assert len(hubspot.notes_of(acme)) == 1


def test_the_daily_limit_stops_the_run_and_the_next_run_finishes_it(hubspot, ledger, sleeps):
    acme = hubspot.add_company("Acme", "acme.com")
    hubspot.rate_limit_next("notes/batch/create", "DAILY")
    report = window_report([account("ACME", crm_id=acme)])

    with pytest.raises(CrmLimitReached):
        sink_for(hubspot, ledger, client=client_for(hubspot, sleeps)).deliver(report)

    assert sleeps == []  # not retried
    entry = ledger.entries("hubspot", END)["ACME"]
    assert entry.status is DeliveryStatus.IN_FLIGHT
    assert "daily API limit" in entry.last_error
    assert hubspot.notes_of(acme) == []

    result = sink_for(hubspot, ledger).deliver(report)

    assert result.details == details(delivered=1)
    assert len(hubspot.notes_of(acme)) == 1


def test_server_errors_are_retried(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    hubspot.fail_next("companies/search", 500, times=2)

    result = sink_for(hubspot, ledger, domains={"ACME": ["acme.com"]}).deliver(window_report([account("ACME")]))

    assert result.details == details(delivered=1)
    assert len(hubspot.notes_of(acme)) == 1


def test_a_request_that_times_out_is_retried(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    # A late answer that would say "no such company": only a timeout and a retry find Acme.
    late = {
        "status": "COMPLETE",
        "results": [],
        "startedAt": "2026-11-16T06:00:00Z",
        "completedAt": "2026-11-16T06:00:00Z",
    }
    hubspot.fail_next("companies/batch/read", 200, late, delay=0.5)
    client = client_for(hubspot, timeout=0.1)

    result = sink_for(hubspot, ledger, client=client).deliver(window_report([account("ACME", crm_id=acme)]))

    assert result.details == details(delivered=1)
    assert len(hubspot.calls("objects/2026-09/companies/batch/read")) == 2


def test_hubspot_failing_through_every_retry_stops_the_run_with_nothing_marked_delivered(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    hubspot.fail_next("notes/batch/create", 503, times=NO_WAITING.attempts)

    with pytest.raises(CrmUnavailable, match="after 3 attempts"):
        sink_for(hubspot, ledger).deliver(window_report([account("ACME", crm_id=acme)]))

    assert ledger.entries("hubspot", END)["ACME"].status is DeliveryStatus.IN_FLIGHT


def test_a_rejected_token_stops_the_run_naming_the_environment_variable(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    client = client_for(hubspot, token="pat-na1-revoked-token")

    with pytest.raises(CrmAuthError, match="HUBSPOT_ACCESS_TOKEN") as raised:
        sink_for(hubspot, ledger, client=client).deliver(window_report([account("ACME", crm_id=acme)]))

    assert "pat-na1-revoked-token" not in str(raised.value)
    assert ledger.entries("hubspot", END) == {}
    assert hubspot.notes == {}


def test_a_token_without_the_needed_scopes_stops_the_run(hubspot, ledger):
    acme = hubspot.add_company("Acme", "acme.com")
    hubspot.fail_next(
        "companies/batch/update",
        403,
        {
            "status": "error",
            "message": "This app hasn't been granted all required scopes to make this call.",
            "correlationId": "6f1a7ad5-6a8b-4d6c-9a7e-0c2b7d5e1f00",
            "category": "MISSING_SCOPES",
        },
    )

    with pytest.raises(CrmAuthError, match="HUBSPOT_ACCESS_TOKEN.*crm.objects.companies.read/write"):
        sink_for(hubspot, ledger).deliver(window_report([account("ACME", crm_id=acme)]))

    assert ledger.entries("hubspot", END)["ACME"].status is not DeliveryStatus.DELIVERED


def test_searches_are_spaced_to_stay_under_hubspots_search_limit(hubspot, ledger, sleeps):
    for n in range(250):
        hubspot.add_company(f"Company {n}", f"c{n}.example")
    client = client_for(hubspot, sleeps, search_interval=0.25, clock=lambda: 100.0)

    client.find_companies_by_domain([f"c{n}.example" for n in range(250)])

    assert sleeps == [0.25, 0.25]  # three searches, each after the previous one's interval


# --- secrets, dry runs, call budget ----------------------------------------------------


def test_the_token_never_reaches_logs_errors_reprs_or_the_ledger(hubspot, ledger, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    acme = hubspot.add_company("Acme", "acme.com")
    globex = hubspot.add_company("Globex", "globex.example")
    hubspot.validation_rules[globex] = f"rejected request with Bearer {TOKEN}"  # even when an answer echoes it
    hubspot.rate_limit_next("companies/batch/update", "SECONDLY")
    hubspot.fail_next("notes/batch/create", 500)
    client = client_for(hubspot)
    report = window_report([account("ACME", crm_id=acme), account("GLOBEX", crm_id=globex)])
    sink_for(hubspot, ledger, client=client).deliver(report)
    hubspot.rate_limit_next("notes/search", "DAILY")
    errors = []
    for failing in (client_for(hubspot, token=TOKEN + "x"), client):
        try:
            failing.find_notes(["vi0"])
        except Exception as error:  # noqa: BLE001
            errors.append(error)
    dry_run = client_for(hubspot, dry_run_dir=tmp_path / "dry-run")
    sink_for(hubspot, DeliveryLedger(f"sqlite:///{tmp_path / 'other.db'}"), client=dry_run).deliver(report)

    exposed = [
        caplog.text,
        repr(client),
        repr(dry_run),
        *map(str, errors),
        *map(repr, errors),
        *(entry.last_error or "" for entry in ledger.entries("hubspot", END).values()),
        *(path.read_text() for path in (tmp_path / "dry-run").iterdir()),
    ]
    assert len(errors) == 2
    assert not [text for text in exposed if TOKEN in text]


def test_a_dry_run_writes_the_requests_to_files_and_sends_no_change(hubspot, ledger, tmp_path):
    acme = hubspot.add_company("Acme", "acme.com")
    report = window_report([account("ACME", crm_id=acme)], [page("ACME", "2026-11-03 10:00", "/pricing")])
    client = client_for(hubspot, dry_run_dir=tmp_path / "requests")

    result = sink_for(hubspot, ledger, client=client).deliver(report)

    files = sorted((tmp_path / "requests").iterdir())
    written = [json.loads(path.read_text()) for path in files]
    assert [(r["method"], r["url"].removeprefix(hubspot.url)) for r in written] == [
        ("POST", "/crm/properties/2026-09/companies/groups"),
        ("POST", "/crm/properties/2026-09/companies/batch/create"),
        ("POST", "/crm/objects/2026-09/companies/batch/update"),
        ("POST", "/crm/objects/2026-09/notes/batch/create"),
    ]
    assert {r["headers"]["Authorization"] for r in written} == {"Bearer [REDACTED]"}
    assert written[2]["json"]["inputs"][0]["id"] == acme
    assert result.details["would_write"] == 1
    assert hubspot.notes == {} and hubspot.properties == {}
    assert ledger.entries("hubspot", END) == {}

    sink_for(hubspot, ledger).deliver(report)  # the real run sends exactly what the dry run wrote
    sent = {call.path: call.json for call in hubspot.requests}
    assert all(sent[r["url"].removeprefix(hubspot.url)] == r["json"] for r in written)


def test_a_thousand_accounts_take_at_most_thirty_calls_plus_property_setup(hubspot, ledger):
    accounts, domains = [], {}
    for n in range(1000):
        company_id = hubspot.add_company(f"Company {n}", f"c{n}.example")
        if n % 2:
            accounts.append(account(f"ACC-{n}", crm_id=company_id, score=n % 100))
        else:
            accounts.append(account(f"ACC-{n}", score=n % 100))
            domains[f"ACC-{n}"] = [f"c{n}.example"]

    result = sink_for(hubspot, ledger, domains=domains).deliver(window_report(accounts))

    assert result.details == details(delivered=1000)
    setup = [c for c in hubspot.requests if "/crm/properties/" in c.path]
    account_work = [c for c in hubspot.requests if "/crm/objects/" in c.path]
    assert len(setup) == 3  # read, group, create: once per portal, then one read per run
    assert len(account_work) <= 30  # 5 batch reads + 5 searches, 10 company updates, 10 note creates
    assert all(len(hubspot.notes_of(company_id)) == 1 for company_id in hubspot.companies)


def test_a_misspelt_field_fails_against_hubspots_api_description(hubspot):
    search = {"filtergroups": [], "properties": [], "sorts": [], "limit": 10, "after": "0"}

    answer = requests.post(
        f"{hubspot.url}/crm/objects/2026-09/companies/search",
        json=search,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )

    assert answer.status_code == 400
    assert len(hubspot.violations) == 1
    hubspot.violations.clear()


# --- the note --------------------------------------------------------------------------


def render(pages: list[dict[str, Any]], **options: Any) -> str:
    path = pd.DataFrame(pages)
    return render_note(account("ACME"), path, trend=Trend.RISING, marker="vi0123", **options)


def test_the_note_shows_score_trend_stage_topics_pages_and_one_line_per_visit():
    body = render(
        [
            page("ACME", "2026-11-03 10:00", "/blog/routing", visit="a", stage="awareness"),
            page("ACME", "2026-11-03 10:02", "/pricing", visit="a"),
            page("ACME", "2026-11-10 08:30", "/docs/api", visit="b", stage="consideration"),
        ]
    )

    assert "<strong>72</strong>/100 (rising)" in body
    assert "furthest stage: decision" in body
    assert "pricing (4); integrations (2)" in body and "/pricing (3); /docs (1)" in body
    assert (
        "<li>2026-11-03 10:00: /blog/routing → /pricing (decision)</li><li>2026-11-10 08:30: /docs/api (consideration)</li>"
        in body
    )
    assert "ref vi0123" in body


def test_the_note_carries_nothing_personal_and_escapes_log_values():
    body = render(
        [page("ACME", "2026-11-03 10:00", "/search/<script>?q=jane.doe@acme.com&token=abc#x", visit="visit-77")]
    )

    assert "jane.doe" not in body and "token=abc" not in body and "mail.example" not in body
    assert "visit-77" not in body
    assert "<script>" not in body and "/search/&lt;script&gt;" in body


def test_a_long_path_is_cut_to_the_newest_visits_with_a_pointer_to_the_full_report():
    pages = [
        page("ACME", f"2026-11-{3 + n // 24:02d} {n % 24:02d}:00", f"/docs/page-{n}", visit=f"v{n}") for n in range(200)
    ]

    body = render(pages, max_chars=2_000, report_url="https://reports.example/2026-11-02_2026-11-15/accounts/ACME.html")

    assert len(body) <= 2_000
    assert "/docs/page-199" in body and "/docs/page-0 " not in body
    assert (
        'earlier visits are not shown here: see <a href="https://reports.example/2026-11-02_2026-11-15/accounts/ACME.html">'
        in body
    )
    assert body.endswith("ref vi0123</p>")


def test_the_note_shows_the_accounts_signals_in_one_line_in_both_forms():
    signals = {"trigger_events": 2, "surge_topics": "Route Optimization 82; Fleet Management 71", "signal_score": 79.4}
    path = pd.DataFrame([page("ACME", "2026-11-03 10:00", "/pricing")])

    html = render_note(account("ACME", **signals), path, trend=Trend.RISING, marker="vi0123")
    text = render_note(account("ACME", **signals), path, trend=Trend.RISING, marker="vi0123", form="text")
    without = render_note(account("ACME"), path, trend=Trend.RISING, marker="vi0123", form="text")

    line = "2 trigger events · surging on Route Optimization 82; Fleet Management 71 · signal score 79"
    assert f"<p><strong>Signals:</strong> {line}</p>" in html
    assert f"\nSignals: {line}\n" in text
    assert "Signals" not in without
