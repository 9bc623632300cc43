"""What every CRM client shares on the wire: one HTTP session, retries, limits, secrets out of sight, dry runs.

A request is an *attempt* run by a ``Retrier``: an attempt raises ``Transient`` for what is
worth trying again (5xx, timeouts, broken connections, short rate limits; a Retry-After
sets the wait) and one of the ``CrmError`` classes for what is not. A vendor's own limit
that lifts by itself at a known time is ``pause_or_stop``'s to decide: wait for it when
that is soon, otherwise stop the run cleanly so that the next run resumes.

Secrets are kept out of every text a person can read: errors, logs, dry-run files and
reprs. ``Redactor`` replaces them; ``hide_from_http_logs`` does the same for urllib3's
debug lines, which carry request URLs (a Bitrix24 webhook's path is its secret).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import quote

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

REDACTED = "[REDACTED]"

log = logging.getLogger(__name__)
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


# --- retries and limits ----------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter (seconds); a Retry-After takes precedence.

    ``max_pause`` is the longest a run waits for a limit the CRM says lifts at a given time
    (Bitrix24's operating-time block); a longer one stops the run for the next to resume.
    """

    attempts: int = 5
    initial_wait: float = 1.0
    max_wait: float = 60.0
    jitter: float = 1.0
    max_pause: float = 120.0


class Retrier:
    """Runs a request attempt until it succeeds or the policy's attempts are spent.

    Only ``Transient`` failures are retried; after the last attempt the ``Transient`` is
    re-raised. An attempt is called as ``attempt(method, what, ...)``: those two name the
    request in the retry log line.
    """

    def __init__(self, crm: str, policy: RetryPolicy, sleep: Callable[[float], None]) -> None:
        self.crm = crm
        self.policy = policy
        self._sleep = sleep
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
        method, what = state.args[0], state.args[1]
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "%s %s %s failed (%s); retry %d of %d in %.1fs",
            self.crm,
            method,
            what,
            error,
            state.attempt_number,
            self.policy.attempts - 1,
            wait,
        )


def pause_or_stop(crm: str, limit: str, resume_in: float | None, policy: RetryPolicy) -> Exception:
    """The error for a used-up limit: pause (a ``Transient``) when it lifts within ``max_pause``, else stop.

    ``resume_in`` is how many seconds until the CRM lifts the limit, None when it does not say.
    """
    if resume_in is not None and resume_in <= policy.max_pause:
        return Transient(f"{limit}; lifted in {max(0.0, resume_in):.0f}s", retry_after=max(0.0, resume_in))
    return CrmLimitReached(f"{crm}'s {limit}; the rest is delivered by the next run")


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
    """Redacts the secrets it was given from urllib3's log records."""

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
_HTTP_LOG_FILTER_LOCK = threading.Lock()
_HTTP_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry")


def hide_from_http_logs(*secrets: str) -> None:
    """Keep secrets that travel in request URLs out of urllib3's debug log lines.

    The filter goes onto urllib3's loggers on the first call, not at import: importing
    this module changes no logging.
    """
    with _HTTP_LOG_FILTER_LOCK:
        for name in _HTTP_LOGGERS:
            logger = logging.getLogger(name)
            if _HTTP_LOG_REDACTION not in logger.filters:
                logger.addFilter(_HTTP_LOG_REDACTION)
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


# --- the client every CRM client is -------------------------------------------------------


class CrmClient:
    """One CRM's HTTP session with retries, redaction and dry-run recording.

    Subclasses name the CRM (``crm``), say what to check when it refuses the credentials
    (``credentials_help``) and why it refused a request (``_reason``); their attempts call
    ``_exchange`` and classify the answer, vendor-specific refusals first, then ``_raise_for_status``.
    """

    crm = "CRM"
    # What to check when the credentials are refused: the environment variables and the permissions.
    credentials_help = ""

    def __init__(
        self,
        *,
        secrets: Sequence[str],
        timeout: float,
        retry: RetryPolicy,
        dry_run_dir: Path | None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = timeout
        self.retry = retry
        self.dry_run_dir = dry_run_dir
        self._sleep = sleep
        self._redact = Redactor(*secrets)
        self._retrier = Retrier(self.crm, retry, sleep)
        self._recorder = DryRunRecorder(dry_run_dir) if dry_run_dir is not None else None
        self._session = requests.Session()

    @property
    def dry_run(self) -> bool:
        return self._recorder is not None

    @property
    def location(self) -> str:
        """Where the requests go, safe to show (no secret in it)."""
        raise NotImplementedError

    def _retried(self, attempt: Callable[..., T], method: str, what: str, *args: Any) -> T:
        """Run ``attempt(method, what, *args)`` with retries; spent retries are ``CrmUnavailable``."""
        try:
            return self._retrier(attempt, method, what, *args)
        except Transient as error:
            raise CrmUnavailable(
                f"{self.crm} did not answer {method} {what} after {self.retry.attempts} attempts: {error}"
            ) from None

    def _exchange(self, method: str, url: str, **options: Any) -> requests.Response:
        """One HTTP exchange; a timeout or a broken connection is ``Transient``."""
        try:
            return self._session.request(method, url, timeout=self.timeout, **options)
        except requests.Timeout:
            raise Transient(f"no answer within {self.timeout:g}s") from None
        except requests.ConnectionError as error:
            # Only the type: the exception's text holds the URL, which may be a secret.
            raise Transient(f"connection failed ({type(error).__name__})") from None

    def _raise_for_status(self, response: requests.Response, what: str, *, accepted: tuple[int, ...] = ()) -> None:
        """429 and 5xx are ``Transient`` (Retry-After honoured), 401/403 ``CrmAuthError``, other 4xx refusals."""
        status = response.status_code
        if status == 429 or status >= 500:
            raise Transient(f"{status} {self._reason(response)}", retry_after=retry_after(response))
        if status in (401, 403):
            self._raise_auth(response)
        if status >= 400 and status not in accepted:
            raise CrmRequestError(status, f"{self.crm} refused {what}: {status} {self._reason(response)}")

    def _raise_auth(self, response: requests.Response) -> NoReturn:
        raise CrmAuthError(self._auth_message(response.status_code, self._reason(response)))

    def _record(self, method: str, url: str, *, label: str, headers: Mapping[str, str], **body: Any) -> None:
        """In a dry run, write the request that would be sent instead of sending it.

        ``body`` is ``json=`` (a JSON body) or ``body=`` (the raw text); the URL is redacted,
        ``headers`` must already be.
        """
        assert self._recorder is not None, "only dry runs record"
        self._recorder.record({"method": method, "url": self._redact(url), "headers": dict(headers), **body}, label)

    def _reason(self, response: requests.Response) -> str:
        """Why the CRM refused, from its answer, with secrets redacted."""
        return self._redact(response.text[:200] or response.reason or "")

    def _auth_message(self, status: int, reason: str) -> str:
        """The CRM refused the credentials: why, and what to check (naming their environment variables)."""
        return f"{self.crm} refused the credentials ({status} {reason}). {self.credentials_help}"


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
