"""Whether a due message goes out now, waits, or never goes; what an SMS says; when to try again. Pure Python.

A message is decided at the moment it is sent, not when it was planned: by then the booking may
have moved or been cancelled, the permanence may have begun (the service was down, say), the
usager may have replied STOP, and the clock may be in the territory's quiet hours (a catch-up
after downtime at night). Nothing late, superseded or at night goes out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from services.notifications.domain import email, quiet_hours, sms
from services.notifications.domain.bookings import Booking, Usager
from services.notifications.domain.messages import Message, MessageKind
from services.notifications.domain.model import Permanence
from services.notifications.domain.quiet_hours import QuietHours
from services.notifications.domain.sms_replies import OPT_OUT_REASON

SUPERSEDED = "superseded: the booking moved since"
BOOKING_CANCELLED = "the booking was cancelled"
TOO_LATE = "too late: the permanence has begun"
NO_PHONE = "the usager has no phone number any more"
NO_EMAIL = "the usager has no e-mail address any more"


@dataclass(frozen=True)
class Send:
    pass


@dataclass(frozen=True)
class Skip:
    reason: str


@dataclass(frozen=True)
class Postpone:
    until: dt.datetime
    """The end of the quiet hours it is in (UTC)."""


Decision = Send | Skip | Postpone


def decide(
    message: Message,
    booking: Booking,
    permanence: Permanence,
    usager: Usager,
    quiet: QuietHours,
    now: dt.datetime,
) -> Decision:
    """What to do with a due message about ``booking``, in ``permanence`` (the booking's current one)."""
    if message.version < booking.version:
        return Skip(SUPERSEDED)
    if message.kind is not MessageKind.CANCELLED and not booking.active:
        return Skip(BOOKING_CANCELLED)
    if permanence.has_started(now):
        return Skip(TOO_LATE)
    if message.channel == "sms" and usager.sms_opted_out:
        return Skip(OPT_OUT_REASON)
    if message.channel == "sms" and usager.phone is None:
        return Skip(NO_PHONE)
    if message.channel == "email" and usager.email is None:
        return Skip(NO_EMAIL)
    allowed = quiet_hours.next_allowed(now, ZoneInfo(permanence.time_zone), quiet).astimezone(dt.UTC)
    if allowed > now:
        return Skip(TOO_LATE) if permanence.has_started(allowed) else Postpone(allowed)
    return Send()


@lru_cache(maxsize=4096)
def sms_text(kind: MessageKind, permanence: Permanence, cancel_phone: str | None = None) -> str:
    """The SMS about ``permanence`` for a message of that kind: the same text every time it is composed (and
    composed once for the many usagers of one atelier)."""
    compose = {
        MessageKind.CONFIRMATION: sms.booking_confirmation_text,
        MessageKind.REMINDER: sms.reminder_text,
        MessageKind.MOVED: sms.moved_text,
        MessageKind.CANCELLED: sms.cancelled_text,
    }[kind]
    return compose(
        kind="atelier" if permanence.kind == "atelier" else "permanence",
        lieu=permanence.lieu,
        commune=permanence.commune_name,
        start=permanence.local_start(),
        cancel_phone=cancel_phone,
    )


def email_content(kind: MessageKind, permanence: Permanence, usager_name: str) -> email.EmailContent:
    """The e-mail about ``permanence`` for a message of that kind."""
    return email.compose_email(
        kind,
        name=usager_name,
        permanence_kind="atelier" if permanence.kind == "atelier" else "permanence",
        lieu=permanence.lieu,
        commune=permanence.commune_name,
        start=permanence.local_start(),
    )


def email_message_id(message: Message, domain: str) -> str:
    """The ``Message-ID`` of the e-mail of ``message``: the same on every attempt, so a copy sent again after a
    lost answer can be recognised as the same mail."""
    return f"<{message.id}@{domain}>"


@dataclass(frozen=True)
class Backoff:
    """Delays between attempts after transient failures: ``base`` doubling each attempt up to ``cap``.

    ``jitter`` (0–1, drawn by the caller) spreads retries over the upper half of the delay, so that
    messages failing together do not all come back together. A provider's ``Retry-After`` is a floor.
    """

    base: dt.timedelta = dt.timedelta(seconds=2)
    cap: dt.timedelta = dt.timedelta(minutes=10)

    def delay(self, attempts: int, jitter: float, retry_after_s: float | None = None) -> dt.timedelta:
        exponential = min(self.cap, self.base * (1 << min(max(attempts - 1, 0), 30)))
        delay = exponential * (0.5 + jitter / 2)
        if retry_after_s is not None:
            delay = max(delay, dt.timedelta(seconds=retry_after_s))
        return delay
