"""The few Bitrix24 REST calls the sink needs, batched, paced and retried.

Bitrix24 REST through an inbound webhook, ``https://<portal>.bitrix24.com/rest/<user_id>/<secret>/``.
That URL *is* the secret: it is never logged, put in an exception, a dry-run file or
returned, and it must use HTTPS (plain ``http://`` only to this machine, as tests do).

    crm.company.list             companies by ID and by the domain field, 50 a page (start/next)
    crm.company.update           the intent fields of a company (blanks, to forget)
    crm.timeline.comment.list    a company's comments, to find one a stopped run left
    crm.timeline.comment.add     the window's comment on the company's timeline
    crm.timeline.comment.update  the window's comment, on a re-run
    crm.timeline.comment.delete  a comment, to forget
    batch                        up to 50 of the above in one request

The limits Bitrix24 documents, each handled here:

- Requests fill a leaky bucket: each request (a batch counts once) adds one, two leak away
  per second, and a request arriving with 50 in the bucket is refused with ``503
  QUERY_LIMIT_EXCEEDED`` (Enterprise plans: five a second, 250). The client keeps the
  same bucket, so after a burst it sends two requests a second; a refusal anyway (other
  integrations share the portal's bucket) fills its bucket and is retried after a backoff.
- A method whose requests ran more than 480 s within 10 minutes is blocked: ``429
  OPERATION_TIME_LIMIT``, or that error for a batch's command. Every answer's ``time``
  says when the method's budget frees up (``operating_reset_at``): the client waits until
  then when that is within ``RetryPolicy.max_pause``, else the run stops and the next resumes.
- ``503 OVERLOAD_LIMIT``: support blocked the portal's REST access; the run stops.
- ``insufficient_scope`` and ``ACCESS_DENIED``, for the request or for a command inside a
  batch (answered 200), stop the run naming ``BITRIX24_WEBHOOK_URL``.
- A request may run up to 60 s on the portal: the client waits longer than that before it
  gives up and retries.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import requests

from connectors.crm.bitrix24.wire import (
    WEBHOOK_ENV_VAR,
    BatchAnswer,
    Command,
    LeakyBucket,
    batch_body,
    command_methods,
    encode_command,
    keyed,
    present,
    webhook_parts,
)
from connectors.crm.delivery import WriteResult
from connectors.crm.transport import (
    CrmAuthError,
    CrmClient,
    CrmRequestError,
    RetryPolicy,
    Transient,
    chunks,
    hide_from_http_logs,
    json_body,
    pause_or_stop,
    retry_after,
)
from enrichment.matching import registrable_domain

log = logging.getLogger(__name__)

DEFAULT_DOMAIN_FIELD = "UF_CRM_VI_DOMAIN"
BATCH_LIMIT = 50  # commands per batch, and records per list page
# Our own cap on a batch request's commands, well below any server's request-size limit.
MAX_BATCH_CHARS = 1_000_000
# Bitrix24 lets a request run up to 60 s: waiting less would retry work the portal is still doing.
REQUEST_TIMEOUT_SECONDS = 75.0
COMPANY_OWNER_TYPE = 4  # the CRM object type id of companies (lead 1, deal 2, contact 3)
_AUTH_ERRORS = {
    "NO_AUTH_FOUND",
    "INVALID_CREDENTIALS",
    "insufficient_scope",
    "ACCESS_DENIED",
    "expired_token",
    "user_access_error",
}
_GONE = "NOT_FOUND"  # a comment deleted already is as good as deleted now


class Bitrix24Client(CrmClient):
    """A Bitrix24 portal's CRM methods the sink uses, through its inbound webhook.

    With ``dry_run_dir`` set, batches that change data are written there as JSON files
    (the webhook's secret redacted) instead of being sent, and answered as if they had
    succeeded; lookups are still sent, so the files hold exactly what a real run would send.
    ``clock`` paces requests; ``now`` (epoch seconds) reads the portal's reset times.
    """

    crm = "Bitrix24"
    credentials_help = f"Check {WEBHOOK_ENV_VAR}: an inbound webhook of an active user with the crm scope."

    def __init__(
        self,
        webhook_url: str,
        *,
        domain_field: str = DEFAULT_DOMAIN_FIELD,
        burst: int = 50,
        requests_per_second: float = 2.0,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        retry: RetryPolicy = RetryPolicy(),
        dry_run_dir: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
    ) -> None:
        portal, user, secret = webhook_parts(webhook_url)
        super().__init__(secrets=[secret], timeout=timeout, retry=retry, dry_run_dir=dry_run_dir, sleep=sleep)
        hide_from_http_logs(secret)
        self.portal = portal
        self.domain_field = domain_field
        self._endpoint = f"{portal}/rest/{user}/{secret}/"
        self._bucket = LeakyBucket(burst, requests_per_second, clock, sleep)
        self._now = now
        self._operating_reset_at: dict[str, float] = {}  # method -> when its time budget frees up (epoch)

    def __repr__(self) -> str:
        return f"Bitrix24Client(webhook_url={self.location!r}, domain_field={self.domain_field!r})"

    @property
    def location(self) -> str:
        """The webhook URL with its secret redacted."""
        return self._redact(self._endpoint)

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
        """Company ID by registrable domain, from the domain field; the oldest company (lowest ID) wins."""
        wanted = set(domains)
        order = {"ID": "ASC"}
        commands = {
            f"domain{n}": (
                "crm.company.list",
                {"filter": {f"@{self.domain_field}": chunk}, "select": ["ID", self.domain_field], "order": order},
            )
            for n, chunk in enumerate(chunks(sorted(wanted), BATCH_LIMIT))
        }
        found: dict[str, str] = {}
        for company in sorted(self._listed(commands), key=lambda company: int(company["ID"])):
            domain = registrable_domain(str(company.get(self.domain_field) or ""))
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
        params = {"REGISTER_SONET_EVENT": "N"}
        return self._write(
            [
                ("crm.company.update", {"id": company, "fields": fields, "params": params})
                for company, fields in updates
            ],
            returns_id=False,
        )

    def update_comments(self, comments: Sequence[tuple[str, str, str]]) -> list[WriteResult]:
        """Rewrite ``(comment_id, company_id, text)``; one result per comment, in order."""
        return self._write(
            [
                ("crm.timeline.comment.update", {"id": comment, "fields": {"COMMENT": text}, **_owner(company)})
                for comment, company, text in comments
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
                    {"fields": {"ENTITY_ID": company, "ENTITY_TYPE": "company", "COMMENT": text}},
                )
                for company, text, _ in comments
            ],
            returns_id=True,
            markers=[(company, marker) for company, _, marker in comments],
        )

    def delete_comments(self, comments: Sequence[tuple[str, str]]) -> dict[str, str]:
        """Delete ``(comment_id, company_id)``; returns why each one that is still there could not be deleted."""
        commands = [
            ("crm.timeline.comment.delete", {"id": comment, **_owner(company)}) for comment, company in comments
        ]
        results = self._write(commands, returns_id=False)
        return {
            comment: result.error
            for (comment, _), result in zip(comments, results, strict=True)
            if result.error and not result.error.startswith(_GONE)
        }

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
        if self.dry_run:
            for chunk in self._batch_chunks(keyed):
                headers = {"Content-Type": "application/json"}
                self._record("POST", self._endpoint + "batch", label="batch", headers=headers, json=batch_body(chunk))
            return [WriteResult(None) for _ in commands]
        answer = BatchAnswer()
        for chunk in self._batch_chunks(keyed):
            attempt = self._adder({key: marker_of[key] for key in chunk}) if markers else self._attempt
            try:
                part = self._retried(attempt, "POST", "batch", batch_body(chunk))
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
            answer = self._retried(self._attempt, "POST", "batch", batch_body(chunk))
            if answer.errors:
                raise CrmRequestError(400, f"Bitrix24 refused a lookup: {'; '.join(answer.errors.values())}")
            for key, result in answer.results.items():
                yield from result
                start = answer.next.get(key)
                while start is not None:
                    method, params = chunk[key]
                    page = self._retried(self._attempt, "POST", method, {**params, "start": start})
                    yield from page.results["result"]
                    start = page.next.get("result")

    def _attempt(self, http_method: str, method: str, body: dict[str, Any]) -> BatchAnswer:
        """One request: a batch's answers by command key, or a single method's under the key ``result``."""
        self._bucket.take()
        response = self._exchange(http_method, self._endpoint + method, json=body)
        answer = json_body(response)
        answer = answer if isinstance(answer, dict) else {}
        methods = command_methods(method, body)
        self._note_operating_times(method, methods, answer)
        if response.status_code >= 400 or "error" in answer:
            self._raise_refused(response, answer, method, sorted(set(methods.values())))
        if method != "batch":
            return BatchAnswer(results={"result": answer.get("result")}, next=present({"result": answer.get("next")}))
        batch = answer.get("result") or {}
        errors = keyed(batch.get("result_error"))
        for key, error in errors.items():
            self._raise_for_command(error, methods[key])
        return BatchAnswer(
            results=keyed(batch.get("result")),
            errors={key: self._error_text(error) for key, error in errors.items()},
            next=present(keyed(batch.get("result_next"))),
        )

    def _raise_refused(
        self, response: requests.Response, answer: dict[str, Any], method: str, methods: list[str]
    ) -> NoReturn:
        status, error = response.status_code, str(answer.get("error") or "")
        reason = self._error_text(answer) or self._redact(response.reason or "")
        if error == "QUERY_LIMIT_EXCEEDED":
            self._bucket.fill()
            raise Transient(f"{status} {reason}", retry_after=retry_after(response))
        if error == "OVERLOAD_LIMIT":
            raise pause_or_stop(
                self.crm, f"REST access is blocked ({reason}) until Bitrix24 support lifts it", None, self.retry
            )
        if error == "OPERATION_TIME_LIMIT":
            raise self._operating_limit(reason, methods)
        if error in _AUTH_ERRORS:
            raise CrmAuthError(self._auth_message(status, reason))
        self._raise_for_status(response, method)
        raise CrmRequestError(status, f"Bitrix24 refused {method}: {status} {reason}")

    def _raise_for_command(self, error: Any, method: str) -> None:
        """Stop on a batch command's error that its other commands could not escape either.

        A used-up method pauses or stops the run; refused permissions stop it.
        """
        code = str(error.get("error") or "") if isinstance(error, dict) else ""
        if code == "OPERATION_TIME_LIMIT":
            raise self._operating_limit(self._error_text(error), [method])
        if code in _AUTH_ERRORS:
            raise CrmAuthError(
                f"Bitrix24 refused {method} to the webhook ({self._error_text(error)}). {self.credentials_help}"
            )

    def _operating_limit(self, reason: str, methods: list[str]) -> Exception:
        """Wait for the methods' time budget when the portal said it frees up soon; else stop the run."""
        known = [self._operating_reset_at[m] for m in methods if m in self._operating_reset_at]
        limit = f"operating time limit of {', '.join(methods)} is used up ({reason})"
        return pause_or_stop(self.crm, limit, max(known) - self._now() if known else None, self.retry)

    def _note_operating_times(self, method: str, methods: Mapping[str, str], answer: dict[str, Any]) -> None:
        """Remember when each method's time budget frees up, from the answer's ``time`` (and each command's)."""
        times = {method: answer.get("time")}
        batch = answer.get("result")
        if method == "batch" and isinstance(batch, dict):
            times |= {methods[key]: value for key, value in keyed(batch.get("result_time")).items() if key in methods}
        for name, timing in times.items():
            if isinstance(timing, dict) and timing.get("operating_reset_at") is not None:
                self._operating_reset_at[name] = float(timing["operating_reset_at"])

    def _reason(self, response: requests.Response) -> str:
        return self._error_text(json_body(response)) or self._redact(response.reason or "")

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
            length = len(encode_command(command))
            if chunk and (len(chunk) == BATCH_LIMIT or size + length > MAX_BATCH_CHARS):
                yield chunk
                chunk, size = {}, 0
            chunk[key] = command
            size += length
        if chunk:
            yield chunk


def _owner(company_id: str) -> dict[str, Any]:
    return {"ownerTypeId": COMPANY_OWNER_TYPE, "ownerId": company_id}
