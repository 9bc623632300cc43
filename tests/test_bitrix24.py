"""The Bitrix24 sink against a local fake portal that keeps state and its request bucket.

The fake and the client share a ``ManualClock``: the client's pacing and backoff move it,
so rate limits are exact and nothing really sleeps.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from pytest_httpserver import HTTPServer

from connectors.crm.bitrix24 import Bitrix24Client, Bitrix24Sink
from connectors.crm.ledger import DeliveryLedger, DeliveryStatus
from connectors.crm.note import note_marker
from connectors.crm.transport import CrmAuthError, CrmLimitReached, CrmUnavailable, RetryPolicy
from tests.crm_fakes.bitrix24_server import FakeBitrix24, ManualClock
from tests.test_hubspot import END, account, details, page, window_report

SECRET = "x7k2abc9def0ghij"
NO_WAITING = RetryPolicy(attempts=3, initial_wait=0, max_wait=0, jitter=0)


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    server = HTTPServer(threaded=True)  # a deliberately slow answer must not block the retry
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def bitrix(server: HTTPServer, clock: ManualClock) -> Iterator[FakeBitrix24]:
    server.clear()
    fake = FakeBitrix24(server, user_id="1", secret=SECRET, clock=clock)
    yield fake
    assert fake.violations == [], "requests outside Bitrix24's documented API"


@pytest.fixture
def ledger(tmp_path: Path) -> DeliveryLedger:
    return DeliveryLedger(f"sqlite:///{tmp_path / 'ledger.db'}")


def client_for(bitrix: FakeBitrix24, clock: ManualClock, **options: Any) -> Bitrix24Client:
    settings: dict[str, Any] = {"retry": NO_WAITING, "sleep": clock.sleep, "clock": clock, "now": clock}
    return Bitrix24Client(options.pop("webhook_url", bitrix.webhook_url), **{**settings, **options})


def sink_for(
    bitrix: FakeBitrix24,
    ledger: DeliveryLedger,
    clock: ManualClock,
    *,
    client: Bitrix24Client | None = None,
    domains: dict[str, list[str]] | None = None,
    **options: Any,
) -> Bitrix24Sink:
    return Bitrix24Sink(client or client_for(bitrix, clock), ledger, domains or {}, **options)


def encoded(text: str) -> str:
    return quote(text, safe="")


# --- delivering a window -----------------------------------------------------------


def test_each_account_gets_its_intent_fields_and_one_timeline_comment(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme")
    report = window_report([account("ACME", crm_id=acme)], [page("ACME", "2026-11-03 10:00", "/pricing")])

    result = sink_for(bitrix, ledger, clock).deliver(report)

    assert result.details == details(delivered=1)
    lookup, update, add = [request.json for request in bitrix.http_calls("batch")]
    assert lookup == {"halt": 0, "cmd": {"id0": f"crm.company.list?filter%5B%40ID%5D%5B0%5D={acme}&select%5B0%5D=ID"}}
    assert update == {
        "halt": 0,
        "cmd": {
            "c0": (
                f"crm.company.update?id={acme}&fields%5BUF_CRM_VI_INTENT_SCORE%5D=72&fields%5BUF_CRM_VI_INTENT_STAGE%5D=decision"
                f"&fields%5BUF_CRM_VI_INTENT_TOPICS%5D={encoded('pricing (4); integrations (2)')}&params%5BREGISTER_SONET_EVENT%5D=N"
            )
        },
    }
    [comment] = bitrix.comments_of(acme)
    assert add == {
        "halt": 0,
        "cmd": {
            "c0": (
                f"crm.timeline.comment.add?fields%5BENTITY_ID%5D={acme}&fields%5BENTITY_TYPE%5D=company"
                f"&fields%5BCOMMENT%5D={encoded(comment['COMMENT'])}"
            )
        },
    }
    assert comment["COMMENT"].startswith("Website activity 2026-11-02 to 2026-11-15\nIntent score 72/100 (new)")
    assert "- 2026-11-03 10:00: /pricing (decision)" in comment["COMMENT"]
    assert note_marker("ACME", END) in comment["COMMENT"]
    assert (
        bitrix.companies[acme] | {"UF_CRM_VI_INTENT_SCORE": "72", "UF_CRM_VI_INTENT_STAGE": "decision"}
        == bitrix.companies[acme]
    )
    assert ledger.entries("bitrix24", END)["ACME"].note_id == comment["ID"]


def test_accounts_without_crm_id_are_found_by_the_domain_field(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme", "acme.com")
    bitrix.add_company("Acme (duplicate)", "acme.com")
    globex = bitrix.add_company("Globex", "globex.example")
    report = window_report([account("ACME"), account("GLOBEX", score=20)])

    result = sink_for(bitrix, ledger, clock, domains={"ACME": ["WWW.Acme.com"], "GLOBEX": ["globex.example"]}).deliver(
        report
    )

    assert result.details == details(delivered=2)
    assert bitrix.calls("crm.company.list") == [
        {
            "filter": {"@UF_CRM_VI_DOMAIN": ["acme.com", "globex.example"]},
            "select": ["ID", "UF_CRM_VI_DOMAIN"],
            "order": {"ID": "ASC"},
        }
    ]
    assert len(bitrix.comments_of(acme)) == len(bitrix.comments_of(globex)) == 1  # the oldest company of a domain


def test_a_domain_shared_by_more_companies_than_a_page_holds_is_read_to_the_end(bitrix, ledger, clock):
    for n in range(60):
        bitrix.add_company(f"Other {n}", "other.example")
    late = bitrix.add_company("Late", "late.example")

    found = client_for(bitrix, clock).find_companies_by_domain(["other.example", "late.example"])

    assert found["late.example"] == late
    assert [params.get("start") for params in bitrix.calls("crm.company.list")] == [None, 50]


def test_an_account_whose_crm_id_is_gone_falls_back_to_its_domain(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme", "acme.com")
    report = window_report([account("ACME", crm_id="9999"), account("GLOBEX", crm_id="0017000000abcde")])

    result = sink_for(bitrix, ledger, clock, domains={"ACME": ["acme.com"]}).deliver(report)

    assert result.details == details(delivered=1, not_found=1)
    assert bitrix.calls("crm.company.list")[0]["filter"] == {"@ID": ["9999"]}  # a Salesforce-like id is no ID here
    assert len(bitrix.comments_of(acme)) == 1


def test_many_accounts_take_few_requests(bitrix, ledger, clock):
    ids = {f"ACC-{n}": bitrix.add_company(f"Company {n}") for n in range(120)}

    result = sink_for(bitrix, ledger, clock).deliver(window_report([account(a, crm_id=i) for a, i in ids.items()]))

    assert result.details == details(delivered=120)
    assert len(bitrix.requests) == 7  # 1 batch of 3 lookups, then 3 batches of company updates and 3 of comments
    assert all(len(request.json["cmd"]) <= 50 for request in bitrix.requests)
    assert all(len(bitrix.comments_of(company)) == 1 for company in ids.values())


# --- re-runs, partial failures and crashes -----------------------------------------------


def test_rerunning_a_window_updates_its_comment_instead_of_adding_one(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme")
    globex = bitrix.add_company("Globex")
    sink = sink_for(bitrix, ledger, clock)
    sink.deliver(window_report([account("ACME", crm_id=acme, score=40), account("GLOBEX", crm_id=globex)]))
    [comment] = bitrix.comments_of(acme)

    result = sink.deliver(window_report([account("ACME", crm_id=acme, score=65), account("GLOBEX", crm_id=globex)]))

    assert result.details == details(updated=1, unchanged=1)
    [updated] = bitrix.comments_of(acme)
    assert updated["ID"] == comment["ID"] and "Intent score 65/100" in updated["COMMENT"]
    assert bitrix.calls("crm.timeline.comment.update") == [
        {"id": comment["ID"], "fields": {"COMMENT": updated["COMMENT"]}, "ownerTypeId": "4", "ownerId": acme},
    ]
    assert bitrix.companies[acme]["UF_CRM_VI_INTENT_SCORE"] == "65"


def test_an_unchanged_window_sends_nothing(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme")
    sink = sink_for(bitrix, ledger, clock)
    report = window_report([account("ACME", crm_id=acme)])
    sink.deliver(report)
    sent = len(bitrix.requests)

    result = sink.deliver(report)

    assert result.details == details(unchanged=1)
    assert len(bitrix.requests) == sent


def test_a_company_bitrix24_refuses_fails_alone_and_is_retried_next_run(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme")
    globex = bitrix.add_company("Globex")
    bitrix.validation_rules[globex] = "Поле «Отрасль» обязательно для заполнения"
    sink = sink_for(bitrix, ledger, clock)
    report = window_report([account("ACME", crm_id=acme), account("GLOBEX", crm_id=globex)])

    first = sink.deliver(report)

    assert first.details == details(delivered=1, failed=1)
    entry = ledger.entries("bitrix24", END)["GLOBEX"]
    assert (entry.status, entry.last_error) == (DeliveryStatus.FAILED, "Поле «Отрасль» обязательно для заполнения")
    assert bitrix.comments_of(globex) == []

    del bitrix.validation_rules[globex]
    second = sink.deliver(report)

    assert second.details == details(delivered=1, unchanged=1)
    assert len(bitrix.comments_of(acme)) == len(bitrix.comments_of(globex)) == 1


def test_a_run_killed_after_bitrix24_stored_the_comments_resumes_without_duplicates(bitrix, ledger, clock, monkeypatch):
    companies = {f"ACC-{n}": bitrix.add_company(f"Company {n}") for n in range(3)}
    for company in companies.values():
        bitrix.add_comment(company, "A call note from sales")
    report = window_report([account(account_id, crm_id=company) for account_id, company in companies.items()])

    def killed(*args: Any) -> None:
        raise KeyboardInterrupt("killed between the CRM call and the ledger write")

    with monkeypatch.context() as patch:
        patch.setattr(ledger, "mark_delivered", killed)
        with pytest.raises(KeyboardInterrupt):
            sink_for(bitrix, ledger, clock).deliver(report)

    result = sink_for(bitrix, DeliveryLedger(ledger.engine), clock).deliver(report)

    assert result.details == details(updated=3)
    assert all(len(bitrix.comments_of(company)) == 2 for company in companies.values())  # sales' note and ours
    assert {entry.status for entry in ledger.entries("bitrix24", END).values()} == {DeliveryStatus.DELIVERED}


def test_a_comment_batch_that_timed_out_after_bitrix24_stored_it_is_not_repeated(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme")
    globex = bitrix.add_company("Globex")
    bitrix.answer_late("crm.timeline.comment.add", 0.5)
    client = client_for(bitrix, clock, timeout=0.2)
    report = window_report([account("ACME", crm_id=acme), account("GLOBEX", crm_id=globex)])

    result = sink_for(bitrix, ledger, clock, client=client).deliver(report)

    assert result.details == details(delivered=2)
    assert len(bitrix.comments_of(acme)) == len(bitrix.comments_of(globex)) == 1
    assert len(bitrix.calls("crm.timeline.comment.add")) == 2  # once each: the retry found both stored


# --- limits, auth, server errors, timeouts --------------------------------------------------


def test_after_a_burst_of_fifty_requests_the_client_sends_two_a_second(bitrix, clock):
    client = client_for(bitrix, clock)

    for _ in range(53):
        client.find_companies_by_id(["1"])

    assert clock.slept == [0.5, 0.5, 0.5]
    assert [request.method for request in bitrix.requests] == ["batch"] * 53  # none refused


def test_a_refused_request_is_retried_after_the_portals_bucket_drains(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme")
    bitrix.fail_next("batch", 503, {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"})

    result = sink_for(bitrix, ledger, clock).deliver(window_report([account("ACME", crm_id=acme)]))

    assert result.details == details(delivered=1)
    # The backoff; then the bucket is full, so the retry and the two writes each wait for room.
    assert clock.slept == [0.0, 0.5, 0.5, 0.5]
    assert len(bitrix.comments_of(acme)) == 1


def test_server_errors_are_retried_with_exponential_backoff(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme")
    bitrix.fail_next("batch", 500, times=2)
    client = client_for(bitrix, clock, retry=RetryPolicy(attempts=3, initial_wait=0.5, max_wait=10, jitter=0))

    result = sink_for(bitrix, ledger, clock, client=client).deliver(window_report([account("ACME", crm_id=acme)]))

    assert result.details == details(delivered=1)
    assert clock.slept == [0.5, 1.0]


def test_a_lookup_that_times_out_is_retried(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme")
    late = {
        "result": {
            "result": {"id0": []},
            "result_error": [],
            "result_total": {"id0": 0},
            "result_next": [],
            "result_time": [],
        }
    }
    bitrix.fail_next("crm.company.list", 200, late, delay=0.5)

    result = sink_for(bitrix, ledger, clock, client=client_for(bitrix, clock, timeout=0.1)).deliver(
        window_report([account("ACME", crm_id=acme)])
    )

    assert result.details == details(delivered=1)
    assert len(bitrix.calls("crm.company.list")) == 1  # the late answer never ran the command


def test_bitrix24_failing_through_every_retry_stops_the_run_with_nothing_marked_delivered(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme")
    bitrix.fail_next("crm.timeline.comment.add", 502, times=NO_WAITING.attempts)

    with pytest.raises(CrmUnavailable, match="after 3 attempts"):
        sink_for(bitrix, ledger, clock).deliver(window_report([account("ACME", crm_id=acme)]))

    assert ledger.entries("bitrix24", END)["ACME"].status is DeliveryStatus.IN_FLIGHT
    assert bitrix.comments_of(acme) == []


def test_a_blocked_portal_stops_the_run_and_the_next_run_finishes_it(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme")
    report = window_report([account("ACME", crm_id=acme)])
    overload = {"error": "OVERLOAD_LIMIT", "error_description": "REST API is blocked due to overload."}
    bitrix.fail_next("crm.company.update", 503, overload)

    with pytest.raises(CrmLimitReached, match="OVERLOAD_LIMIT"):
        sink_for(bitrix, ledger, clock).deliver(report)

    entry = ledger.entries("bitrix24", END)["ACME"]
    assert entry.status is DeliveryStatus.IN_FLIGHT and "OVERLOAD_LIMIT" in entry.last_error
    assert sink_for(bitrix, ledger, clock).deliver(report).details == details(delivered=1)
    assert len(bitrix.comments_of(acme)) == 1


def test_a_wrong_webhook_stops_the_run_naming_the_environment_variable(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme")
    client = client_for(bitrix, clock, webhook_url=bitrix.webhook_url.replace(SECRET, "revokedsecret123"))

    with pytest.raises(CrmAuthError, match="NO_AUTH_FOUND.*BITRIX24_WEBHOOK_URL") as raised:
        sink_for(bitrix, ledger, clock, client=client).deliver(window_report([account("ACME", crm_id=acme)]))

    assert "revokedsecret123" not in str(raised.value)
    assert ledger.entries("bitrix24", END) == {}


def test_a_malformed_webhook_url_is_refused_without_echoing_it(bitrix, clock):
    with pytest.raises(ValueError, match="BITRIX24_WEBHOOK_URL") as raised:
        client_for(bitrix, clock, webhook_url=f"https://acme.bitrix24.com/{SECRET}")

    assert SECRET not in str(raised.value)


# --- the limits Bitrix24 documents ------------------------------------------------------------


def test_a_method_whose_time_budget_frees_up_soon_is_waited_for(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme")
    sink = sink_for(bitrix, ledger, clock)
    bitrix.exhaust_operating_time("crm.company.update", reset_in=20)
    sink.deliver(window_report([account("ACME", crm_id=acme, score=40)]))

    result = sink.deliver(window_report([account("ACME", crm_id=acme, score=65)]))

    assert result.details == details(updated=1)
    assert clock.slept == [20.0]  # until the portal's operating_reset_at, then the update went through
    assert bitrix.companies[acme]["UF_CRM_VI_INTENT_SCORE"] == "65"


def test_a_method_blocked_for_long_stops_the_run_and_the_next_run_finishes_it(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme")
    sink = sink_for(bitrix, ledger, clock)
    bitrix.exhaust_operating_time("crm.company.update", reset_in=600)
    sink.deliver(window_report([account("ACME", crm_id=acme, score=40)]))
    report = window_report([account("ACME", crm_id=acme, score=65)])

    with pytest.raises(CrmLimitReached, match="OPERATION_TIME_LIMIT"):
        sink.deliver(report)

    assert clock.slept == []  # ten minutes is longer than a run waits
    entry = ledger.entries("bitrix24", END)["ACME"]
    assert entry.status is DeliveryStatus.IN_FLIGHT and "operating time limit" in entry.last_error
    clock.sleep(600)
    assert sink.deliver(report).details == details(updated=1)
    assert len(bitrix.comments_of(acme)) == 1


def test_a_method_blocked_before_the_portal_said_when_it_frees_up_stops_the_run(bitrix, ledger, clock):
    acme = bitrix.add_company("Acme")
    bitrix.block("crm.company.update", reset_in=30)

    with pytest.raises(CrmLimitReached, match="crm.company.update"):
        sink_for(bitrix, ledger, clock).deliver(window_report([account("ACME", crm_id=acme)]))

    assert clock.slept == []


def test_a_single_call_blocked_with_429_is_waited_for_too(bitrix, clock):
    for n in range(60):
        bitrix.add_company(f"Other {n}", "other.example")
    bitrix.exhaust_operating_time("crm.company.list", reset_in=10)  # the first page uses it up

    found = client_for(bitrix, clock).find_companies_by_domain(["other.example"])

    assert found == {"other.example": "101"}
    assert clock.slept == [10.0]
    assert [params.get("start") for params in bitrix.calls("crm.company.list")] == [None, 50]


@pytest.mark.parametrize(
    ("error", "description"),
    [
        ("insufficient_scope", "The request requires higher privileges than provided by the webhook token"),
        ("ACCESS_DENIED", "Access denied."),
    ],
)
def test_a_permission_refused_inside_a_batch_stops_the_run_naming_the_webhook_variable(
    bitrix, ledger, clock, error, description
):
    acme = bitrix.add_company("Acme")
    bitrix.deny("crm.timeline.comment.add", error, description)

    with pytest.raises(CrmAuthError, match=f"{error}.*BITRIX24_WEBHOOK_URL") as raised:
        sink_for(bitrix, ledger, clock).deliver(window_report([account("ACME", crm_id=acme)]))

    assert SECRET not in str(raised.value)
    assert ledger.entries("bitrix24", END)["ACME"].status is DeliveryStatus.IN_FLIGHT
    assert len(bitrix.http_calls("batch")) == 3  # lookup, update, the refused comments: not retried


def test_the_client_waits_longer_than_the_60_seconds_a_bitrix24_request_may_run(bitrix):
    assert Bitrix24Client(bitrix.webhook_url).timeout > 60


@pytest.mark.parametrize(
    "url",
    [f"http://acme.bitrix24.com/rest/1/{SECRET}/", f"http://10.0.0.8/rest/1/{SECRET}/", f"ftp://x/rest/1/{SECRET}/"],
)
def test_a_webhook_url_without_https_is_refused_without_echoing_it(bitrix, clock, url):
    with pytest.raises(ValueError, match="BITRIX24_WEBHOOK_URL") as raised:
        client_for(bitrix, clock, webhook_url=url)

    assert SECRET not in str(raised.value)


@pytest.mark.parametrize("host", ["localhost:8080", "127.0.0.1", "[::1]:9000"])
def test_plain_http_is_allowed_to_this_machine(bitrix, clock, host):
    client = client_for(bitrix, clock, webhook_url=f"http://{host}/rest/1/{SECRET}/")

    assert client.location == f"http://{host}/rest/1/[REDACTED]/"


# --- dry runs and secrets ------------------------------------------------------------------


def test_a_dry_run_writes_the_requests_without_the_secret_and_sends_no_change(bitrix, ledger, clock, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="urllib3")
    acme = bitrix.add_company("Acme")
    report = window_report([account("ACME", crm_id=acme)])
    client = client_for(bitrix, clock, dry_run_dir=tmp_path / "requests")

    result = sink_for(bitrix, ledger, clock, client=client).deliver(report)

    written = [json.loads(path.read_text()) for path in sorted((tmp_path / "requests").iterdir())]
    assert [r["url"] for r in written] == [f"{bitrix.url}/rest/1/[REDACTED]/batch"] * 2
    assert SECRET not in "".join(path.read_text() for path in (tmp_path / "requests").iterdir())
    assert SECRET not in repr(client) and SECRET not in result.location + str(result)
    # urllib3 logs each request's path (the fake portal's own access log, werkzeug's, may show it).
    client_logs = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    assert SECRET not in client_logs and "/rest/1/[REDACTED]/batch" in client_logs
    assert result.details["would_write"] == 1
    assert bitrix.comments == {} and "UF_CRM_VI_INTENT_SCORE" not in bitrix.companies[acme]

    sink_for(bitrix, ledger, clock).deliver(report)  # the real run sends exactly what the dry run wrote
    assert [r.json for r in bitrix.http_calls("batch")][-2:] == [r["json"] for r in written]
