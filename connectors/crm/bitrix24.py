"""Bitrix24: each target account's window activity on its company, plus one timeline comment.

The sink finds each account's company (by ``crm_id``, else by a domain user field we own,
``UF_CRM_VI_DOMAIN`` by default), writes the configured intent user fields on it and adds
one comment per account and window to the company's timeline; a re-run of the window
updates that comment. The comment carries the window's marker, so a run that stopped after
Bitrix24 stored its comments but before the ledger recorded them finds them again.

Bitrix24 REST through an inbound webhook, ``https://<portal>.bitrix24.com/rest/<user_id>/<secret>/``.
That URL *is* the secret: it is never logged, put in an exception, a dry-run file or returned.

    crm.company.list             companies by ID and by the domain field, 50 a page (start/next)
    crm.company.update           the intent fields of a company
    crm.timeline.comment.list    a company's comments, to find one a stopped run left
    crm.timeline.comment.add     the window's comment on the company's timeline
    crm.timeline.comment.update  the window's comment, on a re-run
    batch                        up to 50 of the above in one request

Bitrix24 limits requests with a leaky bucket: each request (a batch counts once) adds one,
two leak away per second, and a request arriving with 50 in the bucket is refused with
``503 QUERY_LIMIT_EXCEEDED`` (Enterprise plans: five a second, 250). The client keeps the
same bucket, so after a burst it sends two requests a second; a refusal anyway (other
integrations share the portal's bucket) fills its bucket and is retried after a backoff.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import quote, urlencode

import requests

from connectors.crm.common import (
    CrmAuthError,
    CrmLimitReached,
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
    WriteResult,
    account_windows,
    chunks,
    deliver_window,
    field_mapping,
    hide_from_http_logs,
    json_body,
    normalize_domain,
    retry_after,
    write_records_then_notes,
)
from connectors.crm.ledger import DeliveryLedger
from connectors.sinks.base import SinkResult, WindowReport

log = logging.getLogger(__name__)

WEBHOOK_ENV_VAR = "BITRIX24_WEBHOOK_URL"
DEFAULT_DOMAIN_FIELD = "UF_CRM_VI_DOMAIN"
DEFAULT_COMPANY_FIELDS = {
    "intent_score": "UF_CRM_VI_INTENT_SCORE",
    "furthest_stage": "UF_CRM_VI_INTENT_STAGE",
    "top_topics": "UF_CRM_VI_INTENT_TOPICS",
}
BATCH_LIMIT = 50  # commands per batch, and records per list page
# Our own cap on a batch request's commands, well below any server's request-size limit.
MAX_BATCH_CHARS = 1_000_000
# Our own cap: Bitrix24 documents no limit for COMMENT; the cut note points to the full report.
COMMENT_MAX_CHARS = 20_000
COMPANY_OWNER_TYPE = 4  # the CRM object type id of companies (lead 1, deal 2, contact 3)
_WEBHOOK = re.compile(r"(?P<portal>https?://[^/]+)/rest/(?P<user>\d+)/(?P<secret>[^/]+)/?")
_AUTH_ERRORS = {
    "NO_AUTH_FOUND",
    "INVALID_CREDENTIALS",
    "insufficient_scope",
    "ACCESS_DENIED",
    "expired_token",
    "user_access_error",
}

T = TypeVar("T")
Command = tuple[str, dict[str, Any]]  # a REST method and its parameters


@dataclass
class BatchAnswer:
    """What a batch said, by command key: results, errors, and the next page's ``start`` of list methods."""

    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    next: dict[str, int] = field(default_factory=dict)


