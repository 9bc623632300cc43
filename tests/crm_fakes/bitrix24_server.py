"""A stand-in for a Bitrix24 portal's REST API behind an inbound webhook, keeping state.

Companies (with user fields) and timeline comments live in memory. Requests go to
``/rest/<user_id>/<secret>/<method>`` with a JSON body; a wrong user or secret is
``401 NO_AUTH_FOUND``. Answers have Bitrix24's documented shapes: ``result`` with ``time``;
list methods add ``total`` and ``next`` (pages of 50, ``start`` to go on); errors are
``{"error", "error_description"}``; ``batch`` runs up to 50 ``method?params`` commands
(parameters as PHP's http_build_query writes them) and answers ``result``,
``result_error``, ``result_total``, ``result_next`` and ``result_time`` by command key
(PHP's ``[]`` when empty).

The portal's limits are there too. Its leaky bucket: each HTTP request adds one, two leak
away per second of the injected clock, and a request finding 50 in the bucket gets
``503 QUERY_LIMIT_EXCEEDED``. Its operating-time limit: every answer's ``time`` (and each
batch command's ``result_time``) says when the method's time budget frees up
(``operating_reset_at``); a method that used up its budget answers ``429
OPERATION_TIME_LIMIT``, or carries that error in a batch's ``result_error``, until then. A
webhook lacking a permission gets ``insufficient_scope`` or ``ACCESS_DENIED`` the same
two ways (a batch still answers 200). A test shares one ``ManualClock`` between the fake
and the client, as the client's pacing clock and as its clock for reset times, so waits
are exact and nothing really sleeps.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

PAGE_SIZE = 50
BATCH_LIMIT = 50
NOW = "2026-11-16T09:00:00+03:00"
_BRACKETS = re.compile(r"\[([^\]]*)\]")


class ManualClock:
    """A clock that moves only when someone sleeps on it; it remembers every sleep."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class RecordedRequest:
    method: str
    json: Any
    path: str


@dataclass
class _Fault:
    method: str
    status: int | None  # None: answer normally, only late
    body: Any
    delay: float = 0.0


@dataclass
class _Bucket:
    capacity: int
    rate: float
    clock: Callable[[], float]
    level: float = 0.0
    at: float | None = None

    def admit(self) -> bool:
        now = self.clock()
        self.level = max(0.0, self.level - (now - (self.at if self.at is not None else now)) * self.rate)
        self.at = now
        if self.level >= self.capacity:
            return False
        self.level += 1
        return True


