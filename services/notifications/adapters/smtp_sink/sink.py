"""The sink: an aiosmtpd server, in a thread of its own, that stores every mail it accepts in a Maildir."""

from __future__ import annotations

import asyncio
import mailbox
import socket
import warnings
from collections.abc import Awaitable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

DEFAULT_MAILDIR = Path(".tournees/mail")


@dataclass
class Faults:
    """What the sink answers instead of accepting; tests change it while the sink runs."""

    rcpt_replies: dict[str, str] = field(default_factory=dict)
    """Recipient address (any case) → the reply to its ``RCPT TO``, e.g. ``"550 5.1.1 Mailbox unavailable"``."""
    data_reply: str | None = None
    """The reply to ``DATA`` instead of storing the mail, e.g. ``"451 4.3.0 Try again later"``."""
    data_delay_s: float = 0.0
    """Seconds to wait, once the mail is stored, before answering ``DATA``: a client that gives up sooner cannot
    tell whether the mail went through."""


class _Handler:
    def __init__(self, maildir: mailbox.Maildir, faults: Faults) -> None:
        self.maildir = maildir
        self.faults = faults

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        reply = {a.casefold(): r for a, r in self.faults.rcpt_replies.items()}.get(address.casefold())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.faults.data_reply is not None:
            return self.faults.data_reply
        content = (envelope.original_content or b"").replace(b"\r\n", b"\n")  # a Maildir file's lines end in LF
        envelope_headers = f"X-MailFrom: {envelope.mail_from}\nX-RcptTo: {', '.join(envelope.rcpt_tos)}\n"
        self.maildir.add(envelope_headers.encode() + content)
        if self.faults.data_delay_s:
            await asyncio.sleep(self.faults.data_delay_s)
        return "250 OK: stored"


class _BoundController(Controller):
    """aiosmtpd's controller on a socket bound beforehand, so that port 0 (any free port) works."""

    def __init__(self, handler: _Handler, sock: socket.socket, **smtp_parameters: Any) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **smtp_parameters)
        self._sock = sock

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


class SmtpSink:
    """A local SMTP server that accepts every mail into the Maildir ``maildir`` (unless ``faults`` say otherwise).

    ``with SmtpSink(dir) as sink:`` or ``async with SmtpSink(dir) as sink:``; ``sink.url`` is
    ``smtp://127.0.0.1:<port>``, ``sink.received()`` the mails so far. With ``credentials`` (login, password)
    it requires that AUTH, over plain text (a local sink has no TLS)."""

    def __init__(
        self,
        maildir: Path | str = DEFAULT_MAILDIR,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.maildir = Path(maildir)
        self.faults = faults or Faults()
        self._handler = _Handler(_maildir(self.maildir), self.faults)
        self._bind = (host, port)
        self._credentials = credentials
        self._controller: _BoundController | None = None
        self.host, self.port = host, port

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def received(self) -> list[EmailMessage]:
        return read_mails(self.maildir)

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("the SMTP sink is running already")
        sock = socket.create_server(self._bind)
        self.host, self.port = sock.getsockname()[:2]
        auth: dict[str, Any] = {}
        if self._credentials is not None:
            # a local sink has no TLS: aiosmtpd warns about AUTH without it on each connection, which is the point here
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning, "aiosmtpd")
            auth = {"auth_required": True, "auth_require_tls": False, "authenticator": self._authenticate}
        self._controller = _BoundController(self._handler, sock, server_hostname="tournees-smtp-sink", **auth)
        try:
            self._controller.start()
        except BaseException:
            sock.close()
            self._controller = None
            raise

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and self._credentials == (
            auth_data.login.decode(),
            auth_data.password.decode(),
        )
        return AuthResult(success=ok, handled=False)

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> SmtpSink:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)


def read_mails(maildir: Path | str = DEFAULT_MAILDIR) -> list[EmailMessage]:
    """The mails stored in ``maildir``, oldest first (none when it does not exist); each has the sink's
    ``X-MailFrom`` and ``X-RcptTo`` headers (the SMTP envelope) before its own."""
    path = Path(maildir)
    if not all((path / sub).is_dir() for sub in ("cur", "new")):
        return []
    box = mailbox.Maildir(path, create=False)
    stored = []
    for key in box.iterkeys():
        message = box.get_message(key)
        stored.append((message.get_date(), key, box.get_bytes(key)))
    stored.sort()
    return [_parse(raw) for _, _, raw in stored]


def _maildir(path: Path) -> mailbox.Maildir:
    """The Maildir at ``path``, made (with its ``tmp``, ``new`` and ``cur``) if need be, even in an existing
    directory (``mailbox.Maildir`` would only make them in a new one)."""
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(path, create=False)


def _parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message
