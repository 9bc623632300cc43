"""The few Salesforce REST calls the sink needs, batched, retried and authenticated.

REST API, the version one setting (``v68.0``), authenticated with the OAuth 2.0 client
credentials flow of an External Client App (it runs as the app's integration user). The
token is asked for at the configured URL (the org's My Domain); the API calls go to the
``instance_url`` the token answer names:

    POST   /services/oauth2/token                       an access token (grant_type=client_credentials)
    GET    /services/data/v68.0/query?q=SELECT ...       Accounts by Id, by domain field, by Website; Tasks
    GET    /services/data/v68.0/query/01g...-2000        the next page of a query (its nextRecordsUrl)
    PATCH  /services/data/v68.0/composite/sobjects       Account fields and a re-run's Tasks, 200 records a call
    POST   /services/data/v68.0/composite/sobjects       new Tasks, 200 a call
    DELETE /services/data/v68.0/composite/sobjects?ids=  Tasks to forget, 200 a call

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
from typing import Any, TypeVar

import requests

from connectors.crm.delivery import WriteResult
from connectors.crm.salesforce.soql import chunked_queries, soql_like, soql_list
from connectors.crm.transport import (
    REDACTED,
    CrmAuthError,
    CrmClient,
    CrmRequestError,
    RetryPolicy,
    chunks,
    json_body,
    pause_or_stop,
)
from enrichment.matching import registrable_domain

log = logging.getLogger(__name__)

CLIENT_ID_ENV_VAR = "SALESFORCE_CLIENT_ID"
CLIENT_SECRET_ENV_VAR = "SALESFORCE_CLIENT_SECRET"
DEFAULT_API_VERSION = "v68.0"
DEFAULT_DOMAIN_FIELD = "Website_Domain__c"
TOKEN_PATH = "/services/oauth2/token"
COLLECTION_LIMIT = 200  # records per sObject Collections call
# An Account Id: key prefix 001, 15 characters, or 18 with the case-safe suffix.
_ACCOUNT_ID = re.compile(r"001[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?")
# A record deleted already (by someone, or by an earlier forget) is as good as deleted now.
_GONE = {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"}

T = TypeVar("T")


class _SessionExpired(Exception):
    """401: the access token expired or was revoked; a new one may help once."""


class SalesforceClient(CrmClient):
    """Salesforce's token, query and sObject Collections endpoints the sink uses.

    With ``dry_run_dir`` set, writes (PATCH, POST and DELETE of collections) are written
    there as JSON files with the token redacted instead of being sent, and answered as if
    they had succeeded; queries are still sent, so the files hold exactly what a real run
    would send.
    """

    crm = "Salesforce"
    credentials_help = (
        f"Check {CLIENT_ID_ENV_VAR} and {CLIENT_SECRET_ENV_VAR}: the consumer key and secret of an External "
        "Client App with the client credentials flow enabled and a run-as user set, who needs API Enabled "
        "and edit access to Accounts, the intent fields and Tasks."
    )

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
        super().__init__(secrets=[client_secret], timeout=timeout, retry=retry, dry_run_dir=dry_run_dir, sleep=sleep)
        self.instance_url = instance_url.rstrip("/")
        self.api_version = "v" + api_version.removeprefix("v")  # "68.0" and "v68.0" both work
        self.domain_field = domain_field
        self._client_id = client_id
        self._client_secret = client_secret
        self._token: str | None = None
        self._api_url: str | None = None  # the token answer's instance_url

    @property
    def location(self) -> str:
        return self.instance_url

    def __repr__(self) -> str:
        return (
            f"SalesforceClient(instance_url={self.instance_url!r}, api_version={self.api_version!r}, "
            f"client_secret={REDACTED!r})"
        )

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
        for soql in chunked_queries(wanted, lambda ids: f"SELECT Id FROM Account WHERE Id IN ({soql_list(ids)})"):
            for record in self._query(soql):
                found.update(dict.fromkeys(given_by_prefix.get(record["Id"][:15], []), record["Id"]))
        return found

    def find_accounts_by_domain(self, domains: Sequence[str]) -> dict[str, str]:
        """Account Id by registrable domain: the domain field first, then Website for the rest.

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
                    f"SELECT Id, {field} FROM Account WHERE {field} IN ({soql_list(chunk)}) ORDER BY CreatedDate, Id"
                ),
            )
        rest = [domain for domain in wanted if domain not in found]
        # Website holds whole addresses ("https://www.acme.com/en"): a substring match, then an exact check.
        return found | self._first_by_domain(
            "Website",
            rest,
            lambda chunk: (
                "SELECT Id, Website FROM Account WHERE "
                + " OR ".join(f"Website LIKE '%{soql_like(domain)}%'" for domain in chunk)
                + " ORDER BY CreatedDate, Id"
            ),
        )

    def find_tasks(self, subjects_by_account: Mapping[str, str]) -> dict[str, str]:
        """Task Id by Subject, for the given Subjects of Tasks related to the given Account Ids."""
        pairs = sorted(subjects_by_account.items())
        found: dict[str, str] = {}
        for soql in chunked_queries(
            pairs,
            lambda chunk: (
                f"SELECT Id, Subject FROM Task WHERE WhatId IN ({soql_list([a for a, _ in chunk])}) "
                f"AND Subject IN ({soql_list([s for _, s in chunk])})"
            ),
        ):
            found.update({record["Subject"]: record["Id"] for record in self._query(soql)})
        return found

    def find_tasks_by_marker(self, markers: Sequence[str]) -> dict[str, str]:
        """Task Id by marker, for markers some Task's Subject contains."""
        found: dict[str, str] = {}

        def build(chunk: list[str]) -> str:
            return "SELECT Id, Subject FROM Task WHERE " + " OR ".join(
                f"Subject LIKE '%{soql_like(marker)}%'" for marker in chunk
            )

        for soql in chunked_queries(sorted(set(markers)), build):
            for record in self._query(soql):
                found.update({marker: record["Id"] for marker in markers if marker in record["Subject"]})
        return found

    # --- writes -------------------------------------------------------------------------

    def update_records(self, records: Sequence[dict[str, Any]]) -> list[WriteResult]:
        """PATCH records (each with ``attributes.type`` and ``id``); one result per record, in order.

        A field set to None is cleared.
        """
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

    def delete_records(self, record_ids: Sequence[str]) -> dict[str, str]:
        """DELETE records by Id; returns why each one that is still there could not be deleted."""
        failures: dict[str, str] = {}
        for chunk in chunks(sorted(set(record_ids)), COLLECTION_LIMIT):
            params = {"ids": ",".join(chunk), "allOrNone": "false"}
            if self.dry_run:
                url = f"{self._url(self._collections_path())}?ids={params['ids']}&allOrNone=false"
                self._record("DELETE", url, label="composite/sobjects", headers=_headers(REDACTED), json=None)
                continue
            answer = self._request_with(self._attempt, "DELETE", self._collections_path(), params, None).json()
            for record_id, item in zip(chunk, answer, strict=True):
                codes = {error.get("statusCode") for error in item.get("errors", [])}
                if not item.get("success") and not codes & _GONE:
                    failures[record_id] = self._redact(_errors_text(item.get("errors", [])))
        return failures

    def _save(
        self, chunk: list[dict[str, Any]], method: str, send: Callable[..., list[WriteResult]]
    ) -> list[WriteResult]:
        if self.dry_run:
            url = self._url(self._collections_path())
            self._record(method, url, label="composite/sobjects", headers=_headers(REDACTED), json=_collection(chunk))
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
                raise CrmAuthError(self._auth_message(401, str(error))) from None

    def _attempt(self, method: str, path: str, params: dict[str, str] | None, body: Any) -> requests.Response:
        headers = _headers(self._access_token())
        response = self._exchange(method, self._url(path), params=params, json=body, headers=headers)
        if response.status_code == 401:
            raise _SessionExpired(self._reason(response))
        reason = self._reason(response)
        if response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in reason:
            raise pause_or_stop(self.crm, f"API request limit is used up ({method} {path}: {reason})", None, self.retry)
        self._raise_for_status(response, f"{method} {path}")
        return response

    def _access_token(self) -> str:
        if self._token is None:
            self._token = self._retried(self._fetch_token, "POST", TOKEN_PATH)
            self._redact.add(self._token)
        return self._token

    def _fetch_token(self, method: str, path: str) -> str:
        form = {"grant_type": "client_credentials", "client_id": self._client_id, "client_secret": self._client_secret}
        response = self._exchange(method, self.instance_url + path, data=form)
        if response.status_code >= 500:
            self._raise_for_status(response, f"{method} {path}")
        answer = json_body(response)
        if response.status_code >= 400:
            reason = self._redact(" ".join(filter(None, [answer.get("error"), answer.get("error_description")])))
            raise CrmAuthError(self._auth_message(response.status_code, reason))
        self._api_url = str(answer.get("instance_url") or self.instance_url).rstrip("/")
        return answer["access_token"]

    def _save_results(self, response: requests.Response) -> list[WriteResult]:
        return [
            WriteResult(item.get("id"))
            if item.get("success")
            else WriteResult(None, self._redact(_errors_text(item.get("errors", []))))
            for item in response.json()
        ]

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
        for soql in chunked_queries(domains, build):
            for record in self._query(soql):  # oldest first
                domain = registrable_domain(record.get(field) or "")
                if domain in wanted:
                    found.setdefault(domain, record["Id"])
        return found

    def _collections_path(self) -> str:
        return f"/services/data/{self.api_version}/composite/sobjects"

    def _url(self, path: str) -> str:
        """API paths go to the token answer's instance_url (the configured URL until a token is known)."""
        return (self._api_url or self.instance_url) + path


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


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
