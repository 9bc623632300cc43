"""What every CRM sink shares: retries, secrets kept out of sight, dry runs, and delivery through the ledger.

A window reaches a CRM in the same steps whatever the CRM is (``deliver_window``):

1. accounts whose exact payload the ledger already records as delivered are skipped;
2. the others' CRM records are looked up (by ``crm_id``, else by domain); accounts
   without one are recorded as ``not_found`` and looked up again next run;
3. an account still ``in_flight`` from a run that stopped may already have its note
   (Task, timeline comment) in the CRM: it is looked up by its marker, never created twice;
4. every account is marked ``in_flight`` before the write, then ``delivered`` or ``failed``
   with the CRM's answer. One whose fate the CRM left unknown stays in flight.

The CRM-specific half (lookups, batched writes) is a ``Destination``: each sink is one.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import html
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import pandas as pd
import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from connectors.crm.ledger import Attempt, DeliveryLedger, DeliveryStatus, LedgerEntry
from connectors.crm.note import intent_trend, note_marker, render_note
from connectors.sinks.base import SinkResult, WindowReport
from connectors.sinks.files import account_page_name
from enrichment.activity import CRM_FIGURES

REDACTED = "[REDACTED]"
# The figures a sink can write onto a CRM record, named as in ``AccountWindow.figures``.
FIGURES = CRM_FIGURES

T = TypeVar("T")


# --- errors ----------------------------------------------------------------------------


class CrmError(Exception):
    """A CRM refused or failed a request; the message never contains a secret."""


class CrmAuthError(CrmError):
    """The credentials are wrong, revoked or lack a permission: nothing more can be sent."""


class CrmLimitReached(CrmError):
    """The CRM's API allowance is used up: stop now, the next run resumes where this one stopped."""


class CrmUnavailable(CrmError):
    """The CRM kept failing (5xx, timeouts, rate limits) through every retry."""


class CrmRequestError(CrmError):
    """The CRM rejected a request (a 4xx other than auth and limits)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Transient(Exception):
    """A failure worth retrying: 5xx, timeouts, connection errors, short-term rate limits."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# --- retries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter (seconds); a Retry-After takes precedence."""

    attempts: int = 5
    initial_wait: float = 1.0
    max_wait: float = 60.0
    jitter: float = 1.0


