"""A stand-in for Salesforce's REST API that keeps state the way Salesforce does.

Accounts and Tasks live in memory. The answers have Salesforce's documented shapes: the
token response of the OAuth 2.0 client credentials flow (``access_token``,
``instance_url``, ``token_type`` ...) and its ``{"error", "error_description"}`` refusal;
query results with ``totalSize``, ``done``, ``records`` (each with ``attributes``) and
``nextRecordsUrl`` pages; sObject Collections answers with one SaveResult (or, for a
DELETE by ``ids``, one DeleteResult) per record, in request order (``id``, ``success``,
``errors`` of ``statusCode``, ``message``, ``fields``);
other errors as a JSON array of ``{"message", "errorCode"}`` (401 INVALID_SESSION_ID,
403 REQUEST_LIMIT_EXCEEDED, 400 MALFORMED_QUERY ...).

It understands the SOQL this connector sends (SELECT ... FROM ... WHERE with IN, LIKE and
=, joined by AND or by OR, ORDER BY) with SOQL's escaping rules; anything else is a
MALFORMED_QUERY. A request outside the documented contract (more than 200 records, an
update without ``id``, a misspelt attribute) is also recorded in ``violations``.

Tests seed Accounts, inject faults (403s, 5xx, slow answers), expire sessions, add
validation rules, serve the token at a separate login URL whose answer names this fake
as the ``instance_url``, and read back the requests sent.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

VERSION = "v68.0"
DATA = f"/services/data/{VERSION}"
COLLECTION_LIMIT = 200
TEXT_LIMITS = {("Task", "Subject"): 255, ("Task", "Description"): 32_000}
ACCOUNT_FIELDS = {
    "Id",
    "Name",
    "Website",
    "CreatedDate",
    "Website_Domain__c",
    "Web_Intent_Score__c",
    "Web_Intent_Stage__c",
    "Web_Intent_Topics__c",
    "Web_Intent_Visits__c",
    "Web_Intent_Window__c",
}
TASK_FIELDS = {"Id", "Subject", "Description", "Status", "ActivityDate", "WhatId", "Priority", "CreatedDate"}
TASK_STATUSES = {"Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"}


@dataclass
class RecordedRequest:
    method: str
    path: str
    soql: str | None
    json: Any
    form: dict[str, str]
    authorization: str | None
    args: dict[str, str]


@dataclass
class _Fault:
    method: str | None
    path_suffix: str
    status: int | None  # None: answer normally, only late
    body: Any
    delay: float = 0.0


class MalformedQuery(Exception):
    """SOQL this fake (and Salesforce) can't read."""


