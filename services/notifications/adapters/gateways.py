"""What the sender needs from the SMS provider and the mail server, and how a send can fail.

The sender (``service_layer.sender``) only sees these: ``TwilioSmsGateway`` and ``SmtpEmailGateway``
implement them for real; tests point them at the fake Twilio and the SMTP sink.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol


class SendFailed(Exception):
    """A send that did not go through; ``reason`` names why without any phone number or address."""

    def __init__(self, reason: str, *, code: str | None = None, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.retry_after_s = retry_after_s


class TransientFailure(SendFailed):
    """Worth trying again later (429, 5xx, a timeout, a connection refused)."""

    in_doubt: bool = False


class InDoubt(TransientFailure):
    """Tried again later, but the provider may have accepted it (a timeout, a 5xx after the request went out):
    before the next attempt the sender asks the provider whether it did (``SmsGateway.find_accepted``)."""

    in_doubt = True


class PermanentFailure(SendFailed):
    """Never worth trying again (an invalid number, a recipient who opted out, a refused address)."""


@dataclass(frozen=True)
class Accepted:
    provider_sid: str | None
    """The provider's id of the message (Twilio's ``SM…`` sid); None for e-mail."""


class SmsGateway(Protocol):
    sender: str
    """The number (or messaging service) messages go from: rate limits are per sender."""

    async def send(self, to: str, body: str) -> Accepted:
        """Hand one SMS to the provider; raises a ``SendFailed``."""
        ...

    async def find_accepted(self, to: str, body: str, since: dt.datetime, known: Collection[str]) -> str | None:
        """The sid of a message the provider accepted to ``to`` with that exact body since ``since``, other than the
        ``known`` sids; None when there is none. Raises ``TransientFailure`` when the provider cannot tell now."""
        ...


class EmailGateway(Protocol):
    async def send(self, to: str, subject: str, body: str, message_id: str) -> Accepted:
        """Hand one e-mail to the mail server, its ``Message-ID`` header being ``message_id`` (the same on every
        attempt, so that a mail resent after a crash can be recognised as the same one); raises a ``SendFailed``."""
        ...
