"""Slack and email as owners receive them: Slack's documented answers, a real SMTP server, each alert once."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from connectors.alerts.delivery import deliver_alerts
from connectors.alerts.slack import SlackWebhook
from connectors.alerts.smtp import SmtpMailer
from connectors.crm.ledger import Attempt, DeliveryLedger, DeliveryStatus
from connectors.crm.transport import CrmAuthError, CrmUnavailable, RetryPolicy
from enrichment.alerts import AccountNews, OwnerDigest
from tests.alert_fakes.slack_server import WEBHOOK_PATH, FakeSlackWebhook
from tests.alert_fakes.smtp_server import Inbox, start_smtp_server

END = dt.date(2026, 11, 15)
BASE_URL = "https://reports.example.com"
PASSWORD = "hunter2-smtp-f00d"
FAST = RetryPolicy(attempts=3, initial_wait=0, jitter=0)


def _news(account_id: str, name: str, owner: str, *reasons: str, score: float = 75.0) -> AccountNews:
    return AccountNews(
        account_id=account_id,
        name=name,
        owner=owner,
        intent_score=score,
        level="hot" if score >= 70 else "warm",
        furthest_stage="decision",
        movement="new",
        mqa=True,
        surge=72.0,
        explanation=f"Hot: score {score} ≥ 70. Top pages: /pricing (12.0).",
        top_pages=("/pricing (12.0)", "/request-demo <now> (9.5)"),
        reasons=reasons,
    )


DIGESTS = [
    OwnerDigest(
        "DACH team",
        dt.date(2026, 11, 2),
        END,
        (_news("ACME-002", "Contoso", "DACH team", "hot", "mqa"), _news("ACME-004", "Fabrikam", "DACH team", score=30)),
    ),
    OwnerDigest("EMEA team", dt.date(2026, 11, 2), END, (_news("ACME-001", "Northwind", "EMEA team", "surging"),)),
]


@pytest.fixture
def ledger(tmp_path: Path) -> DeliveryLedger:
    return DeliveryLedger(f"sqlite:///{tmp_path / 'ledger.db'}")


@pytest.fixture
def slack() -> Iterator[FakeSlackWebhook]:
    server = HTTPServer()
    server.start()
    yield FakeSlackWebhook(server)
    server.stop()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    inbox = Inbox(login=("alerts@example.com", PASSWORD), refused={"gone@example.com"})
    controller = start_smtp_server(inbox)
    yield inbox
    controller.stop()


def _to_slack(slack: FakeSlackWebhook, ledger: DeliveryLedger, sleeps: list[float] | None = None, url: str = ""):
    webhook = SlackWebhook(url or slack.url, retry=FAST, sleep=(sleeps if sleeps is not None else []).append)
    return deliver_alerts(DIGESTS, ledger, slack=webhook, mailer=None, addresses={}, report_base_url=BASE_URL)


def _mailer(inbox: Inbox, password: str = PASSWORD) -> SmtpMailer:
    return SmtpMailer(
        "127.0.0.1",
        inbox.port,
        sender="Visitor Intent <alerts@example.com>",
        security="none",
        username="alerts@example.com",
        password=password,
        retry=FAST,
        sleep=lambda _: None,
    )


def test_slack_gets_one_block_kit_alert_per_account_and_a_digest_per_owner(
    slack: FakeSlackWebhook, ledger: DeliveryLedger
) -> None:
    outcome = _to_slack(slack, ledger)

    assert slack.texts() == [
        "Contoso became hot, became marketing-qualified (owner: DACH team)",
        "DACH team: 2 accounts active, 1 with alerts",
        "Northwind is surging (owner: EMEA team)",
        "EMEA team: 1 account active, 1 with alerts",
    ]
    header, figures, why, pages, link, context = slack.messages[0]["blocks"]
    assert header["text"]["text"] == "Contoso became hot, became marketing-qualified"
    assert [field["text"] for field in figures["fields"]][:2] == ["*Score*\n75 (hot)", "*Stage*\ndecision"]
    assert why["text"]["text"].startswith("*Why*\nHot: score 75.0")
    assert pages["text"]["text"] == "*Top pages*\n• /pricing (12.0)\n• /request-demo &lt;now&gt; (9.5)"
    assert link["elements"][0]["url"] == f"{BASE_URL}/2026-11-02_2026-11-15/accounts/ACME-002.html"
    assert "2026-11-02 – 2026-11-15" in context["elements"][0]["text"]
    assert sum(outcome.sent.values()) == 5  # three alerts, two digests


def test_a_rerun_sends_no_alert_again(slack: FakeSlackWebhook, ledger: DeliveryLedger) -> None:
    _to_slack(slack, ledger)
    again = _to_slack(slack, ledger)

    assert len(slack.messages) == 4 and not again.sent


def test_an_alert_a_stopped_run_was_sending_is_not_sent_again(slack: FakeSlackWebhook, ledger: DeliveryLedger) -> None:
    ledger.mark_in_flight("slack:surging", END, [Attempt("ACME-001", "0" * 64, 75.0)])

    _to_slack(slack, ledger)

    assert "Northwind is surging (owner: EMEA team)" not in slack.texts() and len(slack.messages) == 3


def test_slacks_rate_limit_is_waited_for_as_its_retry_after_says(
    slack: FakeSlackWebhook, ledger: DeliveryLedger, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fail_next(429, "rate_limited", retry_after=7)
    sleeps: list[float] = []

    with caplog.at_level(logging.DEBUG):
        _to_slack(slack, ledger, sleeps)

    assert sleeps == [7.0]
    assert len(slack.messages) == 4 and slack.requests == 5
    # The webhook's path is its secret: none of our lines show it (the fake Slack's own access log does).
    ours = "\n".join(record.getMessage() for record in caplog.records if record.name != "werkzeug")
    assert "rate_limited" in ours and "POST [REDACTED]" in ours and WEBHOOK_PATH not in ours


def test_a_refused_message_fails_alone_and_goes_out_with_the_next_run(
    slack: FakeSlackWebhook, ledger: DeliveryLedger
) -> None:
    slack.fail_next(400, "invalid_payload")

    first = _to_slack(slack, ledger)

    assert first.failed == {("slack", "DACH team", "hot"): 1, ("slack", "DACH team", "mqa"): 1}
    assert len(slack.messages) == 3
    entry = ledger.entries("slack:hot", END)["ACME-002"]
    assert entry.status is DeliveryStatus.FAILED and "invalid_payload" in entry.last_error
    second = _to_slack(slack, ledger)
    assert dict(second.sent) == {("slack", "DACH team", "hot"): 1, ("slack", "DACH team", "mqa"): 1}
    assert slack.texts()[-1] == "Contoso became hot, became marketing-qualified (owner: DACH team)"


@pytest.mark.parametrize(
    ("status", "error"),
    [(403, "action_prohibited"), (404, "channel_not_found"), (410, "channel_is_archived")],
)
def test_a_webhook_that_can_post_nothing_stops_the_run_without_showing_its_url(
    slack: FakeSlackWebhook, ledger: DeliveryLedger, status: int, error: str
) -> None:
    slack.fail_next(status, error)

    with pytest.raises(CrmAuthError) as raised:
        _to_slack(slack, ledger)

    assert error in str(raised.value) and "VISITOR_INTENT_SLACK_WEBHOOK_URL" in str(raised.value)
    assert slack.url not in str(raised.value)
    # Not delivered: it goes out once the webhook works again.
    assert ledger.entries("slack:hot", END)["ACME-002"].status is DeliveryStatus.FAILED
    assert slack.url not in ledger.entries("slack:hot", END)["ACME-002"].last_error
    assert _to_slack(slack, ledger).sent[("slack", "DACH team", "hot")] == 1


def test_an_unknown_webhook_is_no_service(slack: FakeSlackWebhook, ledger: DeliveryLedger) -> None:
    unknown = slack.url.replace("XXXX", "YYYY")

    with pytest.raises(CrmAuthError, match="no_service") as raised:
        _to_slack(slack, ledger, url=unknown)

    assert unknown not in str(raised.value)


def test_each_owner_gets_one_email_with_their_alerts_and_accounts(inbox: Inbox, ledger: DeliveryLedger) -> None:
    addresses = {"DACH team": ["dach@example.com"], "EMEA team": ["emea@example.com", "lead@example.com"]}

    outcome = deliver_alerts(
        DIGESTS, ledger, slack=None, mailer=_mailer(inbox), addresses=addresses, report_base_url=BASE_URL
    )
    again = deliver_alerts(
        DIGESTS, ledger, slack=None, mailer=_mailer(inbox), addresses=addresses, report_base_url=BASE_URL
    )

    assert [(mail.recipients, mail.message["Subject"]) for mail in inbox.mail] == [
        (["dach@example.com"], "Visitor Intent 2026-11-02 – 2026-11-15: 1 alert, 2 accounts of DACH team"),
        (
            ["emea@example.com", "lead@example.com"],
            "Visitor Intent 2026-11-02 – 2026-11-15: 1 alert, 1 account of EMEA team",
        ),
    ]
    dach = inbox.mail[0]
    assert "Contoso became hot, became marketing-qualified" in dach.part("plain")
    assert "- Fabrikam: score 30 (warm), decision, new" in dach.part("plain")
    assert "/request-demo &lt;now&gt; (9.5)" in dach.part("html")  # HTML escaped
    assert sum(outcome.sent.values()) == 5 and not again.sent and len(inbox.mail) == 2


def test_an_owner_without_an_address_gets_no_email_until_one_is_set(inbox: Inbox, ledger: DeliveryLedger) -> None:
    first = deliver_alerts(DIGESTS, ledger, slack=None, mailer=_mailer(inbox), addresses={}, report_base_url=None)
    second = deliver_alerts(
        DIGESTS,
        ledger,
        slack=None,
        mailer=_mailer(inbox),
        addresses={"EMEA team": ["emea@example.com"]},
        report_base_url=None,
    )

    assert first.no_address == {"DACH team", "EMEA team"} and not first.sent
    assert second.no_address == {"DACH team"} and [mail.recipients for mail in inbox.mail] == [["emea@example.com"]]


def test_a_refused_recipient_fails_that_owner_only(inbox: Inbox, ledger: DeliveryLedger) -> None:
    addresses = {"DACH team": ["gone@example.com"], "EMEA team": ["emea@example.com"]}

    outcome = deliver_alerts(
        DIGESTS, ledger, slack=None, mailer=_mailer(inbox), addresses=addresses, report_base_url=None
    )

    assert set(outcome.failed) == {
        ("email", "DACH team", "hot"),
        ("email", "DACH team", "mqa"),
        ("email", "DACH team", "digest"),
    }
    assert "gone@example.com" in ledger.entries("email:digest", END)["DACH team"].last_error
    assert [mail.recipients for mail in inbox.mail] == [["emea@example.com"]]


def test_a_wrong_smtp_password_stops_the_run_without_showing_it(inbox: Inbox, ledger: DeliveryLedger) -> None:
    with pytest.raises(CrmAuthError, match="VISITOR_INTENT_SMTP_PASSWORD") as raised:
        deliver_alerts(
            DIGESTS,
            ledger,
            slack=None,
            mailer=_mailer(inbox, password="wrong-password-123"),
            addresses={"DACH team": ["dach@example.com"]},
            report_base_url=None,
        )

    assert "wrong-password-123" not in str(raised.value) and "wrong-password-123" not in repr(
        _mailer(inbox, "wrong-password-123")
    )
    assert inbox.mail == []


def test_an_smtp_server_that_is_down_is_retried_then_reported(inbox: Inbox, ledger: DeliveryLedger) -> None:
    mailer = _mailer(inbox)
    mailer.port = 1  # nothing listens there

    with pytest.raises(CrmUnavailable, match="after 3 attempts"):
        deliver_alerts(
            DIGESTS, ledger, slack=None, mailer=mailer, addresses={"EMEA team": ["e@example.com"]}, report_base_url=None
        )


def test_a_slack_webhook_that_is_gone_keeps_no_email_back(
    slack: FakeSlackWebhook, inbox: Inbox, ledger: DeliveryLedger
) -> None:
    slack.fail_next(410, "channel_is_archived")
    webhook = SlackWebhook(slack.url, retry=FAST, sleep=lambda _: None)

    with pytest.raises(CrmAuthError, match="channel_is_archived"):
        deliver_alerts(
            DIGESTS,
            ledger,
            slack=webhook,
            mailer=_mailer(inbox),
            addresses={"EMEA team": ["emea@example.com"]},
            report_base_url=None,
        )

    assert [mail.recipients for mail in inbox.mail] == [["emea@example.com"]]