class FakeSalesforce:
    """Salesforce's token, query and sObject Collections endpoints on a local pytest-httpserver, with state."""

    def __init__(self, httpserver: HTTPServer, *, client_id: str, client_secret: str, page_size: int = 2000) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.url = httpserver.url_for("/").rstrip("/")
        self.page_size = page_size
        self.accounts: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.tokens: set[str] = set()
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        # Validation rules: record id -> the message Salesforce gives when it rejects a write.
        self.validation_rules: dict[str, str] = {}
        # Records the integration user may not delete: record id -> Salesforce's message.
        self.undeletable: dict[str, str] = {}
        self.deleted: set[str] = set()
        self.account_fields = set(ACCOUNT_FIELDS)
        self._faults: list[_Fault] = []
        self._cursors: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        httpserver.expect_request(re.compile(".*")).respond_with_handler(self._handle)

    # --- what tests arrange ---------------------------------------------------------

    def add_account(self, name: str, website: str | None = None, domain: str | None = None) -> str:
        number = next(self._numbers)
        account_id = f"001{number:012d}AAA"
        self.accounts[account_id] = {
            "Id": account_id,
            "Name": name,
            "Website": website,
            "Website_Domain__c": domain,
            "CreatedDate": f"2026-01-01T00:00:{number:02d}.000+0000",
        }
        return account_id

    def fail_next(
        self,
        path_suffix: str,
        status: int,
        body: Any = None,
        *,
        method: str | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests whose path ends with ``path_suffix`` like this."""
        body = body if body is not None else [{"message": f"injected {status}", "errorCode": "UNKNOWN_EXCEPTION"}]
        self._faults += [_Fault(method, path_suffix, status, body, delay) for _ in range(times)]

    def limit_next(self, path_suffix: str, *, method: str | None = None) -> None:
        """403 REQUEST_LIMIT_EXCEEDED: the org's API request allowance is used up."""
        self.fail_next(
            path_suffix,
            403,
            [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
            method=method,
        )

    def answer_late(self, path_suffix: str, delay: float, *, method: str | None = None) -> None:
        """Do the next matching request's work, then answer only after ``delay`` seconds."""
        self._faults.append(_Fault(method, path_suffix, None, None, delay))

    def serve_login(self, login_server: HTTPServer) -> str:
        """Answer token requests at another server (the org's My Domain) too; returns its URL.

        Its token answers name this fake's URL as ``instance_url``: an API call sent to the
        login server instead is a violation.
        """
        login_server.expect_request(re.compile(".*")).respond_with_handler(self._login)
        return login_server.url_for("/").rstrip("/")

    def expire_sessions(self) -> None:
        self.tokens.clear()

    # --- what tests read ------------------------------------------------------------

    def calls(self, path_suffix: str = "", method: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith(path_suffix) and method in (None, r.method)]

    def queries(self) -> list[str]:
        return [r.soql for r in self.requests if r.soql is not None]

    def tasks_of(self, account_id: str) -> list[dict[str, Any]]:
        return [task for task in self.tasks.values() if task["WhatId"] == account_id]

    # --- the server -----------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    request.method,
                    request.path,
                    request.args.get("q"),
                    body,
                    dict(request.form),
                    request.headers.get("Authorization"),
                    dict(request.args),
                )
            )
        if request.path == "/services/oauth2/token":
            return self._token(request)
        token = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
        if token not in self.tokens:
            return _answer(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
        fault = self._take_fault(request)
        if fault and fault.status is not None:
            time.sleep(fault.delay)
            return _answer(fault.status, fault.body)
        with self._lock:
            status, answer = self._route(request, body)
        if fault:
            time.sleep(fault.delay)
        return _answer(status, answer)

    def _login(self, request: Request) -> Response:
        if request.path == "/services/oauth2/token":
            return self._handle(request)
        self.violations.append(
            f"{request.method} {request.path} went to the login URL, not to the token's instance_url"
        )
        return _answer(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])

    def _route(self, request: Request, body: Any) -> tuple[int, Any]:
        path, method = request.path, request.method
        if path == f"{DATA}/query" and method == "GET":
            return self._query(request.args.get("q", ""))
        if path.startswith(f"{DATA}/query/") and method == "GET":
            return self._next_page(path.removeprefix(f"{DATA}/query/"))
        if path == f"{DATA}/composite/sobjects" and method in ("PATCH", "POST"):
            return self._collection(method, body)
        if path == f"{DATA}/composite/sobjects" and method == "DELETE":
            return self._delete(request.args.get("ids", ""), request.args.get("allOrNone", "false"))
        return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]

    def _token(self, request: Request) -> Response:
        form = request.form
        if form.get("grant_type") != "client_credentials":
            self.violations.append(f"token request with grant_type {form.get('grant_type')!r}")
            return _answer(400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"})
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return _answer(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
        fault = self._take_fault(request)
        if fault and fault.status is not None:
            return _answer(fault.status, fault.body)
        token = f"00D000000000001!AQ{next(self._numbers):08d}.tokenvalue"
        self.tokens.add(token)
        return _answer(
            200,
            {
                "access_token": token,
                "signature": "nUFHwtfIGLKDTHcLWmDBG8frv0t+HQGl/iCZFIQUarE=",
                "token_format": "opaque",
                "scope": "api",
                "instance_url": self.url,
                "id": f"{self.url}/id/00D000000000001EAA/005000000000001AAA",
                "token_type": "Bearer",
                "issued_at": "1763272800000",
                "api_instance_url": self.url,
            },
        )

    def _take_fault(self, request: Request) -> _Fault | None:
        with self._lock:
            fault = next(
                (
                    f
                    for f in self._faults
                    if request.path.endswith(f.path_suffix) and f.method in (None, request.method)
                ),
                None,
            )
            if fault:
                self._faults.remove(fault)
            return fault

    # --- queries --------------------------------------------------------------------

    def _query(self, soql: str) -> tuple[int, Any]:
        try:
            query = _parse(soql)
            rows = self._select(query)
        except MalformedQuery as error:
            return 400, [{"message": str(error), "errorCode": "MALFORMED_QUERY"}]
        cursor = f"01g{next(self._numbers):015d}"
        self._cursors[cursor] = rows
        return 200, self._page(cursor, 0)

    def _next_page(self, locator: str) -> tuple[int, Any]:
        cursor, _, offset = locator.partition("-")
        if cursor not in self._cursors or not offset.isdigit():
            return 400, [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]
        return 200, self._page(cursor, int(offset))

    def _page(self, cursor: str, offset: int) -> dict[str, Any]:
        rows = self._cursors[cursor]
        end = offset + self.page_size
        page: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows), "records": rows[offset:end]}
        if end < len(rows):
            page["nextRecordsUrl"] = f"{DATA}/query/{cursor}-{end}"
        return page

    def _select(self, query: _Query) -> list[dict[str, Any]]:
        table, fields = {"Account": (self.accounts, self.account_fields), "Task": (self.tasks, TASK_FIELDS)}.get(
            query.sobject, (None, set())
        )
        if table is None:
            raise MalformedQuery(f"sObject type '{query.sobject}' is not supported.")
        unknown = [
            name
            for name in [*query.fields, *query.order_by, *(c.field for c in query.conditions)]
            if name not in fields
        ]
        if unknown:
            raise MalformedQuery(f"No such column '{unknown[0]}' on entity '{query.sobject}'.")
        joined = all if query.connector == "AND" else any
        rows = [row for row in table.values() if joined(condition.matches(row) for condition in query.conditions)]
        rows.sort(key=lambda row: tuple(str(row.get(name) or "") for name in query.order_by))
        return [
            {
                "attributes": {"type": query.sobject, "url": f"{DATA}/sobjects/{query.sobject}/{row['Id']}"},
                **{name: row.get(name) for name in query.fields},
            }
            for row in rows
        ]

    # --- sObject Collections --------------------------------------------------------

    def _collection(self, method: str, body: Any) -> tuple[int, Any]:
        problem = _collection_problem(method, body)
        if problem:
            self.violations.append(f"{method} composite/sobjects: {problem}")
            return 400, [{"message": problem, "errorCode": "INVALID_FIELD"}]
        for record in body["records"]:
            fields = self.account_fields if record["attributes"]["type"] == "Account" else TASK_FIELDS
            unknown = sorted(set(record) - fields - {"attributes", "id"})
            if unknown:
                sobject = record["attributes"]["type"]
                message = f"No such column '{unknown[0]}' on sobject of type {sobject}"
                return 400, [{"message": message, "errorCode": "INVALID_FIELD"}]
        save = self._update if method == "PATCH" else self._create
        return 200, [save(record) for record in body["records"]]

    def _delete(self, ids: str, all_or_none: str) -> tuple[int, Any]:
        """DELETE composite/sobjects?ids=...: one DeleteResult per id, in the order given."""
        record_ids = [record_id for record_id in ids.split(",") if record_id]
        if not 1 <= len(record_ids) <= COLLECTION_LIMIT or all_or_none not in ("true", "false"):
            self.violations.append(f"DELETE composite/sobjects with ids={ids!r}, allOrNone={all_or_none!r}")
            return 400, [{"message": "ids must list 1 to 200 record ids", "errorCode": "INVALID_FIELD"}]
        return 200, [self._delete_one(record_id) for record_id in record_ids]

    def _delete_one(self, record_id: str) -> dict[str, Any]:
        table = self.tasks if record_id in self.tasks else self.accounts
        if record_id in self.undeletable:
            return {"id": record_id, **_failure("INSUFFICIENT_ACCESS_OR_READONLY", self.undeletable[record_id])}
        if record_id not in table:
            return {"id": record_id, **_failure("ENTITY_IS_DELETED", "entity is deleted")}
        del table[record_id]
        self.deleted.add(record_id)
        return {"id": record_id, "success": True, "errors": []}

    def _update(self, record: dict[str, Any]) -> dict[str, Any]:
        sobject, record_id = record["attributes"]["type"], record["id"]
        table = self.accounts if sobject == "Account" else self.tasks
        if record_id not in table:
            self.violations.append(f"update of unknown {sobject} {record_id}")
            return _failure("ENTITY_IS_DELETED", "entity is deleted")
        values = _values(record)
        if record_id in self.validation_rules:
            return _failure("FIELD_CUSTOM_VALIDATION_EXCEPTION", self.validation_rules[record_id])
        problem = self._invalid(sobject, values)
        if problem:
            return _failure(*problem)
        table[record_id].update(values)
        return {"id": record_id, "success": True, "errors": []}

    def _create(self, record: dict[str, Any]) -> dict[str, Any]:
        values = _values(record)
        if values.get("WhatId") not in self.accounts:
            self.violations.append(f"Task related to unknown record {values.get('WhatId')}")
        problem = self._invalid("Task", values)
        if problem:
            return _failure(*problem)
        number = next(self._numbers)
        task_id = f"00T{number:012d}IAA"
        self.tasks[task_id] = {
            "Priority": "Normal",
            **values,
            "Id": task_id,
            "CreatedDate": f"2026-11-16T06:00:{number % 60:02d}.000+0000",
        }
        return {"id": task_id, "success": True, "errors": []}

    def _invalid(self, sobject: str, values: dict[str, Any]) -> tuple[str, str, list[str]] | None:
        for (limited, name), limit in TEXT_LIMITS.items():
            if limited == sobject and len(values.get(name) or "") > limit:
                return "STRING_TOO_LONG", f"{name}: data value too large (max length={limit})", [name]
        if sobject == "Task" and "Status" in values and values["Status"] not in TASK_STATUSES:
            self.violations.append(f"Task Status {values['Status']!r}")
        if (
            sobject == "Task"
            and values.get("ActivityDate")
            and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", values["ActivityDate"])
        ):
            self.violations.append(f"Task ActivityDate {values['ActivityDate']!r} is not YYYY-MM-DD")
        return None


