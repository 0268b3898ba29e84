"""The send log: which messages a booking calls for, and when they are due. Pure Python, no I/O.

- booked: a confirmation, due now, and a reminder each ``SendingRules.reminder_leads`` before the
  permanence (``quiet_hours.reminder_due``; none when it would arrive once the permanence has
  begun, or not after the confirmation or an earlier reminder: the message before says it all);
- moved: a ``moved`` message due now, and reminders for the new time (the old ones are skipped);
- cancelled with its permanence: a ``cancelled`` message due now (the pending reminder is skipped).

Every due time is out of the territory's quiet hours (``quiet_hours.next_allowed``). A message
is about one version of the booking (``Booking.version``, raised each time it moves): the send
log keeps one message per booking, kind, version and lead (reminders only: how many minutes
before the permanence), so a message can never be planned twice.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from services.notifications.domain import quiet_hours
from services.notifications.domain.bookings import Booking, Usager
from services.notifications.domain.contacts import Channel
from services.notifications.domain.model import Permanence
from services.notifications.domain.quiet_hours import QuietHours
from services.notifications.domain.sms_replies import OPT_OUT_REASON


class MessageKind(enum.StrEnum):
    CONFIRMATION = "confirmation"
    REMINDER = "reminder"
    MOVED = "moved"
    CANCELLED = "cancelled"


class MessageStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


DELIVERY_STATUS_RANKS = {
    "accepted": 0, "scheduled": 0, "queued": 0, "sending": 1, "sent": 2,
    "delivered": 3, "undelivered": 3, "failed": 3, "read": 4, "canceled": 3,
}  # fmt: skip
"""Twilio's message statuses in the order a message goes through them: its status callbacks can arrive out of
order (and before the sender recorded the sid), so a status never replaces a later one."""


def not_after(status: str) -> list[str]:
    """The statuses a message may be in for ``status`` to be recorded over them."""
    rank = DELIVERY_STATUS_RANKS.get(status, 3)
    return [known for known, known_rank in DELIVERY_STATUS_RANKS.items() if known_rank <= rank]


@dataclass(frozen=True)
class SendingRules:
    reminder_leads: tuple[dt.timedelta, ...] = (dt.timedelta(days=1),)
    """How long before the permanence each reminder is due: the day before, and two hours before, say."""
    quiet: QuietHours = field(default_factory=QuietHours)

    def __post_init__(self) -> None:
        if any(lead <= dt.timedelta(0) for lead in self.reminder_leads):
            raise ValueError("a reminder's lead must be positive")


def respecting_opt_out(planned: list[Message], usager: Usager) -> list[Message]:
    """An usager who replied STOP gets no SMS: their SMS stay in the log, skipped, with why."""
    if not usager.sms_opted_out:
        return planned
    skipped = MessageStatus.SKIPPED
    return [replace(m, status=skipped, last_error=OPT_OUT_REASON) if m.channel == "sms" else m for m in planned]


@dataclass(frozen=True)
class Message:
    """One message to an usager about a booking; it names no phone number nor e-mail address."""

    id: uuid.UUID
    booking_id: uuid.UUID
    usager_id: uuid.UUID
    kind: MessageKind
    version: int
    channel: Channel
    due_at: dt.datetime
    status: MessageStatus
    created_at: dt.datetime
    attempts: int = 0
    last_error: str | None = None
    sent_at: dt.datetime | None = None
    provider_sid: str | None = None
    """Twilio's sid of the sent SMS; its status callbacks name the message by it."""
    delivery_status: str | None = None
    """As Twilio's last status callback reported it ("delivered", "undelivered" …)."""
    delivery_error_code: str | None = None
    lead_minutes: int = 0
    """Which reminder (how many minutes before the permanence it is due); 0 for the other kinds."""
    next_attempt_at: dt.datetime | None = None
    """Not tried before then: held by a sender until then (its claim), or waiting after a transient failure or
    for the end of quiet hours."""
    in_doubt_since: dt.datetime | None = None
    """Set when a send may have reached the provider without its answer being recorded (a crash, a timeout): the
    next attempt first asks the provider what it accepted since then."""
    traceparent: str | None = None
    """The W3C trace context it was planned in (a booking's request, a scheduling event): its send joins that
    trace. Set by the send log when the message is planned."""


def on_booked(
    booking: Booking, channel: Channel, permanence: Permanence, rules: SendingRules, now: dt.datetime
) -> list[Message]:
    return _with_reminders(
        _message(booking, MessageKind.CONFIRMATION, channel, permanence, rules, now), permanence, rules
    )


def on_moved(
    booking: Booking, channel: Channel, permanence: Permanence, rules: SendingRules, now: dt.datetime
) -> list[Message]:
    """``booking`` as moved into ``permanence``, its new home."""
    return _with_reminders(_message(booking, MessageKind.MOVED, channel, permanence, rules, now), permanence, rules)


def on_cancelled(
    booking: Booking, channel: Channel, permanence: Permanence, rules: SendingRules, now: dt.datetime
) -> list[Message]:
    """``booking`` cancelled with its permanence."""
    return [_message(booking, MessageKind.CANCELLED, channel, permanence, rules, now)]


def _with_reminders(first: Message, permanence: Permanence, rules: SendingRules) -> list[Message]:
    planned, last_due = [first], first.due_at
    for lead in sorted(rules.reminder_leads, reverse=True):
        due = quiet_hours.reminder_due(permanence.starts_at, lead, _zone(permanence), rules.quiet)
        if due is None or due.astimezone(dt.UTC) <= last_due:
            continue
        last_due = due.astimezone(dt.UTC)
        planned.append(
            replace(first, id=uuid.uuid4(), kind=MessageKind.REMINDER, due_at=last_due, lead_minutes=_minutes(lead))
        )
    return planned


def _minutes(lead: dt.timedelta) -> int:
    return int(lead.total_seconds() // 60)


def _message(
    booking: Booking,
    kind: MessageKind,
    channel: Channel,
    permanence: Permanence,
    rules: SendingRules,
    now: dt.datetime,
) -> Message:
    due = quiet_hours.next_allowed(now, _zone(permanence), rules.quiet).astimezone(dt.UTC)
    return Message(
        id=uuid.uuid4(), booking_id=booking.id, usager_id=booking.usager_id, kind=kind, version=booking.version,
        channel=channel, due_at=due, status=MessageStatus.PENDING, created_at=now,
    )  # fmt: skip


def _zone(permanence: Permanence) -> ZoneInfo:
    return ZoneInfo(permanence.time_zone)
