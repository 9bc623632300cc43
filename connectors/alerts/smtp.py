"""Email: one message per owner and window (their new alerts and their accounts), sent over SMTP.

The message has a plain-text and an HTML part, rendered from ``templates/``. The password
comes from VISITOR_INTENT_SMTP_PASSWORD only and never shows in logs or errors. A server
that is unreachable, drops the connection or answers 4xx is retried with backoff; a refused
login stops the run; refused recipients fail that owner's message only (sent again next run).
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from connectors.crm.transport import (
    REDACTED,
    CrmAuthError,
    CrmRequestError,
    CrmUnavailable,
    Redactor,
    Retrier,
    RetryPolicy,
    Transient,
)
from enrichment.alerts import REASON_PHRASES, AccountNews, OwnerDigest

PASSWORD_ENV_VAR = "VISITOR_INTENT_SMTP_PASSWORD"
Security = Literal["starttls", "ssl", "none"]

_TEMPLATES = Environment(
    loader=PackageLoader("connectors.alerts", "templates"),
    autoescape=select_autoescape(["html.j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class SmtpMailer:
    """Sends email through one SMTP server: a fresh connection per message, with retries."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        security: Security = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if username and not password:
            raise ValueError(f"no SMTP password: set {PASSWORD_ENV_VAR} for the user {username}")
        self.host, self.port, self.sender, self.security = host, port, sender, security
        self.username = username
        self.timeout = timeout
        self.retry = retry
        self._password = password
        self._redact = Redactor(password or "")
        self._retrier = Retrier("SMTP", retry, sleep)

    def __repr__(self) -> str:
        return f"SmtpMailer(host={self.host!r}, port={self.port}, username={self.username!r}, password={REDACTED!r})"

    @property
    def location(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def send(self, message: EmailMessage, what: str) -> None:
        """Send one message; ``CrmRequestError`` when the server refuses it, ``CrmAuthError`` when it refuses the login."""
        try:
            self._retrier(self._attempt, "SEND", what, message)
        except Transient as error:
            raise CrmUnavailable(
                f"{self.location} did not take {what} after {self.retry.attempts} attempts: {error}"
            ) from None

    def _attempt(self, method: str, what: str, message: EmailMessage) -> None:
        try:
            with self._connect() as smtp:
                if self.username:
                    smtp.login(self.username, self._password or "")
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as error:
            raise CrmAuthError(
                f"{self.location} refused the login of {self.username} ({error.smtp_code}); check {PASSWORD_ENV_VAR}"
            ) from None
        except smtplib.SMTPRecipientsRefused as error:
            refused = ", ".join(sorted(error.recipients))
            raise CrmRequestError(550, f"{self.location} refused the recipients of {what}: {refused}") from None
        except smtplib.SMTPResponseException as error:
            reason = self._redact(error.smtp_error.decode(errors="replace")[:200])
            if 400 <= error.smtp_code < 500:
                raise Transient(f"{error.smtp_code} {reason}") from None
            raise CrmRequestError(
                error.smtp_code, f"{self.location} refused {what}: {error.smtp_code} {reason}"
            ) from None
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as error:
            # Only the type: the text may quote the server's dialogue.
            raise Transient(f"connection failed ({type(error).__name__})") from None

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp


def owner_email(
    digest: OwnerDigest,
    alerts: Sequence[tuple[AccountNews, tuple[str, ...]]],
    links: Mapping[str, str | None],
    *,
    sender: str,
    recipients: Sequence[str],
) -> EmailMessage:
    """An owner's message: the alerts given (each account with its new reasons), then all their accounts."""
    window = f"{digest.window_start.isoformat()} – {digest.window_end.isoformat()}"
    context = {
        "digest": digest,
        "window": window,
        "alerts": [(news, ", ".join(REASON_PHRASES[reason] for reason in reasons)) for news, reasons in alerts],
        "links": links,
    }
    message = EmailMessage()
    message["Subject"] = f"Visitor Intent {window}: {_subject(digest, len(alerts))}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Message-ID"] = make_msgid(domain="visitor-intent")
    message.set_content(_TEMPLATES.get_template("owner.txt.j2").render(context))
    message.add_alternative(_TEMPLATES.get_template("owner.html.j2").render(context), subtype="html")
    return message


def _subject(digest: OwnerDigest, alerts: int) -> str:
    accounts = f"{len(digest.accounts)} account{'s' if len(digest.accounts) != 1 else ''} of {digest.owner}"
    return f"{alerts} alert{'s' if alerts != 1 else ''}, {accounts}" if alerts else accounts
