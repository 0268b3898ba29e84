"""Usagers and their bookings into published permanences: pure Python, no I/O.

Rules:
- an usager is reachable: a phone number or an e-mail address, and a channel that can carry the
  message (``contacts.choose_channel``: SMS needs a mobile);
- an usager is booked only with their consent to be contacted, and not once anonymised;
- no booking into a permanence that has started;
- one active booking per usager per permanence;
- no more usagers than the permanence's capacity (``Permanence.has_room``, applied atomically
  by the repository when the seat is taken).

Nothing here puts a phone number or an e-mail address in an exception message or a repr.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from services.notifications.domain.contacts import (
    Channel,
    PhoneNumber,
    choose_channel,
    parse_email,
    parse_phone,
    reachable_by,
)
from services.notifications.domain.model import Permanence

MAX_NAME_LENGTH = 200


class RuleBroken(ValueError):
    """Input that breaks a rule; answered 422 naming the field (like ``contacts.InvalidContact``)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class BookingRefused(Exception):
    """A booking the current state does not allow; answered 409."""


class PermanenceFull(BookingRefused):
    def __init__(self) -> None:
        super().__init__("the permanence is full")


class AlreadyBooked(BookingRefused):
    def __init__(self) -> None:
        super().__init__("the usager is already booked into this permanence")


class PermanenceStarted(BookingRefused):
    def __init__(self) -> None:
        super().__init__("the permanence has started: it can no longer be booked")


class NoConsent(BookingRefused):
    def __init__(self) -> None:
        super().__init__("the usager has not agreed to be contacted: they cannot be booked")


class UsagerAnonymised(BookingRefused):
    def __init__(self) -> None:
        super().__init__("the usager's personal data were erased: they cannot be booked")


@dataclass(frozen=True)
class Usager:
    """Someone booked into permanences; their contacts are left out of the repr."""

    id: uuid.UUID
    name: str
    phone: PhoneNumber | None = field(repr=False)
    email: str | None = field(repr=False)
    preferred_channel: Channel
    consent: bool
    """Agreed to be contacted about their bookings; required to book."""
    territory: str
    created_at: dt.datetime
    last_booking_at: dt.datetime | None = None
    sms_opted_out: bool = False
    """Replied STOP to an SMS (``sms_replies``): no SMS goes to them until they reply START."""
    opted_out_at: dt.datetime | None = None
    anonymised_at: dt.datetime | None = None
    """When their personal data were erased (``retention.anonymised``): name replaced, no contact left."""

    @classmethod
    def register(
        cls,
        *,
        id: uuid.UUID,
        name: str,
        phone: str | None,
        email: str | None,
        preferred_channel: Channel,
        consent: bool,
        territory: str,
        now: dt.datetime,
        region: str = "FR",
    ) -> Usager:
        """A new usager from what was written down; ``InvalidContact``/``RuleBroken`` name the field at fault."""
        name = name.strip()
        if not name:
            raise RuleBroken("name", "must not be blank")
        if len(name) > MAX_NAME_LENGTH:
            raise RuleBroken("name", f"at most {MAX_NAME_LENGTH} characters")
        if not territory.strip():
            raise RuleBroken("territory", "must not be blank")
        usager = cls(
            id=id,
            name=name,
            phone=parse_phone(phone, region) if phone is not None and phone.strip() else None,
            email=parse_email(email) if email is not None and email.strip() else None,
            preferred_channel=preferred_channel,
            consent=consent,
            territory=territory,
            created_at=now,
        )
        usager.channel()  # refuses an usager who cannot be reached
        return usager

    def channel(self) -> Channel:
        """The channel their messages go by (``contacts.choose_channel``); e-mail, when they have one,
        once they replied STOP to an SMS."""
        if self.sms_opted_out and self.email is not None:
            return "email"
        return choose_channel(self.phone, self.email, self.preferred_channel)

    def booked(self, now: dt.datetime) -> Usager:
        return replace(self, last_booking_at=now)


def channel_of(*, has_phone: bool, has_email: bool, preferred: Channel, sms_opted_out: bool) -> Channel | None:
    """``Usager.channel`` from which contacts an usager has, without reading them: a phone kept is a mobile
    wherever SMS is the channel (registration refuses any other), so only whether there is one matters. None
    for an usager with no contact left (anonymised)."""
    if sms_opted_out and has_email:
        return "email"
    return reachable_by(has_phone, has_email, preferred)


@dataclass(frozen=True)
class BookedContacts:
    """How many active bookings of a permanence are of usagers with these contacts (not the contacts themselves)."""

    permanence_id: uuid.UUID
    has_phone: bool
    has_email: bool
    preferred_channel: Channel
    sms_opted_out: bool
    bookings: int


def booked_by_channel(
    permanence_ids: Iterable[uuid.UUID], booked: Iterable[BookedContacts]
) -> dict[uuid.UUID, dict[Channel, int]]:
    """Each permanence's active bookings by the channel their usager is told by (``channel_of``); those of
    an usager who cannot be reached (anonymised), or replied STOP and has no e-mail, count under neither."""
    counts: dict[uuid.UUID, dict[Channel, int]] = {i: {"sms": 0, "email": 0} for i in permanence_ids}
    for b in booked:
        channel = channel_of(
            has_phone=b.has_phone, has_email=b.has_email, preferred=b.preferred_channel, sms_opted_out=b.sms_opted_out
        )
        if channel == "sms" and b.sms_opted_out:
            continue  # their messages are skipped (dispatch.decide): no one tells them
        if channel is not None and b.permanence_id in counts:
            counts[b.permanence_id][channel] += b.bookings
    return counts


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Booking:
    id: uuid.UUID
    usager_id: uuid.UUID
    permanence_id: uuid.UUID
    status: BookingStatus
    created_at: dt.datetime
    cancelled_at: dt.datetime | None = None
    cancel_reason: str | None = None
    """Why it was cancelled, when not by the usager (their permanence was cancelled, or moved to a full one)."""
    version: int = 1
    """Raised each time the booking moves to another permanence: the messages about it name their version."""

    @property
    def active(self) -> bool:
        return self.status is BookingStatus.BOOKED

    def cancelled(self, now: dt.datetime, reason: str | None = None) -> Booking:
        """Cancelled at ``now``; a booking cancelled already stays as it was (cancelling is idempotent)."""
        if not self.active:
            return self
        return replace(self, status=BookingStatus.CANCELLED, cancelled_at=now, cancel_reason=reason)

    def moved_to(self, permanence_id: uuid.UUID) -> Booking:
        """The booking in the permanence that replaces its own (a cancelled booking does not move)."""
        if not self.active or permanence_id == self.permanence_id:
            return self
        return replace(self, permanence_id=permanence_id, version=self.version + 1)


def book(id: uuid.UUID, usager: Usager, permanence: Permanence, active: Booking | None, now: dt.datetime) -> Booking:
    """A booking of ``usager`` into ``permanence``, ``active`` being their active booking there if any.

    The capacity is not checked here but when the seat is taken (atomically, in the database).
    """
    if usager.anonymised_at is not None:
        raise UsagerAnonymised()
    if not usager.consent:
        raise NoConsent()
    if permanence.has_started(now):
        raise PermanenceStarted()
    if active is not None:
        raise AlreadyBooked()
    return Booking(id, usager.id, permanence.id, BookingStatus.BOOKED, now)
