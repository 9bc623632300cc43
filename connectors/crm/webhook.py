"""Webhook: one signed JSON document per account and window, POSTed to a URL you run.

Each request looks like this::

    POST <url>
    Content-Type: application/json
    X-Visitor-Intent-Timestamp: 1763280000
    X-Visitor-Intent-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>", keyed with the shared secret>
    Idempotency-Key: <hex SHA-256 of the account id, the window's last day and the document's hash>

    {"account_id": "ACME-003", "account_name": "Acme", "crm_id": null,
     "window_start": "2026-11-02", "window_end": "2026-11-15",
     "intent_score": 72, "intent_trend": "rising", "furthest_stage": "decision",
     "top_topics": "pricing (4); integrations (2)", "top_pages": "/pricing (3); /docs (1)",
     "visits": 3, "pageviews": 7, "last_visit": "2026-11-14T09:12:00Z", "report_url": null}

Only company-level figures are sent: no IP address, visitor id, user agent or referrer.

To verify a request (``verify_signature`` is a reference implementation): compute
HMAC-SHA256 over the timestamp header, a ".", and the raw body bytes exactly as received,
with the shared secret as key; compare its hex digest with the signature after
``sha256=`` in constant time; refuse timestamps more than five minutes away from now, so
a captured request can't be replayed later.

A document that was re-sent (after a timeout, a retry, or a run that stopped before it
recorded the answer) carries the same Idempotency-Key: store by that key, or upsert by
``account_id`` and ``window_end``, and a repeat changes nothing. A changed document for
the same window has a new key; the latest one sent for a window is the one that counts.

To forget an account (``connectors.crm.forget``), a signed request of the same form carries
``{"event": "forget", "account_id": "ACME-003", "window_ends": ["2026-11-15", ...]}``:
delete every document you stored for that ``account_id``. A delivered document never has
an ``event`` key.

Answer 2xx to accept; 429 or 5xx (a Retry-After is honoured) to have the request retried
with backoff; any other 4xx refuses that document (it is recorded as failed and sent again
next run; a refused forget request is reported and sent again by the next forget); 401 or 403 stop the run. The shared secret is never logged, put in an exception,
a dry-run file or returned.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from connectors.crm.delivery import Delivery, SendOutcome, Target
from connectors.crm.forget import Erased
from connectors.crm.ledger import DeliveryLedger, LedgerEntry
from connectors.crm.sink import CrmSink
from connectors.crm.transport import REDACTED, CrmClient, CrmRequestError, RetryPolicy
from connectors.crm.windows import FIGURES, AccountWindow

SECRET_ENV_VAR = "VISITOR_INTENT_WEBHOOK_SECRET"
TIMESTAMP_HEADER = "X-Visitor-Intent-Timestamp"
SIGNATURE_HEADER = "X-Visitor-Intent-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SIGNATURE_TOLERANCE_SECONDS = 300
# Every figure, the window as its own two dates (``window_start``, ``window_end``).
_DOCUMENT_FIGURES = tuple(figure for figure in FIGURES if figure != "window")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the HMAC-SHA256 of ``<timestamp>.<body>``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float,
    tolerance: float = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: the signature matches the raw body and the timestamp is recent."""
    try:
        fresh = abs(now - int(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


class _Receiver(CrmClient):
    """The receiver's URL: signed POSTs, retried; in a dry run, written to files instead."""

    crm = "the webhook receiver"
    credentials_help = f"Check {SECRET_ENV_VAR} against the receiver's secret."

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float,
        retry: RetryPolicy,
        dry_run_dir: Path | None,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        super().__init__(secrets=[secret], timeout=timeout, retry=retry, dry_run_dir=dry_run_dir, sleep=sleep)
        self.url = url
        self._secret = secret
        self._clock = clock

    @property
    def location(self) -> str:
        return self.url

    def post(self, document: Any, key: str, what: str) -> None:
        """POST one signed document; raises ``CrmRequestError`` when the receiver refuses it."""
        body = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        if self.dry_run:
            headers = self._headers(body, key)
            self._record("POST", self.url, label=f"webhook-{key[:12]}", headers=headers, body=body.decode())
            return
        self._retried(self._attempt, "POST", what, body, key)

    def _attempt(self, method: str, what: str, body: bytes, key: str) -> None:
        # Signed at each attempt: a retry after a long Retry-After still has a fresh timestamp.
        response = self._exchange(method, self.url, data=body, headers=self._headers(body, key))
        self._raise_for_status(response, what)

    def _headers(self, body: bytes, key: str) -> dict[str, str]:
        timestamp = str(int(self._clock()))
        return {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            IDEMPOTENCY_HEADER: key,
        }


class WebhookSink(CrmSink):
    """Delivers a window's accounts as signed JSON documents to one URL.

    With ``dry_run_dir`` set, the exact requests (headers and raw body) are written there
    as JSON files instead of being sent, and the ledger stays untouched.
    """

    name = "webhook"
    client: _Receiver

    def __init__(
        self,
        url: str,
        secret: str,
        ledger: DeliveryLedger,
        *,
        report_base_url: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        dry_run_dir: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError(
                f"no webhook secret: set {SECRET_ENV_VAR} to the secret the receiver verifies signatures with"
            )
        receiver = _Receiver(
            url, secret, timeout=timeout, retry=retry, dry_run_dir=dry_run_dir, sleep=sleep, clock=clock
        )
        super().__init__(receiver, ledger, report_base_url=report_base_url)

    def __repr__(self) -> str:
        return f"WebhookSink(url={self.client.url!r}, secret={REDACTED!r})"

    def content(self, window: AccountWindow) -> dict[str, Any]:
        """The document: the account, its window and its company-level figures."""
        return {
            "account_id": window.account_id,
            "account_name": window.name,
            "crm_id": window.crm_id,
            "window_start": window.window_start.isoformat(),
            "window_end": window.window_end.isoformat(),
            **{figure: window.figures[figure] for figure in _DOCUMENT_FIGURES},
            "report_url": window.report_url,
        }

    def find_records(self, deliveries: Sequence[Delivery]) -> Mapping[str, str | None]:
        """Every account has a place at the receiver: there is nothing to look up."""
        return {delivery.account_id: None for delivery in deliveries}

    def find_notes(self, targets: Sequence[Target]) -> Mapping[str, str]:
        """Nothing to look up either: a re-sent document has the same Idempotency-Key, and the receiver drops it."""
        return {}

    def send(self, targets: Sequence[Target]) -> SendOutcome:
        """POST each document; the ledger keeps each accepted document's Idempotency-Key as its note id."""
        outcome = SendOutcome()
        for target in targets:
            delivery = target.delivery
            key = idempotency_key(delivery)
            try:
                self.client.post(delivery.content, key, f"the document of {delivery.account_id}")
            except CrmRequestError as error:
                outcome.failures[delivery.account_id] = str(error)
                continue
            if not self.dry_run:
                outcome.note_ids[delivery.account_id] = key
        return outcome

    def erase(self, entries: Sequence[LedgerEntry], records: Sequence[str]) -> Erased:
        """Ask the receiver to delete every document of each account of ``entries`` (one signed forget event each)."""
        windows: dict[str, list[str]] = {}
        for entry in entries:
            windows.setdefault(entry.account_id, []).append(entry.window_end.isoformat())
        erased = Erased()
        for account_id, window_ends in windows.items():
            event = {"event": "forget", "account_id": account_id, "window_ends": sorted(window_ends)}
            key = hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()
            try:
                self.client.post(event, key, f"the forget request of {account_id}")
            except CrmRequestError as error:
                erased.failures[account_id] = str(error)
                continue
            erased.notes += len(window_ends)
        return erased


def idempotency_key(delivery: Delivery) -> str:
    """The same for the same document of the same account and window, whenever and however often it is sent."""
    text = f"{delivery.account_id}\n{delivery.window.window_end.isoformat()}\n{delivery.payload_hash}"
    return hashlib.sha256(text.encode()).hexdigest()
