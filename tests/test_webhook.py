"""The webhook sink against a local receiver that verifies signatures and stores documents by Idempotency-Key."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from connectors.crm.ledger import DeliveryLedger, DeliveryStatus
from connectors.crm.transport import CrmAuthError, CrmUnavailable, RetryPolicy
from connectors.crm.webhook import WebhookSink, sign, verify_signature
from tests.test_hubspot import END, START, account, details, page, window_report

SECRET = "whsec_5f0c1e2d3b4a59687766554433221100"
NOW = 1_763_280_000.0
NO_WAITING = RetryPolicy(attempts=3, initial_wait=0, max_wait=0, jitter=0)


@dataclass
class _Answer:
    status: int | None  # None: store the document, answer late
    headers: dict[str, str]
    delay: float


class Receiver:
    """What a careful receiver does: check the signature, then store each document once, by Idempotency-Key.

    A forget event deletes every document of its account.
    """

    def __init__(self, httpserver: HTTPServer) -> None:
        self.url = httpserver.url_for("/intent")
        self.documents: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.refused_accounts: dict[str, int] = {}
        self.forgotten: list[dict[str, Any]] = []  # the forget events received
        self._answers: list[_Answer] = []
        self._lock = threading.Lock()
        httpserver.expect_request(re.compile(".*")).respond_with_handler(self._handle)

    def answer_next(
        self, status: int | None, *, headers: dict[str, str] | None = None, delay: float = 0.0, times: int = 1
    ) -> None:
        self._answers += [_Answer(status, headers or {}, delay) for _ in range(times)]

    def documents_of(self, account_id: str) -> list[dict[str, Any]]:
        return [document for document in self.documents.values() if document["account_id"] == account_id]

    def _handle(self, request: Request) -> Response:
        body = request.get_data()
        with self._lock:
            self.requests.append((dict(request.headers), body))
            answer = self._answers.pop(0) if self._answers else None
        if answer and answer.status is not None:
            time.sleep(answer.delay)
            return Response("try later", status=answer.status, headers=answer.headers)
        headers = request.headers
        if not verify_signature(
            SECRET,
            headers.get("X-Visitor-Intent-Timestamp", ""),
            body,
            headers.get("X-Visitor-Intent-Signature", ""),
            now=NOW,
        ):
            return Response("bad signature", status=401)
        document = json.loads(body)
        if document["account_id"] in self.refused_accounts:
            return Response("unknown account", status=self.refused_accounts[document["account_id"]])
        with self._lock:
            if document.get("event") == "forget":  # delete every document of the account
                self.forgotten.append(document)
                self.documents = {k: d for k, d in self.documents.items() if d["account_id"] != document["account_id"]}
            else:
                self.documents.setdefault(headers["Idempotency-Key"], document)
        if answer:
            time.sleep(answer.delay)
        return Response(status=204)


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    server = HTTPServer(threaded=True)  # a deliberately slow answer must not block the retry
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver(server: HTTPServer) -> Receiver:
    server.clear()
    return Receiver(server)


@pytest.fixture
def ledger(tmp_path: Path) -> DeliveryLedger:
    return DeliveryLedger(f"sqlite:///{tmp_path / 'ledger.db'}")


@pytest.fixture
def sleeps() -> list[float]:
    return []


def sink_for(
    receiver: Receiver, ledger: DeliveryLedger, sleeps: list[float] | None = None, **options: Any
) -> WebhookSink:
    settings: dict[str, Any] = {
        "retry": NO_WAITING,
        "sleep": sleeps.append if sleeps is not None else lambda _: None,
        "clock": lambda: NOW,
    }
    return WebhookSink(receiver.url, options.pop("secret", SECRET), ledger, **{**settings, **options})


# --- the document ----------------------------------------------------------------------


def test_each_account_is_posted_once_as_a_signed_document_of_company_figures_only(receiver, ledger):
    report = window_report(
        [account("ACME", crm_id="0015g00000XyZ12AAB")],
        [page("ACME", "2026-11-03 10:00", "/pricing?email=jane@acme.com")],
    )

    result = sink_for(receiver, ledger).deliver(report)

    assert result.details == details(delivered=1)
    [(headers, body)] = receiver.requests
    assert json.loads(body) == {
        "account_id": "ACME",
        "account_name": "ACME Inc.",
        "crm_id": "0015g00000XyZ12AAB",
        "window_start": "2026-11-02",
        "window_end": "2026-11-15",
        "intent_score": 72,
        "intent_trend": "new",
        "furthest_stage": "decision",
        "top_topics": "pricing (4); integrations (2)",
        "top_pages": "/pricing (3); /docs (1)",
        "visits": 3,
        "pageviews": 7,
        "last_visit": "2026-11-14T09:12:00Z",
        "report_url": None,
    }
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Visitor-Intent-Timestamp"] == "1763280000"
    assert headers["X-Visitor-Intent-Signature"] == sign(SECRET, "1763280000", body)
    assert re.fullmatch(r"[0-9a-f]{64}", headers["Idempotency-Key"])
    assert b"jane" not in body and b"v1" not in body and b"mail.example" not in body  # no query, visit id, referrer
    assert ledger.entries("webhook", END)["ACME"].note_id == headers["Idempotency-Key"]


def test_a_receiver_verifying_the_documented_scheme_refuses_tampering_and_replays():
    body = b'{"account_id":"ACME"}'
    signature = sign(SECRET, "1763280000", body)

    assert verify_signature(SECRET, "1763280000", body, signature, now=NOW + 60)
    assert not verify_signature(SECRET, "1763280000", body.replace(b"ACME", b"EVIL"), signature, now=NOW)
    assert not verify_signature(SECRET, "1763280001", body, signature, now=NOW)  # the timestamp is signed too
    assert not verify_signature(SECRET, "1763280000", body, signature, now=NOW + 301)
    assert not verify_signature("another secret", "1763280000", body, signature, now=NOW)


def test_a_report_base_url_puts_the_accounts_report_page_in_its_document(receiver, ledger):
    sink_for(receiver, ledger, report_base_url="https://reports.example/").deliver(window_report([account("ACME")]))

    [document] = receiver.documents.values()
    assert document["report_url"] == "https://reports.example/2026-11-02_2026-11-15/accounts/ACME.html"


# --- re-runs, refusals and crashes -----------------------------------------------------------


def test_an_unchanged_window_sends_nothing_and_a_changed_one_sends_a_new_key(receiver, ledger):
    sink = sink_for(receiver, ledger)
    sink.deliver(window_report([account("ACME", score=40), account("GLOBEX")]))
    first_key = receiver.requests[0][0]["Idempotency-Key"]

    result = sink.deliver(window_report([account("ACME", score=65), account("GLOBEX")]))

    assert result.details == details(updated=1, unchanged=1)
    assert len(receiver.requests) == 3
    assert receiver.requests[2][0]["Idempotency-Key"] != first_key
    assert [d["intent_score"] for d in receiver.documents_of("ACME")] == [40, 65]


def test_a_refused_document_fails_alone_and_is_sent_again_next_run(receiver, ledger):
    receiver.refused_accounts["GLOBEX"] = 422
    sink = sink_for(receiver, ledger)
    report = window_report([account("ACME"), account("GLOBEX")])

    first = sink.deliver(report)

    assert first.details == details(delivered=1, failed=1)
    entry = ledger.entries("webhook", END)["GLOBEX"]
    assert entry.status is DeliveryStatus.FAILED
    assert entry.last_error == "the webhook receiver refused the document of GLOBEX: 422 unknown account"

    del receiver.refused_accounts["GLOBEX"]
    assert sink.deliver(report).details == details(delivered=1, unchanged=1)
    assert len(receiver.documents_of("GLOBEX")) == 1


def test_a_run_killed_before_its_ledger_write_resends_with_the_same_key(receiver, ledger, monkeypatch):
    report = window_report([account(f"ACC-{n}") for n in range(3)])

    def killed(*args: Any) -> None:
        raise KeyboardInterrupt("killed between the receiver's answer and the ledger write")

    with monkeypatch.context() as patch:
        patch.setattr(ledger, "mark_delivered", killed)
        with pytest.raises(KeyboardInterrupt):
            sink_for(receiver, ledger).deliver(report)

    result = sink_for(receiver, DeliveryLedger(ledger.engine)).deliver(report)

    assert result.details == details(delivered=3)
    assert len(receiver.requests) == 6 and len(receiver.documents) == 3  # each repeat carried its first key
    assert {entry.status for entry in ledger.entries("webhook", END).values()} == {DeliveryStatus.DELIVERED}


# --- rate limits, server errors, timeouts ---------------------------------------------------


def test_a_429_waits_as_long_as_retry_after_says(receiver, ledger, sleeps):
    receiver.answer_next(429, headers={"Retry-After": "7"})

    result = sink_for(receiver, ledger, sleeps).deliver(window_report([account("ACME")]))

    assert result.details == details(delivered=1)
    assert sleeps == [7.0]


def test_a_retry_after_date_already_past_retries_at_once(receiver, ledger, sleeps):
    receiver.answer_next(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})

    result = sink_for(
        receiver, ledger, sleeps, retry=RetryPolicy(attempts=3, initial_wait=5, max_wait=10, jitter=0)
    ).deliver(window_report([account("ACME")]))

    assert result.details == details(delivered=1)
    assert sleeps == [0.0]  # the receiver's date, not the 5 s backoff


def test_server_errors_are_retried_with_exponential_backoff(receiver, ledger, sleeps):
    receiver.answer_next(503, times=2)

    result = sink_for(
        receiver, ledger, sleeps, retry=RetryPolicy(attempts=3, initial_wait=0.5, max_wait=10, jitter=0)
    ).deliver(window_report([account("ACME")]))

    assert result.details == details(delivered=1)
    assert sleeps == [0.5, 1.0]


def test_a_document_whose_answer_timed_out_is_resent_with_the_same_key(receiver, ledger):
    receiver.answer_next(None, delay=0.5)  # stored, but answered too late

    result = sink_for(receiver, ledger, timeout=0.2).deliver(window_report([account("ACME")]))

    assert result.details == details(delivered=1)
    assert len(receiver.requests) == 2 and len(receiver.documents) == 1
    assert receiver.requests[0][0]["Idempotency-Key"] == receiver.requests[1][0]["Idempotency-Key"]


def test_a_receiver_failing_through_every_retry_stops_the_run(receiver, ledger):
    receiver.answer_next(500, times=NO_WAITING.attempts)

    with pytest.raises(CrmUnavailable, match="after 3 attempts"):
        sink_for(receiver, ledger).deliver(window_report([account("ACME")]))

    assert ledger.entries("webhook", END)["ACME"].status is DeliveryStatus.IN_FLIGHT


def test_a_refused_signature_stops_the_run_naming_the_environment_variable(receiver, ledger):
    with pytest.raises(CrmAuthError, match="VISITOR_INTENT_WEBHOOK_SECRET") as raised:
        sink_for(receiver, ledger, secret="whsec_wrong").deliver(window_report([account("ACME"), account("GLOBEX")]))

    assert "whsec_wrong" not in str(raised.value)
    assert len(receiver.requests) == 1 and receiver.documents == {}


# --- dry runs ---------------------------------------------------------------------------


def test_a_dry_run_writes_the_exact_requests_and_sends_nothing(receiver, ledger, tmp_path):
    report = window_report([account("ACME")], start=START, end=END)
    sink = sink_for(receiver, ledger, dry_run_dir=tmp_path / "requests")

    result = sink.deliver(report)

    [written] = [json.loads(path.read_text()) for path in (tmp_path / "requests").iterdir()]
    assert (written["method"], written["url"]) == ("POST", receiver.url)
    assert written["headers"]["X-Visitor-Intent-Signature"] == sign(SECRET, "1763280000", written["body"].encode())
    assert SECRET not in json.dumps(written) and SECRET not in repr(sink)
    assert result.details["would_write"] == 1
    assert receiver.requests == [] and ledger.entries("webhook", END) == {}

    sink_for(receiver, ledger).deliver(report)
    assert receiver.requests[0][1].decode() == written["body"]