class Retrier:
    """Runs a request attempt until it succeeds or the policy's attempts are spent.

    Only ``Transient`` failures are retried; after the last attempt the ``Transient`` is
    re-raised for the caller to turn into its ``CrmUnavailable``. An attempt is called as
    ``attempt(method, path, ...)``: those two name the request in the retry log line.
    """

    def __init__(self, crm: str, policy: RetryPolicy, sleep: Callable[[float], None], logger: logging.Logger) -> None:
        self.crm = crm
        self.policy = policy
        self._sleep = sleep
        self._log = logger
        self._backoff = wait_exponential(multiplier=policy.initial_wait, max=policy.max_wait) + wait_random(
            0, policy.jitter
        )

    def __call__(self, attempt: Callable[..., T], *args: Any) -> T:
        retrying = Retrying(
            stop=stop_after_attempt(self.policy.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(Transient),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(attempt, *args)

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, Transient) and error.retry_after is not None:
            return error.retry_after
        return self._backoff(state)

    def _log_retry(self, state: RetryCallState) -> None:
        method, path = state.args[0], state.args[1]
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        self._log.warning(
            "%s %s %s failed (%s); retry %d of %d in %.1fs",
            self.crm,
            method,
            path,
            error,
            state.attempt_number,
            self.policy.attempts - 1,
            wait,
        )


def retry_after(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header (delay-seconds or an HTTP date), when one was sent."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except ValueError:
        return None
    if when.tzinfo is None:  # "-0000": UTC, says RFC 5322
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


# --- secrets ---------------------------------------------------------------------------


class Redactor:
    """Replaces secrets in any text by ``[REDACTED]``, also in their URL-encoded form."""

    def __init__(self, *secrets: str) -> None:
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        for secret in secrets:
            if secret:
                self._secrets |= {secret, quote(secret, safe="")}

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text


class _HttpLogRedaction(logging.Filter):
    """urllib3 logs each request's URL path at DEBUG: a Bitrix24 webhook's path is its secret."""

    def __init__(self) -> None:
        super().__init__()
        self.redact = Redactor()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_HTTP_LOG_REDACTION = _HttpLogRedaction()
for _logger_name in ("urllib3.connectionpool", "urllib3.util.retry"):
    logging.getLogger(_logger_name).addFilter(_HTTP_LOG_REDACTION)


def hide_from_http_logs(*secrets: str) -> None:
    """Keep secrets that travel in request URLs out of urllib3's debug log lines."""
    _HTTP_LOG_REDACTION.redact.add(*secrets)


# --- dry runs --------------------------------------------------------------------------


class DryRunRecorder:
    """Writes the requests a dry run would send, one JSON file each, numbered in sending order.

    Callers pass the request with its secrets already redacted (``method``, ``url``,
    ``headers`` and the body).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._count = 0

    def record(self, request: Mapping[str, Any], label: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._count += 1
        name = f"{self._count:04d}-{request['method']}-{label.strip('/').replace('/', '_')}.json"
        (self.folder / name).write_text(json.dumps(request, indent=2, ensure_ascii=False), encoding="utf-8")


# --- small helpers ---------------------------------------------------------------------


def json_body(response: requests.Response) -> Any:
    """The answer's JSON, or ``{}`` when it has none."""
    try:
        return response.json()
    except ValueError:
        return {}


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def normalize_domain(domain: str) -> str:
    """``https://WWW.Acme.com/about`` → ``acme.com``: how CRM domains and websites are compared."""
    host = domain.strip().lower().split("://")[-1].split("/")[0]
    return host.removeprefix("www.")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts, with missing values as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def crm_text(value: Any) -> str | None:
    """A CRM id as text (the warehouse declares it text), None when blank."""
    text = "" if value is None else str(value).strip()
    return text or None


def utc_iso(value: Any) -> str:
    timestamp = pd.Timestamp(value)
    timestamp = timestamp.tz_localize("UTC") if timestamp.tzinfo is None else timestamp.tz_convert("UTC")
    return timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def is_in_flight(entry: LedgerEntry | None) -> bool:
    return entry is not None and entry.status is DeliveryStatus.IN_FLIGHT


def report_url(report_base_url: str | None, account_id: str, report: WindowReport) -> str | None:
    """Where the file sink's page for this account and window is served, when that is configured."""
    if not report_base_url:
        return None
    folder = f"{report.window_start.isoformat()}_{report.window_end.isoformat()}"
    return f"{report_base_url.rstrip('/')}/{folder}/accounts/{account_page_name(account_id)}.html"


def note_text(note_html: str) -> str:
    """The note as plain text, for CRMs whose activity text isn't HTML (Salesforce, Bitrix24).

    One line per paragraph and per visit; a link keeps its address in brackets. The text
    is never longer than the HTML, so the HTML's length limit holds for it too.
    """
    text = re.sub(r'<a href="([^"]*)">([^<]*)</a>', r"\2 (\1)", note_html)
    text = text.replace("<li>", "- ").replace("</li>", "\n").replace("</p>", "\n")
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


# --- the accounts of a window ------------------------------------------------------------


@dataclass(frozen=True)
class AccountWindow:
    """One target account's activity in one report window, as every CRM sink sends it.

    ``figures`` holds company-level numbers and words only (see ``FIGURES``); ``note`` is
    the plain-text note with the account's digital path, or "" for a sink without notes.
    """

    account_id: str
    name: str
    crm_id: str | None
    domains: tuple[str, ...]
    window_start: dt.date
    window_end: dt.date
    intent_score: float
    marker: str
    figures: dict[str, Any]
    note: str
    report_url: str | None


def account_windows(
    report: WindowReport,
    ledger: DeliveryLedger,
    sink: str,
    domains: Mapping[str, Sequence[str]],
    *,
    note_max_chars: int | None = None,
    report_base_url: str | None = None,
) -> list[AccountWindow]:
    """Every account of the report, with its trend against this sink's previous window."""
    rows = records(report.accounts)
    previous = ledger.previous_scores(sink, report.window_end, [str(row["account_id"]) for row in rows])
    paths = dict(tuple(report.path.groupby("account_id", sort=False)))
    no_pages = report.path.head(0)
    windows = []
    for row in rows:
        account_id = str(row["account_id"])
        trend = intent_trend(row["intent_score"], previous.get(account_id))
        marker = note_marker(account_id, report.window_end)
        url = report_url(report_base_url, account_id, report)
        note = (
            ""
            if note_max_chars is None
            else note_text(
                render_note(
                    row,
                    paths.get(row["account_id"], no_pages),
                    trend=trend,
                    marker=marker,
                    report_url=url,
                    max_chars=note_max_chars,
                )
            )
        )
        windows.append(
            AccountWindow(
                account_id=account_id,
                name=str(row["name"]),
                crm_id=crm_text(row.get("crm_id")),
                domains=tuple(normalize_domain(domain) for domain in domains.get(account_id, ())),
                window_start=report.window_start,
                window_end=report.window_end,
                intent_score=float(row["intent_score"]),
                marker=marker,
                figures={
                    "intent_score": round(row["intent_score"]),
                    "intent_trend": trend.value,
                    "furthest_stage": row["furthest_stage"] or "",
                    "top_topics": row["top_topics"] or "",
                    "top_pages": row["top_pages"] or "",
                    "visits": int(row["visits"]),
                    "pageviews": int(row["pageviews"]),
                    "last_visit": utc_iso(row["last_seen"]),
                    "window": f"{report.window_start.isoformat()} to {report.window_end.isoformat()}",
                },
                note=note,
                report_url=url,
            )
        )
    return windows


def field_mapping(fields: Mapping[str, str], crm: str) -> dict[str, str]:
    """A figure → CRM field mapping, checked: a typo in a figure name fails at start-up."""
    unknown = sorted(set(fields) - set(FIGURES))
    if unknown:
        raise ValueError(f"unknown {crm} field mapping keys {unknown}; the figures are {', '.join(FIGURES)}")
    return dict(fields)


# --- delivery through the ledger -------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """What a sink sends for one account and window; the hash lets the ledger skip unchanged ones."""

    window: AccountWindow
    content: Any  # JSON-serialisable, sink-specific
    payload_hash: str

    @classmethod
    def of(cls, window: AccountWindow, content: Any) -> Delivery:
        payload = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return cls(window, content, hashlib.sha256(payload.encode()).hexdigest())

    @property
    def account_id(self) -> str:
        return self.window.account_id

    def attempt(self, record_id: str | None = None) -> Attempt:
        return Attempt(self.account_id, self.payload_hash, self.window.intent_score, record_id)


@dataclass(frozen=True)
class Target:
    """A delivery whose CRM record was found, with the note the record already has, if any."""

    delivery: Delivery
    record_id: str | None  # None where there is no record to find (a webhook)
    note_id: str | None


@dataclass
class SendOutcome:
    """What the CRM confirmed (note id by account id) and rejected (its reason by account id).

    An account in neither has an unknown fate: it stays in flight.
    """

    note_ids: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteResult:
    """A CRM's answer for one record of a batched write: the record's id, or why it failed."""

    record_id: str | None
    error: str | None = None


def write_records_then_notes(
    targets: Sequence[Target],
    *,
    update_records: Callable[[list[Target]], list[WriteResult]],
    update_notes: Callable[[list[Target]], list[WriteResult]],
    create_notes: Callable[[list[Target]], list[WriteResult]],
) -> SendOutcome:
    """Write the records' fields; then the notes of the records the CRM accepted.

    A known note (``note_id``) is updated, the others are created. An account whose record
    was rejected gets no note, so a failed account leaves nothing half-written behind.
    Each callable answers one ``WriteResult`` per target, in order.
    """
    outcome = SendOutcome()

    def accepted(batch: list[Target], results: list[WriteResult]) -> Iterator[tuple[Target, WriteResult]]:
        for target, result in zip(batch, results, strict=True):
            if result.error is not None:
                outcome.failures[target.delivery.account_id] = result.error
            else:
                yield target, result

    written = [target for target, _ in accepted(list(targets), update_records(list(targets)))]
    known = [target for target in written if target.note_id]
    new = [target for target in written if not target.note_id]
    for batch, write in ((known, update_notes), (new, create_notes)):
        for target, result in accepted(batch, write(batch) if batch else []):
            if result.record_id:
                outcome.note_ids[target.delivery.account_id] = result.record_id
    return outcome


class Destination(Protocol):
    """The CRM-specific half of a sink: its lookups and its batched writes."""

    name: str

    @property
    def location(self) -> str: ...

    @property
    def dry_run(self) -> bool: ...

    def find_records(self, deliveries: Sequence[Delivery]) -> Mapping[str, str | None]:
        """The CRM record of each account that has one, by account id."""
        ...

    def find_notes(self, targets: Sequence[Target]) -> Mapping[str, str]:
        """Notes an interrupted run may have left, by account id (looked up by marker)."""
        ...

    def send(self, targets: Sequence[Target]) -> SendOutcome:
        """Write the records' fields and their notes (a new note where ``note_id`` is None)."""
        ...


def deliver_window(
    destination: Destination, ledger: DeliveryLedger, deliveries: Sequence[Delivery], window_end: dt.date
) -> SinkResult:
    """Deliver every changed account; details count delivered, updated, unchanged, not_found, failed.

    In a dry run the destination records its writes instead of sending them and the ledger
    stays untouched. A ``CrmError`` is raised after the error is noted on the accounts in flight.
    """
    entries = ledger.entries(destination.name, window_end)
    pending = [
        d for d in deliveries if not (d.account_id in entries and entries[d.account_id].is_delivered(d.payload_hash))
    ]
    found = destination.find_records(pending) if pending else {}
    missing = [d for d in pending if d.account_id not in found]
    targets, conflicts = _claim_records([d for d in pending if d.account_id in found], found, entries)
    targets = _with_stray_notes(destination, targets, entries)
    unchanged = len(deliveries) - len(pending)
    if destination.dry_run:
        destination.send(targets)
        counts = Counter(unchanged=unchanged, not_found=len(missing), failed=len(conflicts))
        return _result(destination, counts, would_write=len(targets))

    sink = destination.name
    ledger.mark_not_found(sink, window_end, [d.attempt() for d in missing])
    ledger.mark_in_flight(
        sink, window_end, [t.delivery.attempt(t.record_id) for t in targets] + [d.attempt() for d, _ in conflicts]
    )
    ledger.mark_failed(sink, window_end, {d.account_id: reason for d, reason in conflicts})
    try:
        outcome = destination.send(targets)
    except CrmError as error:
        ledger.note_error(sink, window_end, [t.delivery.account_id for t in targets], str(error))
        raise
    ledger.mark_delivered(sink, window_end, outcome.note_ids)
    ledger.mark_failed(sink, window_end, outcome.failures)
    known_notes = {t.delivery.account_id for t in targets if t.note_id}
    return _result(
        destination,
        Counter(
            delivered=len(outcome.note_ids.keys() - known_notes),
            updated=len(outcome.note_ids.keys() & known_notes),
            unchanged=unchanged,
            not_found=len(missing),
            failed=len(outcome.failures) + len(conflicts),
        ),
    )


def _claim_records(
    deliveries: list[Delivery], records_found: Mapping[str, str | None], entries: Mapping[str, LedgerEntry]
) -> tuple[list[Target], list[tuple[Delivery, str]]]:
    """Each CRM record goes to one account, the one with the highest score; the others fail.

    One record has one set of intent fields: two accounts writing it would overwrite each other.
    """
    targets: list[Target] = []
    conflicts: list[tuple[Delivery, str]] = []
    owners: dict[str, str] = {}
    for delivery in sorted(deliveries, key=lambda d: -d.window.intent_score):
        record_id = records_found[delivery.account_id]
        if record_id is not None and record_id in owners:
            conflicts.append(
                (
                    delivery,
                    (
                        f"CRM record {record_id} is already delivered for account {owners[record_id]}; "
                        "give each target account its own record (crm_id or domain)"
                    ),
                )
            )
            continue
        if record_id is not None:
            owners[record_id] = delivery.account_id
        entry = entries.get(delivery.account_id)
        targets.append(Target(delivery, record_id, entry.note_id if entry else None))
    return targets, conflicts


def _with_stray_notes(
    destination: Destination, targets: list[Target], entries: Mapping[str, LedgerEntry]
) -> list[Target]:
    """Targets with the notes that runs which stopped before their ledger write left in the CRM."""
    stray = [t for t in targets if t.note_id is None and is_in_flight(entries.get(t.delivery.account_id))]
    if not stray:
        return targets
    notes = destination.find_notes(stray)
    return [Target(t.delivery, t.record_id, t.note_id or notes.get(t.delivery.account_id)) for t in targets]


def _result(destination: Destination, counts: Counter[str], **extra: int) -> SinkResult:
    details = {key: counts[key] for key in ("delivered", "updated", "unchanged", "not_found", "failed")}
    return SinkResult(
        sink=destination.name,
        location=destination.location,
        delivered=counts["delivered"] + counts["updated"],
        details={**details, **extra},
    )
