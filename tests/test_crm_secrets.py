"""No CRM secret ever shows: not in logs, exceptions, results, dry-run files or ledger rows.

Each sink runs against its fake through a success and through failures (refused
credentials, rate limits, server errors, a dead host, answers that echo the secret) with
logging at DEBUG. Then every text a person or another system could see is searched for
the HubSpot token, the Salesforce client secret and access tokens, the Bitrix24 webhook
URL and its secret part, and the webhook signing secret.

The fakes' own access logs (werkzeug's) are left out: they are the CRM's side, which
legitimately receives the secret.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from connectors.crm.bitrix24 import Bitrix24Client, Bitrix24Sink
from connectors.crm.hubspot import HubSpotClient, HubSpotSink
from connectors.crm.ledger import DeliveryLedger
from connectors.crm.salesforce import SalesforceClient, SalesforceSink
from connectors.crm.transport import RetryPolicy
from connectors.crm.webhook import WebhookSink
from connectors.sinks.base import WindowReport
from tests.crm_fakes.bitrix24_server import FakeBitrix24, ManualClock
from tests.crm_fakes.hubspot_server import FakeHubSpot
from tests.crm_fakes.salesforce_server import FakeSalesforce
from tests.test_hubspot import account, window_report

NO_WAITING = RetryPolicy(attempts=2, initial_wait=0, max_wait=0, jitter=0)
HUBSPOT_TOKEN = "pat-na1-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
SALESFORCE_SECRET = "8A4BE698BCA216718ECB0B1DCA294C69732EAD9472A1790F8FED38DD2E02B5FA"
BITRIX_SECRET = "q9w8e7r6t5y4u3i2"
WEBHOOK_SECRET = "whsec_5f0c1e2d3b4a59687766554433221100"


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ledger(tmp_path: Path) -> DeliveryLedger:
    return DeliveryLedger(f"sqlite:///{tmp_path / 'ledger.db'}")


class Exposure:
    """Everything a run leaves where someone could read it."""

    def __init__(self, caplog: pytest.LogCaptureFixture, ledger: DeliveryLedger, dry_run_dir: Path) -> None:
        self.caplog = caplog
        self.ledger = ledger
        self.dry_run_dir = dry_run_dir
        self.texts: list[str] = []

    def run(self, action: Callable[[], Any]) -> None:
        """Run a delivery (or a client call); keep its result or its error, as text and repr."""
        try:
            outcome = action()
        except Exception as error:  # noqa: BLE001  every failure counts the same here
            self.texts += [str(error), repr(error), repr(error.__cause__), repr(error.__context__)]
        else:
            self.texts += [str(outcome), repr(outcome)]

    def everything(self, *objects: Any) -> str:
        logs = [record.getMessage() for record in self.caplog.records if not record.name.startswith("werkzeug")]
        with self.ledger.engine.connect() as connection:
            rows = [repr(row) for row in connection.execute(sa.select(self.ledger.table))]
        files = [path.read_text() for path in self.dry_run_dir.iterdir()] if self.dry_run_dir.exists() else []
        assert files and rows and logs, "the exposure check must see dry-run files, ledger rows and logs"
        return "\n".join([*logs, *self.texts, *rows, *files, *map(repr, objects)])


@pytest.fixture
def exposure(caplog: pytest.LogCaptureFixture, ledger: DeliveryLedger, tmp_path: Path) -> Exposure:
    caplog.set_level(logging.DEBUG)
    return Exposure(caplog, ledger, tmp_path / "dry-run")


def report(*accounts: dict[str, Any]) -> WindowReport:
    return window_report(list(accounts))


def test_the_hubspot_token_never_shows(server, ledger, exposure):
    server.clear()
    hubspot = FakeHubSpot(server, token=HUBSPOT_TOKEN)
    acme, globex = hubspot.add_company("Acme", "acme.com"), hubspot.add_company("Globex", "globex.example")
    hubspot.validation_rules[globex] = f"rejected request with Bearer {HUBSPOT_TOKEN}"  # an answer echoing it

    def sink(**options: Any) -> HubSpotSink:
        client = HubSpotClient(
            options.pop("token", HUBSPOT_TOKEN),
            base_url=hubspot.url,
            retry=NO_WAITING,
            search_interval=0,
            sleep=lambda _: None,
            **options,
        )
        return HubSpotSink(client, ledger, {})

    hubspot.rate_limit_next("companies/batch/update", "SECONDLY")
    exposure.run(lambda: sink().deliver(report(account("ACME", crm_id=acme), account("GLOBEX", crm_id=globex))))
    hubspot.fail_next("notes/batch/update", 500, times=2)
    exposure.run(lambda: sink().deliver(report(account("ACME", crm_id=acme, score=50))))
    hubspot.rate_limit_next("notes/batch/update", "DAILY")
    exposure.run(lambda: sink().deliver(report(account("ACME", crm_id=acme, score=55))))
    exposure.run(lambda: sink(token=HUBSPOT_TOKEN + "x").deliver(report(account("ACME", crm_id=acme, score=60))))
    exposure.run(lambda: sink(dry_run_dir=exposure.dry_run_dir).deliver(report(account("ACME", crm_id=acme, score=70))))

    assert HUBSPOT_TOKEN not in exposure.everything(sink())


def test_the_salesforce_client_secret_and_access_tokens_never_show(server, ledger, exposure):
    server.clear()
    salesforce = FakeSalesforce(server, client_id="3MVG9client", client_secret=SALESFORCE_SECRET)
    acme, globex = salesforce.add_account("Acme"), salesforce.add_account("Globex")

    def sink(**options: Any) -> SalesforceSink:
        client = SalesforceClient(
            salesforce.url,
            "3MVG9client",
            options.pop("secret", SALESFORCE_SECRET),
            retry=NO_WAITING,
            sleep=lambda _: None,
            **options,
        )
        return SalesforceSink(client, ledger)

    running = sink()  # one client, as in a run: answers echo the token it sends
    exposure.run(lambda: running.deliver(report(account("ACME", crm_id=acme), account("GLOBEX", crm_id=globex))))
    [token] = salesforce.tokens
    salesforce.validation_rules[globex] = f"session {token} may not edit this Account"
    exposure.run(
        lambda: running.deliver(report(account("ACME", crm_id=acme, score=50), account("GLOBEX", crm_id=globex)))
    )
    salesforce.limit_next("composite/sobjects")
    exposure.run(lambda: running.deliver(report(account("ACME", crm_id=acme, score=55))))
    salesforce.fail_next(
        "composite/sobjects", 500, [{"message": f"bad token {token}", "errorCode": "UNKNOWN_EXCEPTION"}], times=2
    )
    exposure.run(lambda: running.deliver(report(account("ACME", crm_id=acme, score=60))))
    salesforce.fail_next(
        "composite/sobjects",
        401,
        [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
        times=2,
    )
    exposure.run(lambda: running.deliver(report(account("ACME", crm_id=acme, score=65))))
    exposure.run(lambda: sink(secret=SALESFORCE_SECRET[::-1]).deliver(report(account("ACME", crm_id=acme, score=70))))
    exposure.run(lambda: sink(dry_run_dir=exposure.dry_run_dir).deliver(report(account("ACME", crm_id=acme, score=75))))

    everything = exposure.everything(running, running.client)
    assert SALESFORCE_SECRET not in everything and SALESFORCE_SECRET[::-1] not in everything
    assert not [token for token in salesforce.tokens if token in everything]


def test_the_bitrix24_webhook_url_and_its_secret_never_show(server, ledger, exposure):
    server.clear()
    clock = ManualClock()
    bitrix = FakeBitrix24(server, user_id="7", secret=BITRIX_SECRET, clock=clock)
    acme, globex = bitrix.add_company("Acme"), bitrix.add_company("Globex")
    bitrix.validation_rules[globex] = f"webhook {bitrix.webhook_url} may not edit this company"  # an answer echoing it

    def sink(**options: Any) -> Bitrix24Sink:
        client = Bitrix24Client(
            options.pop("webhook_url", bitrix.webhook_url),
            retry=NO_WAITING,
            sleep=clock.sleep,
            clock=clock,
            timeout=2,
            **options,
        )
        return Bitrix24Sink(client, ledger)

    exposure.run(lambda: sink().deliver(report(account("ACME", crm_id=acme), account("GLOBEX", crm_id=globex))))
    bitrix.fail_next("batch", 503, {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"})
    bitrix.fail_next("crm.company.update", 500, times=2)
    exposure.run(lambda: sink().deliver(report(account("ACME", crm_id=acme, score=50))))
    bitrix.fail_next("crm.company.update", 503, {"error": "OVERLOAD_LIMIT", "error_description": "REST API is blocked"})
    exposure.run(lambda: sink().deliver(report(account("ACME", crm_id=acme, score=55))))
    wrong = bitrix.webhook_url.replace(BITRIX_SECRET, "a1s2d3f4g5h6j7k8")
    exposure.run(lambda: sink(webhook_url=wrong).deliver(report(account("ACME", crm_id=acme, score=60))))
    dead = f"http://127.0.0.1:9/rest/7/{BITRIX_SECRET}/"  # nothing listens there: a connection error names its URL
    exposure.run(lambda: sink(webhook_url=dead).deliver(report(account("ACME", crm_id=acme, score=65))))
    exposure.run(lambda: sink(webhook_url=f"https://portal.bitrix24.com/{BITRIX_SECRET}").deliver(report()))
    exposure.run(lambda: sink(dry_run_dir=exposure.dry_run_dir).deliver(report(account("ACME", crm_id=acme, score=70))))

    everything = exposure.everything(sink(), sink().client)
    assert BITRIX_SECRET not in everything and "a1s2d3f4g5h6j7k8" not in everything
    assert "/rest/7/[REDACTED]/" in everything


def test_the_webhook_signing_secret_never_shows(server, ledger, exposure):
    server.clear()
    server.expect_request("/intent").respond_with_data(
        f"no: expected a signature made with {WEBHOOK_SECRET}", status=422
    )

    def sink(**options: Any) -> WebhookSink:
        return WebhookSink(
            server.url_for("/intent"),
            options.pop("secret", WEBHOOK_SECRET),
            ledger,
            retry=NO_WAITING,
            sleep=lambda _: None,
            **options,
        )

    exposure.run(lambda: sink().deliver(report(account("ACME"))))  # refused, the answer echoing the secret
    server.clear()
    server.expect_request("/intent").respond_with_data("", status=204)
    exposure.run(lambda: sink().deliver(report(account("ACME"))))
    server.clear()
    server.expect_request("/intent").respond_with_data(f"signature mismatch for {WEBHOOK_SECRET}", status=401)
    exposure.run(lambda: sink().deliver(report(account("ACME", score=50))))
    server.clear()
    server.expect_request("/intent").respond_with_data("down", status=503)
    exposure.run(lambda: sink().deliver(report(account("ACME", score=55))))
    exposure.run(lambda: sink(dry_run_dir=exposure.dry_run_dir).deliver(report(account("ACME", score=60))))

    assert WEBHOOK_SECRET not in exposure.everything(sink())
