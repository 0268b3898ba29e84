"""``SmtpEmailGateway``: the ``EmailGateway`` over SMTP (stdlib ``smtplib``, in a worker thread).

One connection per e-mail: connect, EHLO, STARTTLS (``SMTP_STARTTLS``), AUTH (when ``SMTP_USERNAME`` is set), then
``MAIL FROM``, ``RCPT TO`` and ``DATA``. The mail is text/plain UTF-8 with ``From``, ``To``, ``Subject``, ``Date``
and the ``Message-ID`` the caller gives, exactly as given.

How a failure maps (``gateways.py``):

- the connection refused or lost, a timeout, a TLS error, a 4xx reply, a failed or missing AUTH (530, 534, 535,
  538), a refused greeting or EHLO (the service's configuration or the server's state, not this e-mail's fault)
  → ``TransientFailure``;
- once the ``DATA`` command went out, a timeout or a lost connection → ``InDoubt``: the server may have taken it;
- a 5xx reply to ``MAIL FROM``, ``RCPT TO`` or ``DATA`` (550 mailbox unavailable, 553 bad address, 552 too big),
  an address that cannot go in a header, a non-ASCII address the server cannot take → ``PermanentFailure``.

No address ever appears in what is raised: the reasons are fixed texts ("SMTP 550 recipient refused") and the
``smtplib`` exception, which names the recipient, is neither the cause nor the context of the failure raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import smtplib
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from pydantic import SecretStr

from services.notifications.adapters.gateways import (
    Accepted,
    InDoubt,
    PermanentFailure,
    SendFailed,
    TransientFailure,
)
from services.notifications.settings import NotificationsSettings

_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
_AUTHENTICATION_CODES = frozenset({530, 534, 535, 538})  # RFC 4954: required, too weak, failed, needs TLS


class SmtpEmailGateway:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str = "",
        password: SecretStr | None = None,
        starttls: bool = False,
        timeout_s: float = 30.0,
    ) -> None:
        self.host, self.port = host, port
        self.sender = sender
        """The ``From`` header ("Tournées <notifications@…>"); its address is also the envelope sender."""
        self._username, self._password = username, password or SecretStr("")
        self._starttls = starttls
        self._timeout_s = timeout_s

    @classmethod
    def from_settings(cls, settings: NotificationsSettings) -> SmtpEmailGateway:
        return cls(
            host=settings.smtp_host, port=settings.smtp_port, sender=settings.email_from,
            username=settings.smtp_username, password=settings.smtp_password, starttls=settings.smtp_starttls,
            timeout_s=settings.smtp_timeout_s,
        )  # fmt: skip

    async def send(self, to: str, subject: str, body: str, message_id: str) -> Accepted:
        if not _MESSAGE_ID.fullmatch(message_id):
            raise ValueError(f"a Message-ID is <id@domain>, not {message_id!r}")
        return await asyncio.to_thread(self._send, to, subject, body, message_id)

    def _send(self, to: str, subject: str, body: str, message_id: str) -> Accepted:
        failure: SendFailed
        message = self._message(subject, body, message_id)  # a ValueError here is the caller's or settings' bug
        try:
            message["To"] = to
        except ValueError:  # a line break in the address: never a valid one
            failure = PermanentFailure("invalid recipient address")
        else:
            stage = _Stage()
            try:
                self._deliver(message, to, stage)
                return Accepted(provider_sid=None)
            except (smtplib.SMTPException, OSError, UnicodeError) as error:
                failure = _failure(error, stage)
        raise failure  # outside the except: the smtplib error, which names the address, is not its context

    def _message(self, subject: str, body: str, message_id: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["Subject"] = subject
        message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        message["Message-ID"] = message_id
        message.set_content(body, subtype="plain", charset="utf-8")
        return message

    def _deliver(self, message: EmailMessage, to: str, stage: _Stage) -> None:
        # SMTPUTF8 only for addresses that need it; a display name ("Tournées") is encoded in the header instead
        international = not to.isascii() or not parseaddr(self.sender)[1].isascii()
        flat = message.as_bytes(policy=policy.SMTPUTF8 if international else policy.SMTP)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self._timeout_s)
        try:
            stage.name = "session"
            smtp.ehlo()
            if self._starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self._username:
                smtp.login(self._username, self._password.get_secret_value())
            stage.name = "mail"
            options = ["SMTPUTF8", "BODY=8BITMIME"] if international else []
            code, reply = smtp.mail(parseaddr(self.sender)[1], options)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, "")
            stage.name = "rcpt"
            code, reply = smtp.rcpt(to)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({"": (code, reply)})
            stage.name = "data"
            code, reply = smtp.data(flat)  # raises SMTPDataError when DATA is not answered 354
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
            stage.name = "done"
            with contextlib.suppress(OSError):  # smtplib's errors included: the mail is accepted already
                smtp.quit()
        finally:
            smtp.close()


class _Stage:
    """How far a delivery went: ``connect``, ``session`` (EHLO, TLS, AUTH), ``mail``, ``rcpt``, ``data``."""

    def __init__(self) -> None:
        self.name = "connect"


def _failure(error: Exception, stage: _Stage) -> SendFailed:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return _by_code(codes[0] if codes else -1, "recipient refused")
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return TransientFailure(f"SMTP {error.smtp_code} authentication failed", code=str(error.smtp_code))
    if isinstance(error, smtplib.SMTPHeloError):
        return TransientFailure(f"SMTP {error.smtp_code} greeting refused", code=str(error.smtp_code))
    if isinstance(error, smtplib.SMTPSenderRefused):
        return _by_code(error.smtp_code, "sender refused")
    if isinstance(error, smtplib.SMTPDataError):
        return _by_code(error.smtp_code, "message refused")
    if isinstance(error, smtplib.SMTPNotSupportedError):
        if stage.name == "mail":
            return PermanentFailure("SMTP server does not accept non-ASCII addresses")
        return TransientFailure("SMTP extension not supported (STARTTLS or AUTH)")
    if isinstance(error, smtplib.SMTPResponseException):
        if stage.name in ("connect", "session"):  # the server's state or our configuration, not this e-mail
            return TransientFailure(f"SMTP {error.smtp_code} refused at {stage.name}", code=str(error.smtp_code))
        return _by_code(error.smtp_code, f"error at {stage.name}")
    if isinstance(error, UnicodeError):
        return PermanentFailure("SMTP address not encodable")
    in_doubt = stage.name == "data"
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):  # smtplib wraps them
        what = "SMTP timeout"
    elif isinstance(error, ssl.SSLError):
        what = "SMTP TLS error"
    elif isinstance(error, ConnectionRefusedError):
        what = "SMTP connection refused"
    elif isinstance(error, smtplib.SMTPServerDisconnected | ConnectionError):
        what = "SMTP connection lost"
    else:
        what = f"SMTP network error ({type(error).__name__})"
    if in_doubt:
        return InDoubt(f"{what} after DATA: the server may have accepted the mail")
    return TransientFailure(f"{what} at {stage.name}")


def _by_code(code: int, what: str) -> SendFailed:
    if code in _AUTHENTICATION_CODES:  # our configuration, not this e-mail: fixed, every e-mail goes through again
        return TransientFailure(f"SMTP {code} authentication required", code=str(code))
    reason = f"SMTP {code} {what}"
    if 400 <= code < 500:
        return TransientFailure(reason, code=str(code))
    if 500 <= code < 600:
        return PermanentFailure(reason, code=str(code))
    return TransientFailure(f"SMTP unexpected reply ({what})", code=str(code))