class FakeBitrix24:
    """A Bitrix24 portal's CRM REST methods on a local pytest-httpserver, with state."""

    def __init__(
        self,
        httpserver: HTTPServer,
        *,
        user_id: str,
        secret: str,
        clock: Callable[[], float],
        burst: int = 50,
        rate: float = 2.0,
        user_fields: set[str] | None = None,
    ) -> None:
        self.url = httpserver.url_for("/").rstrip("/")
        self.webhook_url = f"{self.url}/rest/{user_id}/{secret}/"
        self.user_fields = user_fields or {
            "UF_CRM_VI_DOMAIN",
            "UF_CRM_VI_INTENT_SCORE",
            "UF_CRM_VI_INTENT_STAGE",
            "UF_CRM_VI_INTENT_TOPICS",
        }
        self.companies: dict[str, dict[str, str]] = {}
        self.comments: dict[str, dict[str, str]] = {}
        self.requests: list[RecordedRequest] = []
        self.commands: list[tuple[str, dict[str, Any]]] = []  # every method run, batched or not
        self.violations: list[str] = []
        # Required fields and the like: company ID -> the message Bitrix24 gives when it refuses an update.
        self.validation_rules: dict[str, str] = {}
        self._user_id, self._secret = user_id, secret
        self._clock = clock
        self._bucket = _Bucket(burst, rate, clock)
        # method -> when its time budget frees up, and the methods blocked until then
        self.operating_reset_at: dict[str, float] = {}
        self._blocked: set[str] = set()
        self._exhausting: set[str] = set()
        self._denied: dict[str, dict[str, str]] = {}  # method -> the error a call to it gets
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(101)
        self._methods: dict[str, Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]] = {
            "crm.company.list": self._list_companies,
            "crm.company.update": self._update_company,
            "crm.timeline.comment.add": self._add_comment,
            "crm.timeline.comment.list": self._list_comments,
            "crm.timeline.comment.update": self._update_comment,
            "crm.timeline.comment.delete": self._delete_comment,
        }
        httpserver.expect_request(re.compile(".*")).respond_with_handler(self._handle)

    # --- what tests arrange ---------------------------------------------------------

    def add_company(self, title: str, domain: str | None = None) -> str:
        company_id = str(next(self._ids))
        self.companies[company_id] = {"ID": company_id, "TITLE": title, "UF_CRM_VI_DOMAIN": domain or ""}
        return company_id

    def add_comment(self, company_id: str, text: str) -> str:
        comment_id = str(next(self._ids))
        self.comments[comment_id] = {
            "ID": comment_id,
            "ENTITY_ID": company_id,
            "ENTITY_TYPE": "company",
            "CREATED": NOW,
            "COMMENT": text,
            "AUTHOR_ID": self._user_id,
        }
        return comment_id

    def fail_next(self, method: str, status: int, body: Any = None, *, delay: float = 0.0, times: int = 1) -> None:
        """Answer the next ``times`` HTTP requests for ``method`` like this.

        ``method`` is the one in the URL (``batch`` too) or, for a batch, the method of its commands.
        """
        body = (
            body
            if body is not None
            else {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"}
        )
        self._faults += [_Fault(method, status, body, delay) for _ in range(times)]

    def exhaust_operating_time(self, method: str, *, reset_in: float) -> None:
        """The next run of ``method`` uses up its time budget, which frees up ``reset_in`` seconds from now."""
        self.operating_reset_at[method] = self._clock() + reset_in
        self._exhausting.add(method)

    def block(self, method: str, *, reset_in: float) -> None:
        """``method`` has used up its time budget already; it frees up ``reset_in`` seconds from now."""
        self.operating_reset_at[method] = self._clock() + reset_in
        self._blocked.add(method)

    def deny(self, method: str, error: str, description: str) -> None:
        """Calls to ``method`` lack a permission (``insufficient_scope``, ``ACCESS_DENIED``)."""
        self._denied[method] = {"error": error, "error_description": description}

    def answer_late(self, method: str, delay: float) -> None:
        """Run the next request for ``method`` (as in ``fail_next``), then answer only after ``delay`` real seconds."""
        self._faults.append(_Fault(method, None, None, delay))

    # --- what tests read ------------------------------------------------------------

    def calls(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every run of ``method``, in a batch or not."""
        return [params for name, params in self.commands if name == method]

    def http_calls(self, method: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.method == method]

    def comments_of(self, company_id: str) -> list[dict[str, str]]:
        return [c for c in self.comments.values() if c["ENTITY_TYPE"] == "company" and c["ENTITY_ID"] == company_id]

    # --- the server -----------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        match = re.fullmatch(
            r"/rest/(?P<user>[^/]+)/(?P<secret>[^/]+)/(?P<method>[a-z0-9.]+?)(?:\.json)?", request.path
        )
        body = request.get_json(silent=True)
        with self._lock:
            self.requests.append(RecordedRequest(match["method"] if match else "", body, request.path))
        if not match or (match["user"], match["secret"]) != (self._user_id, self._secret):
            return _answer(401, {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"})
        with self._lock:
            admitted = self._bucket.admit()
        if not admitted:
            return _answer(503, {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"})
        method = match["method"]
        fault = self._take_fault({method, *_batched_methods(body)})
        if fault and fault.status is not None:
            time.sleep(fault.delay)
            return _answer(fault.status, fault.body)
        if not isinstance(body, dict):
            self.violations.append(f"{method}: the body is not a JSON object")
            return _answer(400, {"error": "INVALID_REQUEST", "error_description": "Invalid request"})
        with self._lock:
            status, answer = self._batch(body) if method == "batch" else self._run(method, body)
        if fault:
            time.sleep(fault.delay)
        # Errors carry no time, as Bitrix24's error answers show.
        return _answer(status, answer if "error" in answer else {**answer, "time": self._time(method)})

    def _take_fault(self, methods: set[str]) -> _Fault | None:
        with self._lock:
            fault = next((f for f in self._faults if f.method in methods), None)
            if fault:
                self._faults.remove(fault)
            return fault

    def _run(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        refusal = self._refusal(method)
        if refusal:
            return refusal
        self.commands.append((method, params))
        if method in self._exhausting:
            self._exhausting.discard(method)
            self._blocked.add(method)
        handler = self._methods.get(method)
        if handler is None:
            self.violations.append(f"unexpected method {method}")
            return 404, {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}
        return handler(params)

    def _batch(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        commands = body.get("cmd")
        if body.get("halt") not in (0, 1, False, True) or not isinstance(commands, dict):
            self.violations.append(f"batch body {body!r}: needs halt and cmd by key")
            return 400, {"error": "INVALID_REQUEST", "error_description": "Invalid request"}
        parts: dict[str, dict[str, Any]] = {
            name: {} for name in ("result", "result_error", "result_total", "result_next", "result_time")
        }
        for number, (key, command) in enumerate(commands.items()):
            method, _, query = command.partition("?")
            if number >= BATCH_LIMIT:
                self.violations.append(f"batch of {len(commands)} commands")
                parts["result_error"][key] = {
                    "error": "ERROR_BATCH_LENGTH_EXCEEDED",
                    "error_description": "Max batch length exceeded",
                }
                continue
            status, answer = self._run(method, _php_params(query))
            if "error" in answer:
                parts["result_error"][key] = answer
                continue
            parts["result"][key] = answer["result"]
            parts["result_time"][key] = self._time(method)
            if "total" in answer:
                parts["result_total"][key] = answer["total"]
            if "next" in answer:
                parts["result_next"][key] = answer["next"]
        # PHP encodes an empty associative array as [].
        return 200, {"result": {name: part or [] for name, part in parts.items()}}

    def _refusal(self, method: str) -> tuple[int, dict[str, Any]] | None:
        """The answer of a method used up or denied: the status of a call, the error of a batch command."""
        if method in self._blocked and self._clock() < self.operating_reset_at[method]:
            return 429, {
                "error": "OPERATION_TIME_LIMIT",
                "error_description": "Method is blocked due to operation time limit",
            }
        self._blocked.discard(method)
        if method in self._denied:
            return 401, dict(self._denied[method])
        return None

    def _time(self, method: str) -> dict[str, Any]:
        """An answer's ``time`` for ``method``; unless a test said otherwise, its budget frees up in ten minutes."""
        return {
            "start": 1763272800.0,
            "finish": 1763272800.05,
            "duration": 0.05,
            "processing": 0.01,
            "date_start": NOW,
            "date_finish": NOW,
            "operating_reset_at": self.operating_reset_at.get(method, self._clock() + 600),
            "operating": 0,
        }

    # --- companies ------------------------------------------------------------------

    def _list_companies(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        where = params.get("filter", {})
        rows = [row for row in self.companies.values() if all(_filter(row, key, value) for key, value in where.items())]
        for name, direction in params.get("order", {}).items():
            rows.sort(
                key=lambda row: int(row[name]) if name == "ID" else row.get(name, ""), reverse=direction == "DESC"
            )
        select = params.get("select") or ["*"]
        return 200, _page(
            [{"ID": row["ID"], **{f: row.get(f, "") for f in select if f != "*"}} for row in rows], params
        )

    def _update_company(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        company_id = str(params.get("id", ""))
        if not isinstance(params.get("fields"), dict):
            return 400, {"error": "", "error_description": "Parameter 'fields' must be array"}
        if company_id not in self.companies:
            return 400, {"error": "", "error_description": "Company is not found"}
        if company_id in self.validation_rules:
            return 400, {"error": "", "error_description": self.validation_rules[company_id]}
        # Bitrix24 ignores fields it doesn't know.
        self.companies[company_id].update({k: str(v) for k, v in params["fields"].items() if k in self.user_fields})
        return 200, {"result": True}

    # --- timeline comments ------------------------------------------------------------

    def _add_comment(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        fields = params.get("fields")
        if not isinstance(fields, dict):
            self.violations.append("crm.timeline.comment.add without a lowercase 'fields'")
            return 400, {"error": "100", "error_description": "Required fields are missing"}
        if fields.get("ENTITY_TYPE") != "company" or str(fields.get("ENTITY_ID")) not in self.companies:
            return 400, {"error": "OWNER_NOT_FOUND", "error_description": "Owner not found."}
        if not fields.get("COMMENT"):
            return 400, {"error": "INVALID_ARG_VALUE", "error_description": "Empty comment."}
        return 200, {"result": int(self.add_comment(str(fields["ENTITY_ID"]), fields["COMMENT"]))}

    def _list_comments(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        where = params.get("filter", {})
        if not {"ENTITY_ID", "ENTITY_TYPE"} <= set(where):
            self.violations.append(f"crm.timeline.comment.list filter {where!r} lacks ENTITY_ID and ENTITY_TYPE")
            return 400, {"error": "INVALID_ARG_VALUE", "error_description": "ENTITY_ID and ENTITY_TYPE are required."}
        owner = (str(where["ENTITY_ID"]), where["ENTITY_TYPE"])
        rows = [
            comment for comment in self.comments.values() if (comment["ENTITY_ID"], comment["ENTITY_TYPE"]) == owner
        ]
        rows.sort(key=lambda c: int(c["ID"]), reverse=params.get("order", {}).get("ID") == "DESC")
        select = params.get("select") or list(next(iter(self.comments.values()), {}))
        return 200, _page([{name: row[name] for name in select} for row in rows], params)

    def _update_comment(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        comment_id = str(params.get("id", ""))
        text = (params.get("fields") or {}).get("COMMENT")
        if comment_id not in self.comments:
            return 400, {"error": "NOT_FOUND", "error_description": "Not found."}
        if not text:
            return 400, {"error": "INVALID_ARG_VALUE", "error_description": "Empty comment."}
        self.comments[comment_id]["COMMENT"] = text
        return 200, {"result": int(comment_id)}

    def _delete_comment(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        comment_id = str(params.get("id", ""))
        if comment_id not in self.comments:
            return 400, {"error": "NOT_FOUND", "error_description": "Not found."}
        problem = _owner_given(params, self.comments[comment_id])
        if problem:
            self.violations.append(f"crm.timeline.comment.delete: {problem}")
            return 400, {"error": "OWNER_NOT_FOUND", "error_description": "Owner of the item not found."}
        del self.comments[comment_id]
        return 200, {"result": None}


def _owner_given(params: dict[str, Any], comment: dict[str, str]) -> str | None:
    """What is wrong with ``ownerTypeId``/``ownerId`` for this comment (both optional, both or neither)."""
    if ("ownerTypeId" in params) != ("ownerId" in params):
        return "ownerTypeId and ownerId go together"
    if "ownerId" in params and (str(params["ownerTypeId"]), str(params["ownerId"])) != ("4", comment["ENTITY_ID"]):
        return f"comment {comment['ID']} is not bound to company {params['ownerId']}"
    return None


def _batched_methods(body: Any) -> set[str]:
    commands = body.get("cmd") if isinstance(body, dict) else None
    return {command.partition("?")[0] for command in commands.values()} if isinstance(commands, dict) else set()


def _filter(row: dict[str, str], key: str, value: Any) -> bool:
    """The filter prefixes this connector uses: ``@`` (IN a list) and none or ``=`` (equal)."""
    if key.startswith("@"):
        values = value if isinstance(value, list) else [value]
        return row.get(key[1:], "").lower() in {str(v).lower() for v in values}
    return row.get(key.removeprefix("="), "").lower() == str(value).lower()


def _page(rows: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    start = int(params.get("start", 0))
    answer: dict[str, Any] = {"result": rows[start : start + PAGE_SIZE], "total": len(rows)}
    if start + PAGE_SIZE < len(rows):
        answer["next"] = start + PAGE_SIZE
    return answer


def _php_params(query: str) -> dict[str, Any]:
    """A query string as PHP's parse_str reads it: ``a[b][0]=x`` → ``{"a": {"b": ["x"]}}``."""
    params: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        base, _, rest = name.partition("[")
        keys = [base, *_BRACKETS.findall("[" + rest)] if rest else [base]
        node = params
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return _lists(params)


def _lists(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    converted = {key: _lists(item) for key, item in value.items()}
    if converted and list(converted) == [str(n) for n in range(len(converted))]:
        return list(converted.values())
    return converted


def _answer(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json; charset=utf-8")