# --- SOQL ------------------------------------------------------------------------------

_TOKENS = re.compile(r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(),=]))")
_ESCAPES = {
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}


@dataclass
class _Condition:
    field: str
    operator: str  # IN, LIKE, =
    values: list[str] = field(default_factory=list)
    pattern: re.Pattern[str] | None = None

    def matches(self, row: dict[str, Any]) -> bool:
        value = str(row.get(self.field) or "")
        if self.pattern is not None:
            return bool(self.pattern.fullmatch(value))
        if self.field in ("Id", "WhatId"):  # 15- and 18-character ids of a record are equal
            return any(value[:15] == wanted[:15] for wanted in self.values)
        return value.lower() in {wanted.lower() for wanted in self.values}


@dataclass
class _Query:
    fields: list[str]
    sobject: str
    conditions: list[_Condition]
    connector: str
    order_by: list[str]


def _parse(soql: str) -> _Query:
    tokens = _tokenize(soql)
    position = 0

    def take(kind: str | None = None, value: str | None = None) -> tuple[str, str]:
        nonlocal position
        if position >= len(tokens):
            raise MalformedQuery(f"unexpected end of query: {soql}")
        token = tokens[position]
        if (kind and token[0] != kind) or (value and token[1].upper() != value):
            raise MalformedQuery(f"unexpected token '{token[1]}' in: {soql}")
        position += 1
        return token

    def peek(value: str) -> bool:
        return position < len(tokens) and tokens[position][1].upper() == value

    def names() -> list[str]:
        found = [take("word")[1]]
        while peek(","):
            take("punct")
            found.append(take("word")[1])
        return found

    take("word", "SELECT")
    fields = names()
    take("word", "FROM")
    sobject = take("word")[1]
    conditions: list[_Condition] = []
    connectors: set[str] = set()
    if peek("WHERE"):
        take("word")
        conditions.append(_condition(take, peek))
        while peek("AND") or peek("OR"):
            connectors.add(take("word")[1].upper())
            conditions.append(_condition(take, peek))
    if len(connectors) > 1:
        raise MalformedQuery("mixing AND and OR needs parentheses")
    order_by: list[str] = []
    if peek("ORDER"):
        take("word")
        take("word", "BY")
        order_by = names()
    if position != len(tokens):
        raise MalformedQuery(f"unexpected token '{tokens[position][1]}' in: {soql}")
    return _Query(fields, sobject, conditions, connectors.pop() if connectors else "AND", order_by)


