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

Answer 2xx to accept; 429 or 5xx (a Retry-After is honoured) to have the request retried
with backoff; any other 4xx refuses that document (it is recorded as failed and sent again
next run); 401 or 403 stop the run. The shared secret is never logged, put in an exception,
a dry-run file or returned.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import requests

from connectors.crm.common import (
    REDACTED,
    CrmAuthError,
    CrmRequestError,
    CrmUnavailable,
    Delivery,
    DryRunRecorder,
    Redactor,
    Retrier,
    RetryPolicy,
    SendOutcome,
    Target,
    Transient,
    account_windows,
    deliver_window,
    retry_after,
)
from connectors.crm.ledger import DeliveryLedger
from connectors.sinks.base import SinkResult, WindowReport

log = logging.getLogger(__name__)

SECRET_ENV_VAR = "VISITOR_INTENT_WEBHOOK_SECRET"
TIMESTAMP_HEADER = "X-Visitor-Intent-Timestamp"
SIGNATURE_HEADER = "X-Visitor-Intent-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SIGNATURE_TOLERANCE_SECONDS = 300
_DOCUMENT_FIGURES = (
    "intent_score",
    "intent_trend",
    "furthest_stage",
    "top_topics",
    "top_pages",
    "visits",
    "pageviews",
    "last_visit",
)


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


class WebhookSink:
    """Delivers a window's accounts as signed JSON documents to one URL (the ``ReportSink`` protocol).

    With ``dry_run_dir`` set, the exact requests (headers and raw body) are written there
    as JSON files instead of being sent, and the ledger stays untouched.
    """

    name = "webhook"

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
        self.url = url
        self.ledger = ledger
        self.report_base_url = report_base_url
        self.timeout = timeout
        self.retry = retry
        self.dry_run_dir = dry_run_dir
        self._secret = secret
        self._clock = clock
        self._redact = Redactor(secret)
        self._retrier = Retrier("Webhook", retry, sleep, log)
        self._recorder = DryRunRecorder(dry_run_dir) if dry_run_dir is not None else None
        self._session = requests.Session()

    def __repr__(self) -> str:
        return f"WebhookSink(url={self.url!r}, secret={REDACTED!r})"

    @property
    def location(self) -> str:
        return str(self.dry_run_dir) if self.dry_run else self.url

    @property
    def dry_run(self) -> bool:
        return self._recorder is not None

    def deliver(self, report: WindowReport) -> SinkResult:
        """Send every changed account's document; details count delivered, updated, unchanged, failed.

        Raises ``CrmAuthError`` (401, 403) and ``CrmUnavailable`` after recording state.
        """
        windows = account_windows(report, self.ledger, self.name, {}, report_base_url=self.report_base_url)
        deliveries = [
            Delivery.of(
                window,
                {
                    "account_id": window.account_id,
                    "account_name": window.name,
                    "crm_id": window.crm_id,
                    "window_start": window.window_start.isoformat(),
                    "window_end": window.window_end.isoformat(),
                    **{figure: window.figures[figure] for figure in _DOCUMENT_FIGURES},
                    "report_url": window.report_url,
                },
            )
            for window in windows
        ]
        return deliver_window(self, self.ledger, deliveries, report.window_end)

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
            body = json.dumps(delivery.content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
            if self._recorder is not None:
                self._recorder.record(
                    {"method": "POST", "url": self.url, "headers": self._headers(body, key), "body": body.decode()},
                    label=f"webhook-{key[:12]}",
                )
                continue
            try:
                self._post(delivery.account_id, body, key)
            except CrmRequestError as error:
                outcome.failures[delivery.account_id] = str(error)
                continue
            outcome.note_ids[delivery.account_id] = key
        return outcome

    def _post(self, account_id: str, body: bytes, key: str) -> None:
        try:
            self._retrier(self._attempt, "POST", f"document of {account_id}", body, key)
        except Transient as error:
            raise CrmUnavailable(
                f"the webhook receiver did not accept the document of {account_id} after {self.retry.attempts} attempts: {error}"
            ) from None

    def _attempt(self, method: str, what: str, body: bytes, key: str) -> None:
        # Signed at each attempt: a retry after a long Retry-After still has a fresh timestamp.
        try:
            response = self._session.request(
                method, self.url, data=body, headers=self._headers(body, key), timeout=self.timeout
            )
        except requests.Timeout:
            raise Transient(f"no answer within {self.timeout:g}s") from None
        except requests.ConnectionError as error:
            raise Transient(f"connection failed ({type(error).__name__})") from None
        status = response.status_code
        reason = self._redact(f"{status} {response.text[:200] or response.reason or ''}".strip())
        if status == 429 or status >= 500:
            raise Transient(reason, retry_after=retry_after(response))
        if status in (401, 403):
            raise CrmAuthError(
                f"the webhook receiver refused the signature ({reason}); check {SECRET_ENV_VAR} against the receiver's secret"
            )
        if status >= 400:
            raise CrmRequestError(status, f"the webhook receiver refused the {what}: {reason}")

    def _headers(self, body: bytes, key: str) -> dict[str, str]:
        timestamp = str(int(self._clock()))
        return {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            IDEMPOTENCY_HEADER: key,
        }


def idempotency_key(delivery: Delivery) -> str:
    """The same for the same document of the same account and window, whenever and however often it is sent."""
    text = f"{delivery.account_id}\n{delivery.window.window_end.isoformat()}\n{delivery.payload_hash}"
    return hashlib.sha256(text.encode()).hexdigest()
