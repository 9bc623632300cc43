"""A stand-in for a Slack incoming webhook, answering as Slack documents.

Slack answers 200 with the body ``ok``; 400 ``invalid_payload`` for a body that is not a
JSON message (no ``text`` and no ``blocks``, or blocks that are not a list of objects with
a ``type``); 404 ``no_service`` for a webhook URL it does not know; and, when a test sets
them up, 403 ``action_prohibited``, 404 ``channel_not_found``, 410 ``channel_is_archived``,
429 with a Retry-After, or 500 ``rollup_error``. Accepted messages are kept to read back.
"""

from __future__ import annotations

import json
import re
from collections import deque
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

WEBHOOK_PATH = "/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX"


class FakeSlackWebhook:
    """One incoming webhook at ``url``; ``messages`` holds what it posted to the channel."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.messages: list[dict[str, Any]] = []
        self.requests = 0
        self._faults: deque[Response] = deque()
        # The first matching handler answers: the webhook, then any other URL Slack does not know.
        server.expect_request(WEBHOOK_PATH, method="POST").respond_with_handler(self._handle)
        server.expect_request(re.compile("/services/.*"), method="POST").respond_with_handler(self._refuse_unknown)

    @property
    def url(self) -> str:
        return self.server.url_for(WEBHOOK_PATH)

    def fail_next(self, status: int, error: str, *, retry_after: int | None = None, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status`` and Slack's error string (and a Retry-After)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        for _ in range(times):
            self._faults.append(Response(error, status=status, headers=headers, content_type="text/html"))

    def texts(self) -> list[str]:
        """Every posted message's fallback text, in order."""
        return [message["text"] for message in self.messages]

    def _handle(self, request: Request) -> Response:
        self.requests += 1
        if self._faults:
            return self._faults.popleft()
        try:
            message = json.loads(request.get_data())
        except ValueError:
            return _answer(400, "invalid_payload")
        if not _is_message(message):
            return _answer(400, "invalid_payload")
        self.messages.append(message)
        return _answer(200, "ok")

    def _refuse_unknown(self, request: Request) -> Response:
        return _answer(404, "no_service")


def _is_message(message: Any) -> bool:
    if not isinstance(message, dict) or not (message.get("text") or message.get("blocks")):
        return False
    blocks = message.get("blocks", [])
    return isinstance(blocks, list) and all(isinstance(block, dict) and "type" in block for block in blocks)


def _answer(status: int, body: str) -> Response:
    return Response(body, status=status, content_type="text/html")
