"""Usagers registered, booked into permanences, their bookings cancelled and listed.

Log lines name usagers and bookings by id only: never a phone number or an e-mail address.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from sqlalchemy.exc import IntegrityError

from services.notifications.domain import bookings, dispatch, messages
from services.notifications.domain.bookings import AlreadyBooked, Booking, PermanenceFull, Usager
from services.notifications.domain.commands import Book, RegisterUsager
from services.notifications.domain.messages import Message, MessageKind, SendingRules
from services.notifications.domain.model import Permanence
from services.notifications.service_layer import access
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.auth import Principal

log = logging.getLogger(__name__)


class NotFound(LookupError):
    """No such usager, permanence or booking; 404."""


async def register_usager(
    cmd: RegisterUsager, uow: NotificationsUnitOfWork, who: Principal, now: dt.datetime
) -> Usager:
    async with uow:
        await access.check_territory(who, cmd.territory, uow)
        usager = Usager.register(
            id=cmd.usager_id,
            name=cmd.name,
            phone=cmd.phone,
            email=cmd.email,
            preferred_channel=cmd.preferred_channel,
            consent=cmd.consent,
            territory=cmd.territory,
            now=now,
        )
        await uow.usagers.add(usager)
        await uow.commit()
    log.info("usager %s registered in %s, reached by %s", usager.id, usager.territory, usager.channel())
    return usager


async def get_usager(usager_id: uuid.UUID, uow: NotificationsUnitOfWork, who: Principal) -> Usager:
    async with uow:
        usager = await uow.usagers.get(usager_id)
        if usager is None:
            raise NotFound(f"no usager {usager_id}")
        await access.check_territory(who, usager.territory, uow)
        return usager


async def book(
    cmd: Book, uow: NotificationsUnitOfWork, who: Principal, now: dt.datetime, rules: SendingRules
) -> Booking:
    """Book the usager, taking one seat of the permanence atomically (``PermanenceFull`` when none is left),
    and plan its confirmation and reminder in the same transaction."""
    async with uow:
        usager = await uow.usagers.get(cmd.usager_id)
        if usager is None:
            raise NotFound(f"no usager {cmd.usager_id}")
        permanence = await _permanence(cmd.permanence_id, uow, who)
        active = await uow.bookings.active(usager.id, permanence.id)
        booking = bookings.book(cmd.booking_id, usager, permanence, active, now)
        if not await uow.permanences.take_seat(permanence.id):
            raise PermanenceFull()
        try:
            await uow.bookings.add(booking)
        except IntegrityError:  # booked by a concurrent request since `active` was read
            raise AlreadyBooked() from None
        await uow.usagers.record_booking(usager.booked(now))
        planned = messages.on_booked(booking, usager.channel(), permanence, rules, now)
        await uow.messages.add(messages.respecting_opt_out(planned, usager))
        await uow.commit()
    log.info("usager %s booked into permanence %s (booking %s)", usager.id, permanence.id, booking.id)
    return booking


async def cancel(booking_id: uuid.UUID, uow: NotificationsUnitOfWork, who: Principal, now: dt.datetime) -> Booking:
    """Cancel a booking and give its seat back; cancelling a cancelled booking changes nothing."""
    async with uow:
        booking = await uow.bookings.get(booking_id)
        if booking is None:
            raise NotFound(f"no booking {booking_id}")
        await _permanence(booking.permanence_id, uow, who)
        cancelled = booking.cancelled(now)
        if cancelled is booking or not await uow.bookings.cancel(cancelled):
            return await uow.bookings.get(booking_id) or booking  # cancelled already
        await uow.permanences.release_seat(booking.permanence_id)
        await uow.messages.skip_pending(booking.id, MessageKind.REMINDER)
        await uow.commit()
    log.info("booking %s cancelled", booking_id)
    return cancelled


async def bookings_of(
    permanence_id: uuid.UUID, uow: NotificationsUnitOfWork, who: Principal, *, limit: int, offset: int
) -> tuple[list[Booking], int]:
    async with uow:
        await _permanence(permanence_id, uow, who)
        return await uow.bookings.of_permanence(permanence_id, limit, offset)


async def messages_of(
    booking_id: uuid.UUID, uow: NotificationsUnitOfWork, who: Principal, cancel_phone: str | None = None
) -> list[tuple[Message, str | None]]:
    """The booking's send log, each message with what it says: the SMS text, or the e-mail's subject (None for a
    message about an earlier version of the booking, whose permanence it has left)."""
    async with uow:
        booking = await uow.bookings.get(booking_id)
        if booking is None:
            raise NotFound(f"no booking {booking_id}")
        permanence = await _permanence(booking.permanence_id, uow, who)
        log = await uow.messages.of_booking(booking_id)

    def says(message: Message) -> str | None:
        if message.version != booking.version:
            return None
        if message.channel == "sms":
            return dispatch.sms_text(message.kind, permanence, cancel_phone)
        return dispatch.email_content(message.kind, permanence, "").subject

    return [(message, says(message)) for message in log]


async def _permanence(permanence_id: uuid.UUID, uow: NotificationsUnitOfWork, who: Principal) -> Permanence:
    permanence = await uow.permanences.get(permanence_id)
    if permanence is None:
        raise NotFound(f"no permanence {permanence_id}")
    access.check_permanence(who, permanence)
    return permanence
