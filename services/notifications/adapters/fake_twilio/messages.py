"""The fake's Message resource, its validation and Twilio's error body (sources in the package docstring)."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any

API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")

# GSM 03.38: the basic character set (one septet each) and its extension table (an escape and a septet each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# Twilio's default opt-out and opt-in keywords; ARRET and ARRÊT are Tournées' own (French usagers), not Twilio's.
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ARRET", "ARRÊT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})


class TwilioError(Exception):
    """An answer in Twilio's error body: ``code``, ``message``, ``more_info``, ``status``."""

    def __init__(self, status: int, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


def new_sid(prefix: str) -> str:
    """A Twilio SID: two letters and 32 hexadecimal digits."""
    return prefix + uuid.uuid4().hex


def num_segments(body: str) -> int:
    """SMS segments: GSM-7 when every character is in GSM 03.38 (160 septets, 153 per part), else UCS-2 (70, 67).

    A part never splits an escape sequence on a real network; this count ignores that, so it can be one short.
    """
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in body):
        septets = len(body) + sum(char in GSM7_EXTENSION for char in body)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def rfc2822(moment: datetime | None) -> str | None:
    return None if moment is None else format_datetime(moment)


def keyword(body: str) -> str:
    """What Twilio compares with its keywords: the whole body, trimmed, in capitals."""
    return body.strip().upper()


@dataclass
class FakeMessage:
    """One message as the fake keeps it; ``order`` is the order the fake received it in (1, 2, …)."""

    order: int
    account_sid: str
    to: str
    from_: str | None
    body: str
    direction: str
    status: str
    created: datetime
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    sid: str = field(default_factory=lambda: new_sid("SM"))
    sent: datetime | None = None
    updated: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None

    def resource(self) -> dict[str, Any]:
        """The Message JSON: every field is a property of the spec's ``api.v2010.account.message``."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.created),
            "date_sent": rfc2822(self.sent),
            "date_updated": rfc2822(self.updated or self.created),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(num_segments(self.body)),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            "to": self.to,
            "uri": f"{uri}.json",
        }


def validate_create(form: dict[str, str], unsubscribed: set[str]) -> None:
    """Twilio's answers to a bad create, for the cases Tournées can meet."""
    to = form.get("To", "")
    if not to:
        raise TwilioError(400, 21604, "A 'To' phone number is required.")
    if not E164.match(to):
        raise TwilioError(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if not form.get("From") and not form.get("MessagingServiceSid"):
        raise TwilioError(400, 21603, "A 'From' phone number is required.")
    if not form.get("Body"):
        raise TwilioError(400, 21602, "Message body is required.")
    if to in unsubscribed:
        raise TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")
