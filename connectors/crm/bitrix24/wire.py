"""How requests reach a Bitrix24 portal: the webhook URL, the request bucket, the batch encoding.

The inbound webhook URL is the secret: it must use HTTPS (plain ``http://`` only to this
machine, as tests do). Requests fill the portal's leaky bucket, which the client keeps a
copy of. Batch commands are ``method?params`` strings with the parameters written as
PHP's ``http_build_query`` does, and answers come back by command key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

WEBHOOK_ENV_VAR = "BITRIX24_WEBHOOK_URL"
Command = tuple[str, dict[str, Any]]  # a REST method and its parameters


@dataclass
class BatchAnswer:
    """What a batch said, by command key: results, errors, and the next page's ``start`` of list methods."""

    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    next: dict[str, int] = field(default_factory=dict)


class LeakyBucket:
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


def webhook_parts(webhook_url: str) -> tuple[str, str, str]:
    """The portal, user id and secret of an inbound webhook URL; HTTPS, or plain HTTP to this machine only."""
    parts = urlsplit(webhook_url.strip())
    path = [part for part in parts.path.split("/") if part]
    if parts.scheme not in ("https", "http") or not parts.hostname or len(path) != 3 or path[:1] != ["rest"]:
        raise ValueError(
            f"{WEBHOOK_ENV_VAR} must be an inbound webhook URL like https://<portal>.bitrix24.com/rest/<user_id>/<secret>/"
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(
            f"{WEBHOOK_ENV_VAR} must use https://: the URL is the webhook's secret and Bitrix24 answers "
            "webhook calls over HTTPS only (plain http is allowed to this machine only)"
        )
    if not path[1].isdigit():
        raise ValueError(f"{WEBHOOK_ENV_VAR}: the part after /rest/ must be the webhook user's numeric id")
    return f"{parts.scheme}://{parts.netloc}", path[1], path[2]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def command_methods(method: str, body: dict[str, Any]) -> dict[str, str]:
    """The REST method of each command key of a batch body, or ``{"result": method}`` for a single method."""
    if method != "batch":
        return {"result": method}
    return {key: str(command).partition("?")[0] for key, command in keyed(body.get("cmd")).items()}


def batch_body(commands: Mapping[str, Command]) -> dict[str, Any]:
    return {"halt": 0, "cmd": {key: encode_command(command) for key, command in commands.items()}}


def encode_command(command: Command) -> str:
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


def keyed(value: Any) -> dict[str, Any]:
    """A batch part by command key; PHP sends an empty one as ``[]``."""
    return value if isinstance(value, dict) else {}


def present(values: Mapping[str, Any]) -> dict[str, int]:
    return {key: int(value) for key, value in values.items() if value is not None}
