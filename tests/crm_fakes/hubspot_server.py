"""A stand-in for HubSpot's CRM API that keeps state the way HubSpot does.

Companies, notes with their company associations, company properties and property
groups live in memory. Every request is validated against ``hubspot_openapi.yaml`` (so
a misspelt field fails the test) and every answer too (so the fake stays true to
HubSpot's shapes): batch answers with per-input errors (207 multi-status), 409 for an
existing property group, 401 for a wrong token, 429 bodies with ``policyName``.

Tests seed companies, inject faults (429s, 5xx, slow answers), switch on portal
validation rules that reject some companies, make batch answers leave out the echoed
``objectWriteTraceId`` or the written properties, keep new notes out of search for a
while (HubSpot's search is eventually consistent), and read back the requests sent.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SPEC = OpenAPI.from_file_path(str(Path(__file__).with_name("hubspot_openapi.yaml")))
VERSION = "2026-09"
NOW = "2026-11-16T06:00:00.000Z"
NOTE_BODY_LIMIT = 65_536
DEFAULT_COMPANY_PROPERTIES = {"name", "domain", "hs_object_id", "createdate"}
_TAG = re.compile(r"<[^>]+>")
_TOKEN = re.compile(r"[A-Za-z0-9]+")


@dataclass
class RecordedRequest:
    method: str
    path: str
    json: Any
    authorization: str | None


@dataclass
class Note:
    properties: dict[str, str]
    company_ids: set[str]


@dataclass
class _Fault:
    path_suffix: str
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeHubSpot:
    """HubSpot's CRM endpoints on a local pytest-httpserver, with state."""

    def __init__(self, httpserver: HTTPServer, *, token: str) -> None:
        self.token = token
        self.url = httpserver.url_for("/").rstrip("/")
        self.companies: dict[str, dict[str, str]] = {}
        self.notes: dict[str, Note] = {}
        self.archived_notes: dict[str, Note] = {}  # HubSpot's recycling bin
        self.properties: dict[str, dict[str, Any]] = {}
        self.groups: set[str] = set()
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        # Portal validation rules: company id -> the message HubSpot gives when it rejects a write.
        self.validation_rules: dict[str, str] = {}
        # What a batch write's answer carries back; HubSpot does not always echo objectWriteTraceId.
        self.echo_trace_ids = True
        self.echo_written_properties = True
        # Search is eventually consistent: with this off, new notes are found by search only once indexed.
        self.index_new_notes = True
        self.unindexed_notes: set[str] = set()
        self._faults: list[_Fault] = []
        self._after: list[tuple[str, Callable[[], None]]] = []
        # The server is threaded (a slow answer must not hold up the client's retry): one change at a time.
        self._lock = threading.Lock()
        self._ids = itertools.count(9001)
        self._routes: dict[str, Callable[[dict[str, Any]], tuple[int, Any]]] = {
            f"/crm/properties/{VERSION}/companies/batch/read": self._read_properties,
            f"/crm/properties/{VERSION}/companies/groups": self._create_group,
            f"/crm/properties/{VERSION}/companies/batch/create": self._create_properties,
            f"/crm/objects/{VERSION}/companies/batch/read": self._read_companies,
            f"/crm/objects/{VERSION}/companies/search": lambda body: self._search(self.companies, body),
            f"/crm/objects/{VERSION}/companies/batch/update": self._update_companies,
            f"/crm/objects/{VERSION}/companies/batch/create": self._create_companies,
            f"/crm/objects/{VERSION}/notes/search": lambda body: self._search(
                {i: note.properties for i, note in self.notes.items() if i not in self.unindexed_notes}, body
            ),
            f"/crm/objects/{VERSION}/notes/batch/create": self._create_notes,
            f"/crm/objects/{VERSION}/notes/batch/update": self._update_notes,
            f"/crm/objects/{VERSION}/notes/batch/archive": self._archive_notes,
        }
        httpserver.expect_request(re.compile(".*")).respond_with_handler(self._handle)

    # --- what tests arrange ---------------------------------------------------------

    def add_company(self, name: str, domain: str | None = None) -> str:
        company_id = str(next(self._ids))
        self.companies[company_id] = {"name": name, "domain": domain or "", "hs_object_id": company_id}
        return company_id

    def fail_next(
        self,
        path_suffix: str,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests whose path ends with ``path_suffix`` like this."""
        body = body if body is not None else _error(f"injected {status}", "INTERNAL_ERROR")
        self._faults += [_Fault(path_suffix, status, body, headers or {}, delay) for _ in range(times)]

    def rate_limit_next(self, path_suffix: str, policy: str, *, retry_after: str | None = None, times: int = 1) -> None:
        """A 429 as HubSpot sends it, for the given policy (DAILY, SECONDLY, TEN_SECONDLY_ROLLING)."""
        body = {
            "status": "error",
            "message": f"You have reached your {policy.lower()} limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
            "requestId": str(uuid.uuid4()),
        }
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.fail_next(path_suffix, 429, body, headers=headers, times=times)

    def after_next(self, path_suffix: str, action: Callable[[], None]) -> None:
        """Call ``action`` once the next request whose path ends with ``path_suffix`` changed the state, before answering."""
        self._after.append((path_suffix, action))

    # --- what tests read ------------------------------------------------------------

    def calls(self, path_suffix: str = "") -> list[RecordedRequest]:
        return [request for request in self.requests if request.path.endswith(path_suffix)]

    def notes_of(self, company_id: str) -> list[Note]:
        return [note for note in self.notes.values() if company_id in note.company_ids]

    # --- the server -----------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method, request.path, body, request.headers.get("Authorization"))
            )
        try:
            SPEC.validate_request(WerkzeugOpenAPIRequest(request))
        except Exception as error:  # noqa: BLE001  every kind of violation is reported the same way
            self.violations.append(f"{request.method} {request.path}: {_describe(error)}")
            return self._answer(request, 400, _error(f"Invalid input: {_describe(error)}", "VALIDATION_ERROR"))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._answer(
                request,
                401,
                _error(
                    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
                    "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                    "INVALID_AUTHENTICATION",
                ),
            )
        fault = self._take_fault(request.path)
        if fault:
            time.sleep(fault.delay)
            return self._answer(request, fault.status, fault.body, fault.headers)
        route = self._routes.get(request.path)
        if route is None:
            return self._answer(request, 404, _error(f"no route for {request.path}", "OBJECT_NOT_FOUND"))
        with self._lock:
            status, answer = route(body)
            after = [hook for hook in self._after if request.path.endswith(hook[0])]
            self._after = [hook for hook in self._after if hook not in after]
        for _, action in after:
            action()
        return self._answer(request, status, answer)

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            fault = next((f for f in self._faults if path.endswith(f.path_suffix)), None)
            if fault:
                self._faults.remove(fault)
            return fault

    def _answer(self, request: Request, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        response = (
            Response(status=status, headers=headers)  # 204 No Content
            if body is None
            else Response(
                json.dumps(body), status=status, headers=headers, content_type="application/json;charset=utf-8"
            )
        )
        try:
            SPEC.validate_response(WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response))
        except Exception as error:  # noqa: BLE001
            if status != 400:  # a request that failed validation has no route to answer with
                self.violations.append(f"answer to {request.method} {request.path}: {_describe(error)}")
        return response

    # --- properties -----------------------------------------------------------------

    def _read_properties(self, body: dict[str, Any]) -> tuple[int, Any]:
        names = [item["name"] for item in body["inputs"]]
        results = [self.properties[name] for name in names if name in self.properties]
        errors = [
            _batch_error("OBJECT_NOT_FOUND", f"Property {name} does not exist", {"properties": [name]})
            for name in names
            if name not in self.properties
        ]
        return _batch_answer(results, errors, ok=200)

    def _create_group(self, body: dict[str, Any]) -> tuple[int, Any]:
        if body["name"] in self.groups:
            return 409, _error(f"A property group named '{body['name']}' already exists.", "CONFLICT")
        self.groups.add(body["name"])
        return 201, {
            "name": body["name"],
            "label": body["label"],
            "displayOrder": body.get("displayOrder", -1),
            "archived": False,
        }

    def _create_properties(self, body: dict[str, Any]) -> tuple[int, Any]:
        results, errors = [], []
        for definition in body["inputs"]:
            name = definition["name"]
            if name in self.properties:
                errors.append(
                    _batch_error("CONFLICT", f"Property named '{name}' already exists.", {"properties": [name]})
                )
            elif definition["groupName"] not in self.groups:
                errors.append(_batch_error("VALIDATION_ERROR", f"group {definition['groupName']} does not exist", {}))
            elif definition["type"] == "enumeration" and not definition.get("options"):
                errors.append(_batch_error("VALIDATION_ERROR", f"enumeration {name} needs options", {}))
            else:
                self.properties[name] = {
                    "options": [],
                    "description": "",
                    **definition,
                    "createdAt": NOW,
                    "updatedAt": NOW,
                    "archived": False,
                }
                results.append(self.properties[name])
        return _batch_answer(results, errors, ok=201)

    # --- companies ------------------------------------------------------------------

    def _read_companies(self, body: dict[str, Any]) -> tuple[int, Any]:
        ids = [item["id"] for item in body["inputs"]]
        results = [
            _record(company_id, self.companies[company_id], body["properties"])
            for company_id in ids
            if company_id in self.companies
        ]
        missing = [company_id for company_id in ids if company_id not in self.companies]
        errors = (
            [
                _batch_error(
                    "OBJECT_NOT_FOUND",
                    "Could not get some COMPANY objects, they may be deleted or not exist.",
                    {"ids": missing},
                )
            ]
            if missing
            else []
        )
        return _batch_answer(results, errors, ok=200)

    def _update_companies(self, body: dict[str, Any]) -> tuple[int, Any]:
        results, errors = [], []
        for item in body["inputs"]:
            company_id, trace = item["id"], self._trace(item)
            problem = (
                (None if company_id in self.companies else f"Object {company_id} not found")
                or self.validation_rules.get(company_id)
                or self._invalid_values(item["properties"])
            )
            if problem:
                errors.append(_batch_error("VALIDATION_ERROR", problem, {**trace, "ids": [company_id]}))
                continue
            self.companies[company_id].update(item["properties"])
            results.append(self._written(company_id, self.companies[company_id], item))
        return _batch_answer(results, errors, ok=200)

    def _create_companies(self, body: dict[str, Any]) -> tuple[int, Any]:
        results = []
        for item in body["inputs"]:
            company_id = self.add_company(item["properties"]["name"], item["properties"].get("domain"))
            results.append(self._written(company_id, self.companies[company_id], item))
        return _batch_answer(results, [], ok=201)

    def _invalid_values(self, values: dict[str, str]) -> str | None:
        for name, value in values.items():
            definition = self.properties.get(name)
            if definition is None and name not in DEFAULT_COMPANY_PROPERTIES:
                return f'Property "{name}" does not exist'
            if (
                definition
                and definition["type"] == "enumeration"
                and value
                and value not in {option["value"] for option in definition["options"]}
            ):
                return f"{value} was not one of the allowed options for {name}"
        return None

    def _trace(self, item: dict[str, Any]) -> dict[str, list[str]]:
        """An error's context naming the input's trace id, when this portal echoes them."""
        return {"objectWriteTraceId": [item.get("objectWriteTraceId", "")]} if self.echo_trace_ids else {}

    def _written(self, record_id: str, values: dict[str, str], item: dict[str, Any]) -> dict[str, Any]:
        """A batch write's result for one input: the written properties and the trace id, as far as echoed."""
        properties = list(item["properties"]) if self.echo_written_properties else []
        return _record(record_id, values, properties, item if self.echo_trace_ids else None)

    # --- notes ----------------------------------------------------------------------

    def _create_notes(self, body: dict[str, Any]) -> tuple[int, Any]:
        results, errors = [], []
        for item in body["inputs"]:
            trace = self._trace(item)
            companies = {
                association["to"]["id"]
                for association in item["associations"]
                if {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 190} in association["types"]
            }
            problem = self._invalid_note(item["properties"]) or (
                None
                if companies and companies <= self.companies.keys()
                else "note must be associated to an existing company"
            )
            if problem:
                errors.append(_batch_error("VALIDATION_ERROR", problem, trace))
                continue
            note_id = str(next(self._ids))
            self.notes[note_id] = Note(dict(item["properties"]), companies)
            if not self.index_new_notes:
                self.unindexed_notes.add(note_id)
            results.append(self._written(note_id, self.notes[note_id].properties, item))
        return _batch_answer(results, errors, ok=201)

    def _update_notes(self, body: dict[str, Any]) -> tuple[int, Any]:
        results, errors = [], []
        for item in body["inputs"]:
            trace = self._trace(item)
            problem = (None if item["id"] in self.notes else f"Object {item['id']} not found") or self._invalid_note(
                item["properties"]
            )
            if problem:
                errors.append(_batch_error("VALIDATION_ERROR", problem, {**trace, "ids": [item["id"]]}))
                continue
            self.notes[item["id"]].properties.update(item["properties"])
            results.append(self._written(item["id"], self.notes[item["id"]].properties, item))
        return _batch_answer(results, errors, ok=200)

    def _archive_notes(self, body: dict[str, Any]) -> tuple[int, Any]:
        # 204 whatever the ids: HubSpot's description gives no other answer for this call.
        for item in body["inputs"]:
            if item["id"] in self.notes:
                self.archived_notes[item["id"]] = self.notes.pop(item["id"])
        return 204, None

    @staticmethod
    def _invalid_note(properties: dict[str, str]) -> str | None:
        if "hs_timestamp" not in properties:
            return "hs_timestamp is required"
        if len(properties.get("hs_note_body", "")) > NOTE_BODY_LIMIT:
            return f"hs_note_body is longer than {NOTE_BODY_LIMIT} characters"
        return None

    # --- search ---------------------------------------------------------------------

    def _search(self, records: dict[str, dict[str, str]], body: dict[str, Any]) -> tuple[int, Any]:
        matching = sorted(
            (
                record_id
                for record_id, values in records.items()
                if any(all(_matches(values, f) for f in group["filters"]) for group in body["filterGroups"])
            ),
            key=int,
        )
        start, limit = int(body["after"] or 0), body["limit"]
        page = matching[start : start + limit]
        answer: dict[str, Any] = {
            "total": len(matching),
            "results": [_record(i, records[i], body["properties"]) for i in page],
        }
        if start + limit < len(matching):
            answer["paging"] = {"next": {"after": str(start + limit)}}
        return 200, answer


def _matches(values: dict[str, str], search_filter: dict[str, Any]) -> bool:
    value = values.get(search_filter["propertyName"]) or ""
    operator = search_filter["operator"]
    if operator == "IN":
        # HubSpot compares IN values to lowercased string properties: values must be lowercase.
        return value.lower() in search_filter["values"]
    if operator == "EQ":
        return value.lower() == search_filter["value"].lower()
    if operator == "CONTAINS_TOKEN":
        tokens = {token.lower() for token in _TOKEN.findall(_TAG.sub(" ", value))}
        return search_filter["value"].lower() in tokens
    raise NotImplementedError(f"the fake does not search with {operator}")


def _record(
    record_id: str, values: dict[str, str], properties: list[str], written: dict[str, Any] | None = None
) -> dict[str, Any]:
    record = {
        "id": record_id,
        "properties": {"hs_object_id": record_id, **{name: values.get(name) for name in properties}},
        "createdAt": NOW,
        "updatedAt": NOW,
        "archived": False,
    }
    if written and "objectWriteTraceId" in written:
        record["objectWriteTraceId"] = written["objectWriteTraceId"]
    return record


def _batch_answer(results: list[Any], errors: list[Any], *, ok: int) -> tuple[int, Any]:
    answer: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": NOW, "completedAt": NOW}
    if errors:
        answer.update(numErrors=len(errors), errors=errors)
    return (207 if errors else ok), answer


def _batch_error(category: str, message: str, context: dict[str, list[str]]) -> dict[str, Any]:
    return {"status": "error", "category": category, "message": message, "context": context, "errors": [], "links": {}}


def _error(message: str, category: str) -> dict[str, Any]:
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}


def _describe(error: Exception) -> str:
    causes = getattr(error, "schema_errors", None) or getattr(getattr(error, "__cause__", None), "schema_errors", None)
    if causes:
        return "; ".join(cause.message for cause in causes)
    return f"{type(error).__name__}: {error}; {error.__cause__ or ''}"
