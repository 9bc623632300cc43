"""Owner alerts through the delivery ledger: each alert and digest reaches each sink once.

The ledger (``connectors.crm.ledger``) holds one row per alert, window and sink, its sink
named ``<sink>:<reason>`` (``slack:hot``, ``email:mqa``), and one per owner's digest, with
the owner in place of the account (``slack:digest``, ``email:digest``). A row is marked
``in_flight`` before the message goes out, then ``delivered`` or ``failed`` (refused, or no
answer through every retry); failed ones are sent by the next run. Delivered and in-flight
rows are never sent again: a row is left in flight only by a run that stopped while
sending, and Slack and SMTP cannot tell whether that message arrived; a missed alert is
better than one repeated.

Slack gets one message per account (its new alerts together) and one digest per owner;
email one message per owner (new alerts and digest together) to the owner's addresses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from connectors.alerts.slack import SlackWebhook, alert_message, digest_message
from connectors.alerts.smtp import SmtpMailer, owner_email
from connectors.crm.ledger import Attempt, DeliveryLedger, DeliveryStatus
from connectors.crm.transport import CrmError, CrmRequestError
from connectors.crm.windows import report_url
from enrichment.alerts import REASONS, AccountNews, OwnerDigest

DIGEST = "digest"
_SENT = (DeliveryStatus.DELIVERED, DeliveryStatus.IN_FLIGHT)


@dataclass
class AlertOutcome:
    """What went out: ``sent`` and ``failed`` count alerts and digests by ``(sink, owner, reason or "digest")``.

    ``no_address`` names owners with accounts but no email address in the settings.
    """

    sent: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    failed: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    no_address: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Row:
    """One ledger row of a message: its sink name and key (an account id, or the owner for a digest)."""

    sink: str
    key: str
    owner: str
    reason: str


def deliver_alerts(
    digests: Sequence[OwnerDigest],
    ledger: DeliveryLedger,
    *,
    slack: SlackWebhook | None,
    mailer: SmtpMailer | None,
    addresses: Mapping[str, Sequence[str]],
    report_base_url: str | None,
) -> AlertOutcome:
    """Send each owner's alerts and digest of one window to the sinks given, skipping what the ledger holds.

    A sink that can take nothing more (a removed webhook, a refused login) stops with a
    ``CrmError``, raised once the other sink had its turn: Slack being down keeps no email back.
    """
    outcome = AlertOutcome()
    if not digests:
        return outcome
    links = {
        news.account_id: report_url(report_base_url, news.account_id, digest.window_start, digest.window_end)
        for digest in digests
        for news in digest.accounts
    }
    sinks = []
    if slack is not None:
        sinks.append(("slack", partial(_to_slack, slack)))
    if mailer is not None:
        sinks.append(("email", partial(_to_email, mailer, addresses)))
    stopped: list[CrmError] = []
    for sink, send in sinks:
        sent = _already_sent(ledger, sink, digests[0].window_end)
        try:
            for digest in digests:
                send(ledger, digest, links, sent, outcome)
        except CrmError as error:
            stopped.append(error)
    if stopped:
        raise stopped[0]
    return outcome


def _to_slack(
    slack: SlackWebhook,
    ledger: DeliveryLedger,
    digest: OwnerDigest,
    links: Mapping[str, str | None],
    sent: set[tuple[str, str]],
    outcome: AlertOutcome,
) -> None:
    for news, reasons in _new_alerts(digest, "slack", sent):
        message = alert_message(news, reasons, digest, links[news.account_id])
        rows = [_Row(f"slack:{reason}", news.account_id, digest.owner, reason) for reason in reasons]
        _send(ledger, digest, rows, message, partial(slack.post, message, f"the alert of {news.account_id}"), outcome)
    if (f"slack:{DIGEST}", digest.owner) not in sent:
        message = digest_message(digest, links)
        rows = [_Row(f"slack:{DIGEST}", digest.owner, digest.owner, DIGEST)]
        _send(ledger, digest, rows, message, partial(slack.post, message, f"the digest of {digest.owner}"), outcome)


def _to_email(
    mailer: SmtpMailer,
    addresses: Mapping[str, Sequence[str]],
    ledger: DeliveryLedger,
    digest: OwnerDigest,
    links: Mapping[str, str | None],
    sent: set[tuple[str, str]],
    outcome: AlertOutcome,
) -> None:
    recipients = addresses.get(digest.owner, ())
    if not recipients:
        outcome.no_address.add(digest.owner)
        return
    alerts = _new_alerts(digest, "email", sent)
    rows = [
        _Row(f"email:{reason}", news.account_id, digest.owner, reason) for news, reasons in alerts for reason in reasons
    ]
    if (f"email:{DIGEST}", digest.owner) not in sent:
        rows.append(_Row(f"email:{DIGEST}", digest.owner, digest.owner, DIGEST))
    if not rows:
        return
    message = owner_email(digest, alerts, links, sender=mailer.sender, recipients=recipients)
    content = {"to": list(recipients), "body": message.get_body(("plain",)).get_content()}
    _send(ledger, digest, rows, content, partial(mailer.send, message, f"the email to {digest.owner}"), outcome)


def _already_sent(ledger: DeliveryLedger, sink: str, window_end: dt.date) -> set[tuple[str, str]]:
    """``(sink name, key)`` of every row of this window and sink delivered or in flight."""
    sent: set[tuple[str, str]] = set()
    for reason in (*REASONS, DIGEST):
        name = f"{sink}:{reason}"
        entries = ledger.entries(name, window_end)
        sent |= {(name, key) for key, entry in entries.items() if entry.status in _SENT}
    return sent


def _new_alerts(
    digest: OwnerDigest, sink: str, sent: set[tuple[str, str]]
) -> list[tuple[AccountNews, tuple[str, ...]]]:
    """Each alerted account of the digest with its reasons not yet sent to ``sink``."""
    pending = [
        (news, tuple(reason for reason in news.reasons if (f"{sink}:{reason}", news.account_id) not in sent))
        for news in digest.alerts
    ]
    return [(news, reasons) for news, reasons in pending if reasons]


def _send(
    ledger: DeliveryLedger,
    digest: OwnerDigest,
    rows: list[_Row],
    content: object,
    send: Callable[[], None],
    outcome: AlertOutcome,
) -> None:
    """Mark the rows in flight, send, then mark them delivered or failed; a refused message fails only itself."""
    window_end = digest.window_end
    payload_hash = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    scores = {news.account_id: news.intent_score for news in digest.accounts}
    for row in rows:
        ledger.mark_in_flight(row.sink, window_end, [Attempt(row.key, payload_hash, scores.get(row.key))])
    try:
        send()
    except CrmError as error:
        # Refused or never answered: not delivered, so the next run sends it.
        for row in rows:
            ledger.mark_failed(row.sink, window_end, {row.key: str(error)})
        outcome.failed.update((row.sink.split(":")[0], row.owner, row.reason) for row in rows)
        if not isinstance(error, CrmRequestError):  # the sink can take nothing more: stop
            raise
        return
    for row in rows:
        ledger.mark_delivered(row.sink, window_end, {row.key: payload_hash[:64]})
    outcome.sent.update((row.sink.split(":")[0], row.owner, row.reason) for row in rows)
