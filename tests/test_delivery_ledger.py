"""The delivery ledger on SQLite and PostgreSQL (the ``database_url`` fixture runs both)."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.crm.ledger import MAX_ERROR_CHARS, Attempt, DeliveryLedger, DeliveryStatus

WINDOW = dt.date(2026, 11, 15)
EARLIER = dt.date(2026, 11, 1)


@pytest.fixture
def ledger(database_url: str) -> DeliveryLedger:
    return DeliveryLedger(database_url)


def test_its_table_is_created_on_first_use_and_kept_across_instances(database_url):
    DeliveryLedger(database_url).mark_in_flight("hubspot", WINDOW, [Attempt("ACME", "hash-1", 72.0, "101")])

    entries = DeliveryLedger(database_url).entries("hubspot", WINDOW)

    assert list(entries) == ["ACME"]
    assert entries["ACME"].status is DeliveryStatus.IN_FLIGHT
    assert entries["ACME"].company_id == "101"


def test_a_delivery_moves_from_in_flight_to_delivered_with_its_note(ledger):
    ledger.mark_in_flight("hubspot", WINDOW, [Attempt("ACME", "hash-1", 72.0, "101")])

    ledger.mark_delivered("hubspot", WINDOW, {"ACME": "501"})

    entry = ledger.entries("hubspot", WINDOW)["ACME"]
    assert (entry.status, entry.company_id, entry.note_id, entry.attempts) == (
        DeliveryStatus.DELIVERED,
        "101",
        "501",
        1,
    )
    assert entry.is_delivered("hash-1")
    assert not entry.is_delivered("hash-2")  # a changed payload is sent again


def test_a_failed_delivery_keeps_its_error_until_a_later_attempt_delivers(ledger):
    ledger.mark_in_flight("hubspot", WINDOW, [Attempt("ACME", "hash-1", 72.0, "101")])
    ledger.mark_failed("hubspot", WINDOW, {"ACME": "VALIDATION_ERROR Industry is required " + "x" * 5_000})

    failed = ledger.entries("hubspot", WINDOW)["ACME"]
    assert failed.status is DeliveryStatus.FAILED
    assert failed.last_error.startswith("VALIDATION_ERROR Industry is required")
    assert len(failed.last_error) == MAX_ERROR_CHARS
    assert not failed.is_delivered("hash-1")

    ledger.mark_in_flight("hubspot", WINDOW, [Attempt("ACME", "hash-1", 72.0, "101")])
    ledger.mark_delivered("hubspot", WINDOW, {"ACME": "501"})

    delivered = ledger.entries("hubspot", WINDOW)["ACME"]
    assert (delivered.status, delivered.attempts, delivered.last_error) == (DeliveryStatus.DELIVERED, 2, None)


def test_a_new_attempt_keeps_the_note_and_company_already_known(ledger):
    ledger.mark_in_flight("hubspot", WINDOW, [Attempt("ACME", "hash-1", 72.0, "101")])
    ledger.mark_delivered("hubspot", WINDOW, {"ACME": "501"})

    ledger.mark_in_flight("hubspot", WINDOW, [Attempt("ACME", "hash-2", 80.0)])

    entry = ledger.entries("hubspot", WINDOW)["ACME"]
    assert (entry.status, entry.payload_hash, entry.company_id, entry.note_id) == (
        DeliveryStatus.IN_FLIGHT,
        "hash-2",
        "101",
        "501",
    )


def test_an_error_can_be_noted_on_entries_still_in_flight(ledger):
    ledger.mark_in_flight("hubspot", WINDOW, [Attempt("ACME", "hash-1", 72.0, "101")])

    ledger.note_error("hubspot", WINDOW, ["ACME"], "daily API limit used up")

    entry = ledger.entries("hubspot", WINDOW)["ACME"]
    assert (entry.status, entry.last_error) == (DeliveryStatus.IN_FLIGHT, "daily API limit used up")


def test_accounts_without_a_crm_record_are_recorded_as_not_found(ledger):
    ledger.mark_not_found("hubspot", WINDOW, [Attempt("NOWHERE", "hash-1", 12.0)])
    ledger.mark_not_found("hubspot", WINDOW, [Attempt("NOWHERE", "hash-1", 12.0)])

    entry = ledger.entries("hubspot", WINDOW)["NOWHERE"]
    assert (entry.status, entry.attempts, entry.company_id) == (DeliveryStatus.NOT_FOUND, 2, None)


def test_entries_are_kept_apart_by_window_and_sink(ledger):
    ledger.mark_in_flight("hubspot", WINDOW, [Attempt("ACME", "hash-1", 72.0, "101")])
    ledger.mark_in_flight("salesforce", WINDOW, [Attempt("ACME", "hash-1", 72.0, "001A")])
    ledger.mark_in_flight("hubspot", EARLIER, [Attempt("ACME", "hash-0", 40.0, "101")])

    ledger.mark_delivered("hubspot", WINDOW, {"ACME": "501"})

    assert ledger.entries("salesforce", WINDOW)["ACME"].status is DeliveryStatus.IN_FLIGHT
    assert ledger.entries("hubspot", EARLIER)["ACME"].status is DeliveryStatus.IN_FLIGHT
    assert ledger.entries("hubspot", WINDOW)["ACME"].status is DeliveryStatus.DELIVERED


def test_previous_scores_come_from_each_accounts_latest_earlier_window(ledger):
    ledger.mark_in_flight("hubspot", dt.date(2026, 10, 18), [Attempt("ACME", "h", 20.0), Attempt("GLOBEX", "h", 50.0)])
    ledger.mark_in_flight("hubspot", EARLIER, [Attempt("ACME", "h", 40.0)])
    ledger.mark_in_flight("hubspot", WINDOW, [Attempt("ACME", "h", 72.0)])
    ledger.mark_in_flight("salesforce", EARLIER, [Attempt("INITECH", "h", 10.0)])

    scores = ledger.previous_scores("hubspot", WINDOW, ["ACME", "GLOBEX", "INITECH"])

    assert scores == {"ACME": 40.0, "GLOBEX": 50.0}


def test_an_accounts_entries_of_every_window_can_be_read_and_forgotten(ledger):
    ledger.mark_in_flight("hubspot", EARLIER, [Attempt("ACME", "h", 40.0, "101"), Attempt("GLOBEX", "h", 50.0, "202")])
    ledger.mark_in_flight("hubspot", WINDOW, [Attempt("ACME", "h", 72.0, "101")])
    ledger.mark_in_flight("salesforce", WINDOW, [Attempt("ACME", "h", 72.0, "001A")])

    entries = ledger.entries_of_accounts("hubspot", ["ACME"])

    assert [(e.account_id, e.window_end) for e in entries] == [("ACME", EARLIER), ("ACME", WINDOW)]
    assert ledger.forget("hubspot", ["ACME"]) == 2
    assert ledger.entries_of_accounts("hubspot", ["ACME", "GLOBEX"])[0].account_id == "GLOBEX"
    assert len(ledger.entries_of_accounts("salesforce", ["ACME"])) == 1  # another sink's rows stay


def test_a_records_owner_is_the_account_of_its_latest_delivery(ledger):
    ledger.mark_in_flight("hubspot", EARLIER, [Attempt("ACME", "h", 40.0, "101")])
    ledger.mark_in_flight(
        "hubspot", WINDOW, [Attempt("ACME-HOLDING", "h", 60.0, "101"), Attempt("GLOBEX", "h", 1.0, "202")]
    )

    assert ledger.record_owners("hubspot", ["101", "202", "303"]) == {"101": "ACME-HOLDING", "202": "GLOBEX"}