class Bitrix24Client:
    """The few Bitrix24 REST calls the sink needs, batched, paced, retried.

    With ``dry_run_dir`` set, batches that change data are written there as JSON files
    (the webhook's secret redacted) instead of being sent, and answered as if they had
    succeeded; lookups are still sent, so the files hold exactly what a real run would send.
    """

    def __init__(
        self,
        webhook_url: str,
        *,
        domain_field: str = DEFAULT_DOMAIN_FIELD,
        burst: int = 50,
        requests_per_second: float = 2.0,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        dry_run_dir: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        match = _WEBHOOK.fullmatch(webhook_url.strip())
        if not match:
            raise ValueError(
                f"{WEBHOOK_ENV_VAR} must be an inbound webhook URL like https://<portal>.bitrix24.com/rest/<user_id>/<secret>/"
            )
        hide_from_http_logs(match["secret"])
        self.portal = match["portal"]
        self.domain_field = domain_field
        self.timeout = timeout
        self.retry = retry
        self.dry_run_dir = dry_run_dir
        self._endpoint = f"{self.portal}/rest/{match['user']}/{match['secret']}/"
        self._redact = Redactor(match["secret"])
        self._bucket = _LeakyBucket(burst, requests_per_second, clock, sleep)
        self._retrier = Retrier("Bitrix24", retry, sleep, log)
        self._recorder = DryRunRecorder(dry_run_dir) if dry_run_dir is not None else None
        self._session = requests.Session()

    def __repr__(self) -> str:
        return f"Bitrix24Client(webhook_url={self.location!r}, domain_field={self.domain_field!r})"

    @property
    def location(self) -> str:
        """The webhook URL with its secret redacted."""
        return self._redact(self._endpoint)

    @property
    def dry_run(self) -> bool:
        return self._recorder is not None

    # --- lookups ------------------------------------------------------------------------

    def find_companies_by_id(self, company_ids: Sequence[str]) -> set[str]:
        """Those of the given company IDs that exist; values that can't be IDs are left out."""
        wanted = sorted({value for value in company_ids if value.isdigit()}, key=int)
        commands = {
            f"id{n}": ("crm.company.list", {"filter": {"@ID": chunk}, "select": ["ID"]})
            for n, chunk in enumerate(chunks(wanted, BATCH_LIMIT))
        }
        return {company["ID"] for company in self._listed(commands)}

    def find_companies_by_domain(self, domains: Sequence[str]) -> dict[str, str]:
        """Company ID by normalized domain, from the domain field; the oldest company (lowest ID) wins."""
        wanted = set(domains)
        commands = {
            f"domain{n}": (
                "crm.company.list",
                {
                    "filter": {f"@{self.domain_field}": chunk},
                    "select": ["ID", self.domain_field],
                    "order": {"ID": "ASC"},
                },
            )
            for n, chunk in enumerate(chunks(sorted(wanted), BATCH_LIMIT))
        }
        found: dict[str, str] = {}
        for company in sorted(self._listed(commands), key=lambda company: int(company["ID"])):
            domain = normalize_domain(str(company.get(self.domain_field) or ""))
            if domain in wanted:
                found.setdefault(domain, company["ID"])
        return found

    def find_comments(self, markers: Mapping[str, str]) -> dict[str, str]:
        """Comment ID by marker, for each company ID's marker found in one of its timeline comments."""
        commands = {
            f"company{company_id}": (
                "crm.timeline.comment.list",
                {
                    "filter": {"ENTITY_ID": company_id, "ENTITY_TYPE": "company"},
                    "select": ["ID", "COMMENT"],
                    "order": {"ID": "DESC"},
                },
            )
            for company_id in markers
        }
        wanted = set(markers.values())
        found: dict[str, str] = {}
        for comment in self._listed(commands):
            found.update({marker: comment["ID"] for marker in wanted if marker in (comment.get("COMMENT") or "")})
        return found

    # --- writes -------------------------------------------------------------------------

    def update_companies(self, updates: Sequence[tuple[str, dict[str, Any]]]) -> list[WriteResult]:
        """Write ``(company_id, fields)``; one result per update, in order."""
        return self._write(
            [
                ("crm.company.update", {"id": company_id, "fields": fields, "params": {"REGISTER_SONET_EVENT": "N"}})
                for company_id, fields in updates
            ],
            returns_id=False,
        )

    def update_comments(self, comments: Sequence[tuple[str, str, str]]) -> list[WriteResult]:
        """Rewrite ``(comment_id, company_id, text)``; one result per comment, in order."""
        return self._write(
            [
                (
                    "crm.timeline.comment.update",
                    {
                        "id": comment_id,
                        "fields": {"COMMENT": text},
                        "ownerTypeId": COMPANY_OWNER_TYPE,
                        "ownerId": company_id,
                    },
                )
                for comment_id, company_id, text in comments
            ],
            returns_id=True,
        )

    def add_comments(self, comments: Sequence[tuple[str, str, str]]) -> list[WriteResult]:
        """Add ``(company_id, text, marker)`` to company timelines; one result per comment, in order.

        A batch that timed out may have been stored: before a retry, the batch's companies
        are searched for the markers and only the missing comments are sent again.
        """
        return self._write(
            [
                (
                    "crm.timeline.comment.add",
                    {"fields": {"ENTITY_ID": company_id, "ENTITY_TYPE": "company", "COMMENT": text}},
                )
                for company_id, text, _ in comments
            ],
            returns_id=True,
            markers=[(company_id, marker) for company_id, _, marker in comments],
        )

    def _write(
        self,
        commands: list[Command],
        *,
        returns_id: bool,
        markers: Sequence[tuple[str, str]] | None = None,
    ) -> list[WriteResult]:
        """Send commands in batches; with ``markers`` (each command's company ID and marker) a retry looks before it adds."""
        keyed = {f"c{index}": command for index, command in enumerate(commands)}
        marker_of = dict(zip(keyed, markers, strict=True)) if markers else {}
        if self._recorder is not None:
            for chunk in self._batch_chunks(keyed):
                self._recorder.record(
                    {
                        "method": "POST",
                        "url": self.location + "batch",
                        "headers": {"Content-Type": "application/json"},
                        "json": _batch_body(chunk),
                    },
                    label="batch",
                )
            return [WriteResult(None) for _ in commands]
        answer = BatchAnswer()
        for chunk in self._batch_chunks(keyed):
            attempt = self._adder({key: marker_of[key] for key in chunk}) if markers else self._attempt
            try:
                part = self._request(attempt, "batch", _batch_body(chunk))
            except CrmRequestError as error:
                # The whole batch was refused: none of its commands ran.
                part = BatchAnswer(errors={key: str(error) for key in chunk})
            answer.results |= part.results
            answer.errors |= part.errors
        return [
            WriteResult(None, answer.errors[key])
            if key in answer.errors
            else WriteResult(str(answer.results[key]) if returns_id else None)
            if key in answer.results
            else WriteResult(None, "Bitrix24 gave no answer for this command")
            for key in keyed
        ]

    def _adder(self, markers: Mapping[str, tuple[str, str]]) -> Callable[[str, str, dict[str, Any]], BatchAnswer]:
        """A batch attempt that adds comments; from the second attempt on, only those not stored yet."""
        tried = False

        def add_missing(http_method: str, method: str, body: dict[str, Any]) -> BatchAnswer:
            nonlocal tried
            stored = self.find_comments(dict(markers.values())) if tried else {}
            tried = True
            stored_keys = {key: stored[marker] for key, (_, marker) in markers.items() if marker in stored}
            missing = {key: command for key, command in body["cmd"].items() if key not in stored_keys}
            answer = self._attempt(http_method, method, {**body, "cmd": missing}) if missing else BatchAnswer()
            answer.results |= stored_keys
            return answer

        return add_missing

    # --- requests -----------------------------------------------------------------------

    def _listed(self, commands: Mapping[str, Command]) -> Iterator[dict[str, Any]]:
        """Every record the list commands find, following each command's further pages."""
        for chunk in self._batch_chunks(commands):
            answer = self._request(self._attempt, "batch", _batch_body(chunk))
            if answer.errors:
                raise CrmRequestError(400, f"Bitrix24 refused a lookup: {'; '.join(answer.errors.values())}")
            for key, result in answer.results.items():
                yield from result
                start = answer.next.get(key)
                while start is not None:
                    method, params = chunk[key]
                    page = self._request(self._attempt, method, {**params, "start": start})
                    yield from page.results["result"]
                    start = page.next.get("result")

    def _request(self, attempt: Callable[..., T], method: str, body: dict[str, Any]) -> T:
        try:
            return self._retrier(attempt, "POST", method, body)
        except Transient as error:
            raise CrmUnavailable(
                f"Bitrix24 did not answer {method} after {self.retry.attempts} attempts: {error}"
            ) from None

    def _attempt(self, http_method: str, method: str, body: dict[str, Any]) -> BatchAnswer:
        """One request: a batch's answers by command key, or a single method's under the key ``result``."""
        self._bucket.take()
        try:
            response = self._session.request(http_method, self._endpoint + method, json=body, timeout=self.timeout)
        except requests.Timeout:
            raise Transient(f"no answer within {self.timeout:g}s") from None
        except requests.ConnectionError as error:
            # The exception's text holds the URL, and so the secret: only its type is kept.
            raise Transient(f"connection failed ({type(error).__name__})") from None
        answer = json_body(response)
        answer = answer if isinstance(answer, dict) else {}
        if response.status_code >= 400 or "error" in answer:
            self._raise_refused(response, answer, method)
        if method != "batch":
            return BatchAnswer(results={"result": answer.get("result")}, next=_present({"result": answer.get("next")}))
        batch = answer.get("result") or {}
        return BatchAnswer(
            results=_keyed(batch.get("result")),
            errors={key: self._error_text(error) for key, error in _keyed(batch.get("result_error")).items()},
            next=_present(_keyed(batch.get("result_next"))),
        )

    def _raise_refused(self, response: requests.Response, answer: dict[str, Any], method: str) -> NoReturn:
        status, error = response.status_code, str(answer.get("error") or "")
        reason = self._error_text(answer) or self._redact(response.reason or "")
        if error == "QUERY_LIMIT_EXCEEDED":
            self._bucket.fill()
            raise Transient(f"{status} {reason}", retry_after=retry_after(response))
        if error == "OVERLOAD_LIMIT":
            raise CrmLimitReached(
                f"Bitrix24 blocked REST access for this portal ({reason}); Bitrix24 support lifts the block, "
                "the next run then resumes"
            )
        if status >= 500:
            raise Transient(f"{status} {reason}")
        if status in (401, 403) or error in _AUTH_ERRORS:
            raise CrmAuthError(
                f"Bitrix24 refused the webhook ({status} {reason}). Check {WEBHOOK_ENV_VAR}: an inbound webhook "
                "of an active user with the crm scope"
            )
        raise CrmRequestError(status, f"Bitrix24 refused {method}: {status} {reason}")

    def _error_text(self, error: Any) -> str:
        if not isinstance(error, dict):
            return self._redact(str(error))
        return self._redact(
            " ".join(filter(None, [str(error.get("error") or ""), str(error.get("error_description") or "")]))
        )

    def _batch_chunks(self, commands: Mapping[str, Command]) -> Iterator[dict[str, Command]]:
        """Batches of at most 50 commands whose encoded commands stay within ``MAX_BATCH_CHARS``."""
        chunk: dict[str, Command] = {}
        size = 0
        for key, command in commands.items():
            length = len(_command(command))
            if chunk and (len(chunk) == BATCH_LIMIT or size + length > MAX_BATCH_CHARS):
                yield chunk
                chunk, size = {}, 0
            chunk[key] = command
            size += length
        if chunk:
            yield chunk


class _LeakyBucket:
    """Bitrix24's request counter, kept on our side: each request adds one, ``rate`` leak away a second.

    A request that would overfill the bucket waits until there is room for it.
    """

    def __init__(self, capacity: int, rate: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.capacity = capacity
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._level = 0.0
        self._at = clock()

    def take(self) -> None:
        self._leak()
        if self._level + 1 > self.capacity:
            self._sleep((self._level + 1 - self.capacity) / self.rate)
            self._leak()
        self._level += 1

    def fill(self) -> None:
        """The portal said the bucket is full (other integrations share it)."""
        self._leak()
        self._level = float(self.capacity)

    def _leak(self) -> None:
        now = self._clock()
        self._level = max(0.0, self._level - (now - self._at) * self.rate)
        self._at = now


class Bitrix24Sink:
    """Delivers a window's accounts to Bitrix24 companies and timeline comments (the ``ReportSink`` protocol).

    ``domains`` maps account ids to their target-account domains, used when an account has
    no ``crm_id``. ``company_fields`` maps figures (``connectors.crm.common.FIGURES``) to the
    company's user fields; create those (and the domain field) first. Accounts without a
    company are reported as ``not_found``; none is created.
    """

    name = "bitrix24"

    def __init__(
        self,
        client: Bitrix24Client,
        ledger: DeliveryLedger,
        domains: Mapping[str, Sequence[str]] | None = None,
        *,
        company_fields: Mapping[str, str] = DEFAULT_COMPANY_FIELDS,
        report_base_url: str | None = None,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.domains = {account_id: tuple(values) for account_id, values in (domains or {}).items()}
        self.company_fields = field_mapping(company_fields, "Bitrix24")
        self.report_base_url = report_base_url

    @property
    def location(self) -> str:
        return str(self.client.dry_run_dir) if self.client.dry_run else self.client.location

    @property
    def dry_run(self) -> bool:
        return self.client.dry_run

    def deliver(self, report: WindowReport) -> SinkResult:
        """Deliver every changed account; details count delivered, updated, unchanged, not_found, failed.

        Raises ``CrmAuthError``, ``CrmLimitReached`` and ``CrmUnavailable`` after recording state.
        """
        windows = account_windows(
            report,
            self.ledger,
            self.name,
            self.domains,
            note_max_chars=COMMENT_MAX_CHARS,
            report_base_url=self.report_base_url,
        )
        deliveries = [
            Delivery.of(
                window,
                {
                    "fields": {
                        field_name: window.figures[figure] for figure, field_name in self.company_fields.items()
                    },
                    "comment": window.note,
                },
            )
            for window in windows
        ]
        return deliver_window(self, self.ledger, deliveries, report.window_end)

    def find_records(self, deliveries: Sequence[Delivery]) -> dict[str, str]:
        """Company ID by account id: by crm_id, else (or if that company is gone) by domain."""
        existing = self.client.find_companies_by_id([d.window.crm_id for d in deliveries if d.window.crm_id])
        companies = {d.account_id: d.window.crm_id for d in deliveries if d.window.crm_id in existing}
        by_domain = [d for d in deliveries if d.account_id not in companies and d.window.domains]
        if by_domain:
            ids = self.client.find_companies_by_domain([domain for d in by_domain for domain in d.window.domains])
            for delivery in by_domain:
                company = next((ids[domain] for domain in delivery.window.domains if domain in ids), None)
                if company:
                    companies[delivery.account_id] = company
        return companies

    def find_notes(self, targets: Sequence[Target]) -> dict[str, str]:
        """Comment ID by account id, for comments found by the window's marker."""
        comments = self.client.find_comments({t.record_id: t.delivery.window.marker for t in targets if t.record_id})
        return {
            t.delivery.account_id: comments[t.delivery.window.marker]
            for t in targets
            if t.delivery.window.marker in comments
        }

    def send(self, targets: Sequence[Target]) -> SendOutcome:
        """Update the companies, then the comments of those Bitrix24 accepted: known ones updated, others added."""
        return write_records_then_notes(
            targets,
            update_records=lambda batch: self.client.update_companies(
                [(t.record_id, t.delivery.content["fields"]) for t in batch]
            ),
            update_notes=lambda batch: self.client.update_comments(
                [(t.note_id, t.record_id, t.delivery.content["comment"]) for t in batch]
            ),
            create_notes=lambda batch: self.client.add_comments(
                [(t.record_id, t.delivery.content["comment"], t.delivery.window.marker) for t in batch]
            ),
        )


def _batch_body(commands: Mapping[str, Command]) -> dict[str, Any]:
    return {"halt": 0, "cmd": {key: _command(command) for key, command in commands.items()}}


def _command(command: Command) -> str:
    """A batch command, ``method?params``, the parameters written as PHP's http_build_query does."""
    method, params = command
    return f"{method}?{urlencode(list(_php_pairs(params)), quote_via=quote)}"


def _php_pairs(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """``{"fields": {"TITLE": "x"}, "select": ["ID"]}`` → ``("fields[TITLE]", "x"), ("select[0]", "ID")``."""
    if isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        yield key, str(value)
        return
    for name, item in items:
        yield from _php_pairs(item, f"{key}[{name}]" if key else str(name))


def _keyed(value: Any) -> dict[str, Any]:
    """A batch part by command key; PHP sends an empty one as ``[]``."""
    return value if isinstance(value, dict) else {}


def _present(values: Mapping[str, Any]) -> dict[str, int]:
    return {key: int(value) for key, value in values.items() if value is not None}