def _condition(take: Callable[..., tuple[str, str]], peek: Callable[[str], bool]) -> _Condition:
    name = take("word")[1]
    if peek("IN"):
        take("word")
        take("punct", "(")
        values = [_unescape(take("string")[1])]
        while peek(","):
            take("punct")
            values.append(_unescape(take("string")[1]))
        take("punct", ")")
        return _Condition(name, "IN", values)
    if peek("LIKE"):
        take("word")
        return _Condition(name, "LIKE", pattern=_like(take("string")[1]))
    take("punct", "=")
    return _Condition(name, "=", [_unescape(take("string")[1])])


def _tokenize(soql: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(soql.rstrip()):
        match = _TOKENS.match(soql, position)
        if not match:
            raise MalformedQuery(f"unexpected character at {position} in: {soql}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _unescape(literal: str) -> str:
    return "".join(text for text, _ in _characters(literal, like=False))


def _like(literal: str) -> re.Pattern[str]:
    """A LIKE pattern as a regex: % any run, _ one character, \\% and \\_ themselves; case-insensitive."""
    regex = "".join(
        re.escape(text) if escaped else {"%": ".*", "_": "."}.get(text, re.escape(text))
        for text, escaped in _characters(literal, like=True)
    )
    return re.compile(regex, re.IGNORECASE | re.DOTALL)


def _characters(literal: str, *, like: bool) -> list[tuple[str, bool]]:
    """A string literal's characters, each with whether it was escaped (SOQL's escape sequences)."""
    out, characters = [], iter(literal[1:-1])
    for character in characters:
        if character != "\\":
            out.append((character, False))
            continue
        escaped = next(characters, "")
        if escaped in _ESCAPES:
            out.append((_ESCAPES[escaped], True))
        elif like and escaped in "%_":
            out.append((escaped, True))
        else:
            raise MalformedQuery(f"invalid escape sequence \\{escaped} in {literal}")
    return out


# --- helpers -----------------------------------------------------------------------------


def _collection_problem(method: str, body: Any) -> str | None:
    if not isinstance(body, dict) or set(body) - {"allOrNone", "records"}:
        return "the body must be {allOrNone, records}"
    if not isinstance(body.get("allOrNone", False), bool):
        return "allOrNone must be a boolean"
    records = body.get("records")
    if not isinstance(records, list) or not 1 <= len(records) <= COLLECTION_LIMIT:
        return f"records must hold 1 to {COLLECTION_LIMIT} records"
    for record in records:
        if not isinstance(record.get("attributes"), dict) or record["attributes"].get("type") not in (
            "Account",
            "Task",
        ):
            return "each record needs attributes.type (Account or Task here)"
        if method == "PATCH" and "id" not in record:
            return "an update needs each record's id"
        if method == "POST" and ("id" in record or record["attributes"]["type"] != "Task"):
            return "a create sends new Tasks, without id"
    return None


def _values(record: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name not in ("attributes", "id")}


def _failure(status_code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    return {"success": False, "errors": [{"statusCode": status_code, "message": message, "fields": fields or []}]}


def _answer(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json;charset=UTF-8")
