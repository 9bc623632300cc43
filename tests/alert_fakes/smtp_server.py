"""A real SMTP server (aiosmtpd) on localhost that keeps the mail it accepts, optionally behind a login."""

from __future__ import annotations

import email
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Mail:
    recipients: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        """The text of the ``plain`` or ``html`` part."""
        return self.message.get_body((subtype,)).get_content()


@dataclass
class Inbox:
    """Accepts every message, except to ``refused`` addresses; ``login`` is the only (user, password) let in."""

    login: tuple[str, str] | None = None
    refused: set[str] = field(default_factory=set)
    mail: list[Mail] = field(default_factory=list)
    port: int = 0  # set when the server starts

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        self.mail.append(Mail(list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        # handled=False: aiosmtpd then answers 535 itself.
        known = (
            isinstance(auth_data, LoginPassword)
            and (auth_data.login.decode(), auth_data.password.decode()) == self.login
        )
        return AuthResult(success=known, handled=False)

    def to(self, address: str) -> list[Mail]:
        return [mail for mail in self.mail if address in mail.recipients]


def start_smtp_server(inbox: Inbox) -> Controller:
    """Start an SMTP server for ``inbox`` on a free localhost port (``inbox.port``); stop it when done."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = inbox.port = probe.getsockname()[1]
    login = {"authenticator": inbox.authenticate, "auth_required": True} if inbox.login else {}
    # Plain SMTP on localhost: the login is tested, TLS is not.
    controller = Controller(inbox, hostname="127.0.0.1", port=port, auth_require_tls=False, **login)
    controller.start()
    return controller
