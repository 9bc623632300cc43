"""Salesforce: each target account's window activity on its Account, plus one Task.

The sink finds each account's Account (by ``crm_id``, else by domain: a dedicated domain
field such as ``Website_Domain__c`` first, the standard ``Website`` as a fallback), writes
the configured intent fields on it and logs one completed Task per account and window,
related to the Account. A re-run of the window updates that Task. The Task's Subject
carries the window's marker, so a run that stopped after Salesforce stored its Tasks but
before the ledger recorded them finds them again instead of adding second ones.

REST API, the version one setting (``v68.0``), authenticated with the OAuth 2.0 client
credentials flow of an External Client App (it runs as the app's integration user):

    POST  /services/oauth2/token                      an access token (grant_type=client_credentials)
    GET   /services/data/v68.0/query?q=SELECT ...      Accounts by Id, by domain field, by Website; Tasks by Subject
    GET   /services/data/v68.0/query/01g...-2000       the next page of a query (its nextRecordsUrl)
    PATCH /services/data/v68.0/composite/sobjects      Account fields and a re-run's Tasks, 200 records a call
    POST  /services/data/v68.0/composite/sobjects      new Tasks, 200 a call

Collection calls use ``allOrNone: false``: each record succeeds or fails on its own.
``403 REQUEST_LIMIT_EXCEEDED`` (the org's API allowance) stops the run; the next run resumes.
An expired session (``401 INVALID_SESSION_ID``) gets one new token. The client secret and
the access tokens are never logged, put in an exception or returned.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import quote_plus

import requests

from connectors.crm.common import (
    REDACTED,
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
    json_body,
    normalize_domain,
    write_records_then_notes,
)
from connectors.crm.ledger import DeliveryLedger
from connectors.sinks.base import SinkResult, WindowReport

log = logging.getLogger(__name__)

CLIENT_ID_ENV_VAR = "SALESFORCE_CLIENT_ID"
CLIENT_SECRET_ENV_VAR = "SALESFORCE_CLIENT_SECRET"
DEFAULT_API_VERSION = "v68.0"
DEFAULT_DOMAIN_FIELD = "Website_Domain__c"
DEFAULT_ACCOUNT_FIELDS = {
    "intent_score": "Web_Intent_Score__c",
    "furthest_stage": "Web_Intent_Stage__c",
    "top_topics": "Web_Intent_Topics__c",
    "visits": "Web_Intent_Visits__c",
    "window": "Web_Intent_Window__c",
}
TOKEN_PATH = "/services/oauth2/token"
COLLECTION_LIMIT = 200  # records per sObject Collections call
# Salesforce recommends keeping a request URI under 2,000 characters (knowledge article 000386264).
MAX_QUERY_CHARS = 1_800
TASK_DESCRIPTION_MAX_CHARS = 32_000  # Task.Description is a 32,000-character text area
# An Account Id: key prefix 001, 15 characters, or 18 with the case-safe suffix.
_ACCOUNT_ID = re.compile(r"001[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?")

T = TypeVar("T")


class _SessionExpired(Exception):
    """401: the access token expired or was revoked; a new one may help once."""


class SalesforceClient:
    """The few Salesforce REST calls the sink needs, batched, retried and authenticated.

    With ``dry_run_dir`` set, writes (PATCH and POST of collections) are written there as
    JSON files with the token redacted instead of being sent, and answered as if they had
    succeeded; queries are still sent, so the files hold exactly what a real run would send.
    """

    def __init__(
        self,
        instance_url: str,
        client_id: str,
        client_secret: str,
        *,
        api_version: str = DEFAULT_API_VERSION,
        domain_field: str | None = DEFAULT_DOMAIN_FIELD,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        dry_run_dir: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError(
                f"no Salesforce client credentials: set {CLIENT_ID_ENV_VAR} and {CLIENT_SECRET_ENV_VAR} "
                "to the External Client App's consumer key and secret"
            )
        self.instance_url = instance_url.rstrip("/")
        self.api_version = "v" + api_version.removeprefix("v")  # "68.0" and "v68.0" both work
        self.domain_field = domain_field
        self.timeout = timeout
        self.retry = retry
        self.dry_run_dir = dry_run_dir
        self._client_id = client_id
        self._client_secret = client_secret
        self._token: str | None = None
        self._redact = Redactor(client_secret)
        self._retrier = Retrier("Salesforce", retry, sleep, log)
        self._recorder = DryRunRecorder(dry_run_dir) if dry_run_dir is not None else None
        self._session = requests.Session()

    def __repr__(self) -> str:
        return (
            f"SalesforceClient(instance_url={self.instance_url!r}, api_version={self.api_version!r}, "
            f"client_secret={REDACTED!r})"
        )

    @property
    def dry_run(self) -> bool:
        return self._recorder is not None

    # --- lookups ------------------------------------------------------------------------

    def find_accounts_by_id(self, account_ids: Sequence[str]) -> dict[str, str]:
        """The 18-character Account Id of each given Id (15 or 18 characters) that exists.

        Values that can't be Account Ids are left out rather than put into a query, where
        Salesforce would refuse the whole query.
        """
        wanted = sorted({value for value in account_ids if _ACCOUNT_ID.fullmatch(value)})
        given_by_prefix: dict[str, list[str]] = {}
        for value in wanted:
            given_by_prefix.setdefault(value[:15], []).append(value)  # the 15 characters are the Id
        found: dict[str, str] = {}
        for soql in _chunked_queries(wanted, lambda ids: f"SELECT Id FROM Account WHERE Id IN ({_soql_list(ids)})"):
            for record in self._query(soql):
                found.update(dict.fromkeys(given_by_prefix.get(record["Id"][:15], []), record["Id"]))
        return found

    def find_accounts_by_domain(self, domains: Sequence[str]) -> dict[str, str]:
        """Account Id by normalized domain: the domain field first, then Website for the rest.

        When several Accounts share a domain, the oldest one wins.
        """
        wanted = sorted(set(domains))
        found: dict[str, str] = {}
        if self.domain_field:
            field = self.domain_field
            found = self._first_by_domain(
                field,
                wanted,
                lambda chunk: (
                    f"SELECT Id, {field} FROM Account WHERE {field} IN ({_soql_list(chunk)}) ORDER BY CreatedDate, Id"
                ),
            )
        rest = [domain for domain in wanted if domain not in found]
        # Website holds whole addresses ("https://www.acme.com/en"): a substring match, then an exact check.
        return found | self._first_by_domain(
            "Website",
            rest,
            lambda chunk: (
                "SELECT Id, Website FROM Account WHERE "
                + " OR ".join(f"Website LIKE '%{_soql_like(domain)}%'" for domain in chunk)
                + " ORDER BY CreatedDate, Id"
            ),
        )

    def find_tasks(self, subjects_by_account: Mapping[str, str]) -> dict[str, str]:
        """Task Id by Subject, for the given Subjects of Tasks related to the given Account Ids."""
        pairs = sorted(subjects_by_account.items())
        found: dict[str, str] = {}
        for soql in _chunked_queries(
            pairs,
            lambda chunk: (
                f"SELECT Id, Subject FROM Task WHERE WhatId IN ({_soql_list([a for a, _ in chunk])}) "
                f"AND Subject IN ({_soql_list([s for _, s in chunk])})"
            ),
        ):
            found.update({record["Subject"]: record["Id"] for record in self._query(soql)})
        return found

    # --- writes -------------------------------------------------------------------------

    def update_records(self, records: Sequence[dict[str, Any]]) -> list[WriteResult]:
        """PATCH records (each with ``attributes.type`` and ``id``); one result per record, in order."""
        results: list[WriteResult] = []
        for chunk in chunks(records, COLLECTION_LIMIT):
            results += self._save(chunk, "PATCH", self._send_collection)
        return results

    def create_tasks(self, tasks: Sequence[dict[str, Any]]) -> list[WriteResult]:
        """POST new Tasks; one result per Task, in order.

        A POST that timed out may have been stored: before a retry, the chunk's Tasks are
        looked up by Subject and only the missing ones are sent again.
        """
        results: list[WriteResult] = []
        for chunk in chunks(tasks, COLLECTION_LIMIT):
            results += self._save(chunk, "POST", self._task_creator())
        return results

    def _save(
        self, chunk: list[dict[str, Any]], method: str, send: Callable[..., list[WriteResult]]
    ) -> list[WriteResult]:
        if self._recorder is not None:
            self._recorder.record(
                {
                    "method": method,
                    "url": self._url(self._collections_path()),
                    "headers": {"Authorization": f"Bearer {REDACTED}", "Content-Type": "application/json"},
                    "json": _collection(chunk),
                },
                label="composite/sobjects",
            )
            return [WriteResult(record.get("id")) for record in chunk]
        try:
            return self._request_with(send, method, self._collections_path(), chunk)
        except CrmRequestError as error:
            # The whole call was refused (e.g. 400): none of its records was written.
            return [WriteResult(None, str(error)) for _ in chunk]

    def _send_collection(self, method: str, path: str, chunk: list[dict[str, Any]]) -> list[WriteResult]:
        return self._save_results(self._attempt(method, path, None, _collection(chunk)))

    def _task_creator(self) -> Callable[[str, str, list[dict[str, Any]]], list[WriteResult]]:
        """An attempt that creates Tasks; from the second attempt on, only those not stored yet."""
        tried = False

        def create_missing(method: str, path: str, tasks: list[dict[str, Any]]) -> list[WriteResult]:
            nonlocal tried
            stored = self.find_tasks({task["WhatId"]: task["Subject"] for task in tasks}) if tried else {}
            tried = True
            missing = [task for task in tasks if task["Subject"] not in stored]
            answers = iter(self._send_collection(method, path, missing) if missing else [])
            return [
                WriteResult(stored[task["Subject"]]) if task["Subject"] in stored else next(answers) for task in tasks
            ]

        return create_missing

    # --- requests -----------------------------------------------------------------------

    def _query(self, soql: str) -> Iterator[dict[str, Any]]:
        page = self._request_with(
            self._attempt, "GET", f"/services/data/{self.api_version}/query", {"q": soql}, None
        ).json()
        yield from page["records"]
        while not page["done"]:
            page = self._request_with(self._attempt, "GET", page["nextRecordsUrl"], None, None).json()
            yield from page["records"]

    def _request_with(self, attempt: Callable[..., T], method: str, path: str, *args: Any) -> T:
        """Run ``attempt`` with retries; an expired session gets one new access token."""
        try:
            return self._retried(attempt, method, path, *args)
        except _SessionExpired:
            log.info("Salesforce session expired or revoked; fetching a new access token")
            self._token = None
            try:
                return self._retried(attempt, method, path, *args)
            except _SessionExpired as error:
                raise CrmAuthError(self._auth_message(f"401 {error}")) from None

    def _retried(self, attempt: Callable[..., T], method: str, path: str, *args: Any) -> T:
        try:
            return self._retrier(attempt, method, path, *args)
        except Transient as error:
            raise CrmUnavailable(
                f"Salesforce did not answer {method} {path} after {self.retry.attempts} attempts: {error}"
            ) from None

    def _attempt(self, method: str, path: str, params: dict[str, str] | None, body: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._access_token()}"}
        response = self._send(method, self._url(path), params=params, json=body, headers=headers)
        status = response.status_code
        if status == 401:
            raise _SessionExpired(self._reason(response))
        if status == 403:
            self._raise_refused(response, method, path)
        if status >= 400:
            raise CrmRequestError(status, f"Salesforce refused {method} {path}: {status} {self._reason(response)}")
        return response

    def _access_token(self) -> str:
        if self._token is None:
            self._token = self._retried(self._fetch_token, "POST", TOKEN_PATH)
            self._redact.add(self._token)
        return self._token

    def _fetch_token(self, method: str, path: str) -> str:
        form = {"grant_type": "client_credentials", "client_id": self._client_id, "client_secret": self._client_secret}
        response = self._send(method, self._url(path), data=form)
        if response.status_code >= 400:
            answer = json_body(response)
            reason = self._redact(" ".join(filter(None, [answer.get("error"), answer.get("error_description")])))
            raise CrmAuthError(self._auth_message(f"{response.status_code} {reason}"))
        return json_body(response)["access_token"]

    def _send(self, method: str, url: str, **options: Any) -> requests.Response:
        """One HTTP exchange; 5xx, timeouts and broken connections are ``Transient``."""
        try:
            response = self._session.request(method, url, timeout=self.timeout, **options)
        except requests.Timeout:
            raise Transient(f"no answer within {self.timeout:g}s") from None
        except requests.ConnectionError as error:
            raise Transient(f"connection failed ({type(error).__name__})") from None
        if response.status_code >= 500:
            raise Transient(f"{response.status_code} {self._reason(response)}")
        return response

    def _raise_refused(self, response: requests.Response, method: str, path: str) -> NoReturn:
        reason = self._reason(response)
        if "REQUEST_LIMIT_EXCEEDED" in reason:
            raise CrmLimitReached(
                f"Salesforce's API request limit is used up ({method} {path}: {reason}); "
                "the rest is delivered by the next run"
            )
        raise CrmAuthError(
            f"Salesforce refused {method} {path} (403 {reason}): the External Client App's integration user "
            "needs API Enabled and edit access to Accounts, the intent fields and Tasks"
        )

    def _save_results(self, response: requests.Response) -> list[WriteResult]:
        return [
            WriteResult(item.get("id"))
            if item.get("success")
            else WriteResult(None, self._redact(_errors_text(item.get("errors", []))))
            for item in response.json()
        ]

    def _auth_message(self, reason: str) -> str:
        return (
            f"Salesforce did not accept the client credentials ({reason}). Check {CLIENT_ID_ENV_VAR} and "
            f"{CLIENT_SECRET_ENV_VAR}: the consumer key and secret of an External Client App with the client "
            "credentials flow enabled and a run-as user set"
        )

    def _reason(self, response: requests.Response) -> str:
        answer = json_body(response)
        errors = answer if isinstance(answer, list) else [answer]
        reason = "; ".join(
            " ".join(filter(None, [error.get("errorCode"), error.get("message")]))
            for error in errors
            if isinstance(error, dict)
        )
        return self._redact(reason or response.reason or "")

    def _first_by_domain(self, field: str, domains: list[str], build: Callable[[list[str]], str]) -> dict[str, str]:
        wanted = set(domains)
        found: dict[str, str] = {}
        for soql in _chunked_queries(domains, build):
            for record in self._query(soql):  # oldest first
                domain = normalize_domain(record.get(field) or "")
                if domain in wanted:
                    found.setdefault(domain, record["Id"])
        return found

    def _collections_path(self) -> str:
        return f"/services/data/{self.api_version}/composite/sobjects"

    def _url(self, path: str) -> str:
        return self.instance_url + path


class SalesforceSink:
    """Delivers a window's accounts to Salesforce Accounts and Tasks (the ``ReportSink`` protocol).

    ``domains`` maps account ids to their target-account domains, used when an account
    has no ``crm_id``. ``account_fields`` maps figures (``connectors.crm.common.FIGURES``)
    to the Account's field API names; create those fields (and the domain field) first.
    Accounts without an Account are reported as ``not_found``; none is created.
    """

    name = "salesforce"

    def __init__(
        self,
        client: SalesforceClient,
        ledger: DeliveryLedger,
        domains: Mapping[str, Sequence[str]] | None = None,
        *,
        account_fields: Mapping[str, str] = DEFAULT_ACCOUNT_FIELDS,
        task_status: str = "Completed",
        report_base_url: str | None = None,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.domains = {account_id: tuple(values) for account_id, values in (domains or {}).items()}
        self.account_fields = field_mapping(account_fields, "Salesforce")
        self.task_status = task_status
        self.report_base_url = report_base_url

    @property
    def location(self) -> str:
        return str(self.client.dry_run_dir) if self.client.dry_run else self.client.instance_url

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
            note_max_chars=TASK_DESCRIPTION_MAX_CHARS,
            report_base_url=self.report_base_url,
        )
        deliveries = [
            Delivery.of(
                window,
                {
                    "fields": {api_name: window.figures[figure] for figure, api_name in self.account_fields.items()},
                    "task": {
                        "Subject": f"Website intent {window.figures['window']} ({window.marker})",
                        "Description": window.note,
                        "Status": self.task_status,
                        "ActivityDate": window.window_end.isoformat(),
                    },
                },
            )
            for window in windows
        ]
        return deliver_window(self, self.ledger, deliveries, report.window_end)

    def find_records(self, deliveries: Sequence[Delivery]) -> dict[str, str]:
        """Account Id by account id: by crm_id, else (or if that Account is gone) by domain."""
        by_id = self.client.find_accounts_by_id([d.window.crm_id for d in deliveries if d.window.crm_id])
        accounts = {d.account_id: by_id[d.window.crm_id] for d in deliveries if d.window.crm_id in by_id}
        by_domain = [d for d in deliveries if d.account_id not in accounts and d.window.domains]
        if by_domain:
            ids = self.client.find_accounts_by_domain([domain for d in by_domain for domain in d.window.domains])
            for delivery in by_domain:
                account = next((ids[domain] for domain in delivery.window.domains if domain in ids), None)
                if account:
                    accounts[delivery.account_id] = account
        return accounts

    def find_notes(self, targets: Sequence[Target]) -> dict[str, str]:
        """Task Id by account id, for Tasks found by their Subject (it holds the window's marker)."""
        subjects = {t.delivery.account_id: t.delivery.content["task"]["Subject"] for t in targets}
        tasks = self.client.find_tasks({t.record_id: subjects[t.delivery.account_id] for t in targets if t.record_id})
        return {account_id: tasks[subject] for account_id, subject in subjects.items() if subject in tasks}

    def send(self, targets: Sequence[Target]) -> SendOutcome:
        """Update the Accounts, then the Tasks of those Salesforce accepted: known ones updated, others created."""
        return write_records_then_notes(
            targets,
            update_records=lambda batch: self.client.update_records(
                [{"attributes": {"type": "Account"}, "id": t.record_id, **t.delivery.content["fields"]} for t in batch]
            ),
            update_notes=lambda batch: self.client.update_records(
                [{"attributes": {"type": "Task"}, "id": t.note_id, **t.delivery.content["task"]} for t in batch]
            ),
            create_notes=lambda batch: self.client.create_tasks(
                [{"attributes": {"type": "Task"}, **t.delivery.content["task"], "WhatId": t.record_id} for t in batch]
            ),
        )


def _collection(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"allOrNone": False, "records": list(records)}


def _errors_text(errors: list[dict[str, Any]]) -> str:
    return (
        "; ".join(
            " ".join(filter(None, [error.get("statusCode"), error.get("message")]))
            + (f" (fields: {', '.join(error['fields'])})" if error.get("fields") else "")
            for error in errors
        )
        or "rejected without a reason"
    )


def _soql_list(values: Sequence[str]) -> str:
    return ", ".join(_soql_string(value) for value in values)


def _soql_string(value: str) -> str:
    """A SOQL string literal: backslashes and quotes escaped (SOQL's reserved characters)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _soql_like(value: str) -> str:
    """The inside of a LIKE pattern matching ``value`` literally: ``%`` and ``_`` escaped too."""
    return _soql_string(value)[1:-1].replace("%", "\\%").replace("_", "\\_")


def _chunked_queries(values: Sequence[T], build: Callable[[list[T]], str]) -> Iterator[str]:
    """As few queries as keep each URL-encoded query within ``MAX_QUERY_CHARS``."""
    chunk: list[T] = []
    for value in values:
        if chunk and len(quote_plus(build([*chunk, value]))) > MAX_QUERY_CHARS:
            yield build(chunk)
            chunk = []
        chunk.append(value)
    if chunk:
        yield build(chunk)
