"""Slack: owner alerts and digests as Block Kit messages, posted to one incoming webhook.

Slack documents these answers of an incoming webhook, and they are taken like this:

- 200 ``ok``: posted;
- 400 ``invalid_payload`` or ``user_not_found``: this message is refused (recorded as failed,
  posted again by the next run);
- 403 ``action_prohibited``, 404 ``no_service`` or ``channel_not_found``, 410
  ``channel_is_archived``: the webhook can post nothing at all, so the run stops;
- 429 (at most about one message a second per webhook) with Retry-After, and 5xx
  ``rollup_error``: waited for and retried.

The webhook URL is the secret (VISITOR_INTENT_SLACK_WEBHOOK_URL): it never shows in logs,
errors or reprs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from connectors.crm.transport import REDACTED, CrmClient, RetryPolicy, hide_from_http_logs
from enrichment.alerts import REASON_PHRASES, AccountNews, OwnerDigest

WEBHOOK_ENV_VAR = "VISITOR_INTENT_SLACK_WEBHOOK_URL"
# Slack's limits: a section's text holds 3000 characters, a header's 150.
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
LEVEL_EMOJI = {"hot": ":fire:", "warm": ":sunny:", "cold": ":snowflake:"}
Message = dict[str, Any]


class SlackWebhook(CrmClient):
    """Posts messages to one incoming webhook, with retries."""

    crm = "Slack"
    credentials_help = (
        f"Check {WEBHOOK_ENV_VAR}: the webhook may have been removed or its channel archived; "
        "create a new incoming webhook for the channel."
    )

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not url:
            raise ValueError(f"no Slack webhook: set {WEBHOOK_ENV_VAR} to the channel's incoming-webhook URL")
        # The path is the secret too: urllib3's debug lines show it without the host.
        secrets = [url, urlsplit(url).path]
        super().__init__(secrets=secrets, timeout=timeout, retry=retry, dry_run_dir=None, sleep=sleep)
        hide_from_http_logs(*secrets)
        self._url = url

    def __repr__(self) -> str:
        return f"SlackWebhook(url={REDACTED!r})"

    @property
    def location(self) -> str:
        return "a Slack incoming webhook"

    def post(self, message: Message, what: str) -> None:
        """Post one message; ``CrmRequestError`` when Slack refuses it, ``CrmAuthError`` when the webhook is gone."""
        self._retried(self._attempt, "POST", what, message)

    def _attempt(self, method: str, what: str, message: Message) -> None:
        response = self._exchange(method, self._url, json=message)
        if response.status_code in (403, 404, 410):
            self._raise_auth(response)
        self._raise_for_status(response, what)


def alert_message(news: AccountNews, reasons: tuple[str, ...], digest: OwnerDigest, link: str | None) -> Message:
    """The alert for one account: what happened, score, stage, why, the top pages and a link to its page."""
    happened = ", ".join(REASON_PHRASES[reason] for reason in reasons)
    pages = "\n".join(f"• {_escape(page)}" for page in news.top_pages) or "none"
    blocks: list[Message] = [
        _header(f"{news.name} {happened}"),
        {
            "type": "section",
            "fields": [
                _markdown(f"*Score*\n{news.intent_score:.0f} ({news.level})"),
                _markdown(f"*Stage*\n{news.furthest_stage or 'none'}"),
                _markdown(f"*Surge*\n{news.surge:.0f} (50 = as usual)"),
                _markdown(f"*Owner*\n{_escape(news.owner)}"),
            ],
        },
        _section(f"*Why*\n{_escape(news.explanation)}"),
        _section(f"*Top pages*\n{pages}"),
    ]
    if link:
        blocks.append(_button("Open the account's report", link))
    blocks.append(_window_context(digest))
    return {"text": _escape(f"{news.name} {happened} (owner: {news.owner})"), "blocks": blocks}


def digest_message(digest: OwnerDigest, links: Mapping[str, str | None]) -> Message:
    """An owner's accounts of the window, one line each, best first."""
    lines = [_digest_line(news, links.get(news.account_id)) for news in digest.accounts]
    return {
        "text": _escape(f"{digest.owner}: {_accounts(len(digest.accounts))} active, {len(digest.alerts)} with alerts"),
        "blocks": [
            _header(f"{digest.owner}: your accounts this window"),
            _section("\n".join(lines)),
            _window_context(digest),
        ],
    }


def _accounts(count: int) -> str:
    return f"{count} account{'' if count == 1 else 's'}"


def _digest_line(news: AccountNews, link: str | None) -> str:
    name = f"<{link}|{_escape(news.name)}>" if link else f"*{_escape(news.name)}*"
    alerts = f" — {', '.join(REASON_PHRASES[reason] for reason in news.reasons)}" if news.reasons else ""
    emoji = LEVEL_EMOJI.get(news.level, "")
    return f"{emoji} {name}: {news.intent_score:.0f}, {news.furthest_stage or 'no stage'}, {news.movement}{alerts}"


def _window_context(digest: OwnerDigest) -> Message:
    window = f"{digest.window_start.isoformat()} – {digest.window_end.isoformat()}"
    return {"type": "context", "elements": [_markdown(f"Visitor Intent · report window {window}")]}


def _header(text: str) -> Message:
    return {"type": "header", "text": {"type": "plain_text", "text": _cut(text, MAX_HEADER_CHARS)}}


def _section(text: str) -> Message:
    return {"type": "section", "text": _markdown(_cut(text, MAX_SECTION_CHARS))}


def _button(text: str, url: str) -> Message:
    return {
        "type": "actions",
        "elements": [{"type": "button", "text": {"type": "plain_text", "text": text}, "url": url}],
    }


def _markdown(text: str) -> Message:
    return {"type": "mrkdwn", "text": text}


def _escape(text: str) -> str:
    """Slack's mrkdwn escaping: only &, < and > are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
