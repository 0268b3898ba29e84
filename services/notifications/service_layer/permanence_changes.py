"""Permanences moved or cancelled by a re-plan: their usagers follow, and are told.

Each event is applied once (the inbox); a second event with the same content finds no active
booking left in the old permanence, and the send log keeps one message per booking, kind and
version: no usager is told twice.
"""

from __future__ import annotations

import datetime as dt
import logging

from services.notifications.domain import messages
from services.notifications.domain.bookings import Booking, Usager
from services.notifications.domain.messages import MessageKind, SendingRules
from services.notifications.domain.model import Permanence
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.events import Envelope, PermanenceCancelled, PermanenceMoved

log = logging.getLogger(__name__)

PERMANENCE_CHANGES_CONSUMER = "notifications-permanence-changes"
NO_ROOM = "the permanence it moved to is full"


async def move_permanence(
    envelope: Envelope, event: PermanenceMoved, uow: NotificationsUnitOfWork, rules: SendingRules, now: dt.datetime
) -> None:
    """The new permanence becomes bookable; every active booking of the old one moves to it (a seat each),
    with a ``moved`` message and a reminder for the new time. A booking with no seat left is cancelled."""
    async with uow:
        if not await uow.begin_applying(PERMANENCE_CHANGES_CONSUMER, envelope):
            return
        old = await uow.permanences.get(event.permanence_id)
        if old is None:
            log.warning("permanence %s moved but unknown here: nothing booked into it", event.permanence_id)
            await uow.commit()
            return
        new = Permanence.published(event.plan_id, old.territory, event.to)
        await uow.permanences.upsert(new)
        for booking in await uow.bookings.active_in(old.id):
            await uow.permanences.release_seat(old.id)
            if not await uow.permanences.take_seat(new.id):
                await _cancel(booking, old, NO_ROOM, uow, rules, now)
                continue
            moved = booking.moved_to(new.id)
            await uow.bookings.move(moved)
            await uow.messages.skip_pending(booking.id, MessageKind.REMINDER)
            usager = await _usager(moved, uow)
            if usager.anonymised_at is None:  # an anonymised usager has no contact left to tell
                planned = messages.on_moved(moved, usager.channel(), new, rules, now)
                await uow.messages.add(messages.respecting_opt_out(planned, usager))
        await uow.commit()
    log.info("permanence %s moved to %s", old.id, new.id)


async def cancel_permanence(
    envelope: Envelope, event: PermanenceCancelled, uow: NotificationsUnitOfWork, rules: SendingRules, now: dt.datetime
) -> None:
    """Every active booking of the permanence is cancelled with the reason, with a ``cancelled`` message."""
    async with uow:
        if not await uow.begin_applying(PERMANENCE_CHANGES_CONSUMER, envelope):
            return
        permanence = await uow.permanences.get(event.permanence_id)
        if permanence is not None:
            for booking in await uow.bookings.active_in(permanence.id):
                await uow.permanences.release_seat(permanence.id)
                await _cancel(booking, permanence, event.reason, uow, rules, now)
        await uow.commit()
    log.info("permanence %s cancelled", event.permanence_id)


async def _cancel(
    booking: Booking,
    permanence: Permanence,
    reason: str,
    uow: NotificationsUnitOfWork,
    rules: SendingRules,
    now: dt.datetime,
) -> None:
    cancelled = booking.cancelled(now, reason)
    if not await uow.bookings.cancel(cancelled):
        return
    await uow.messages.skip_pending(booking.id, MessageKind.REMINDER)
    usager = await _usager(cancelled, uow)
    if usager.anonymised_at is None:  # an anonymised usager has no contact left to tell
        planned = messages.on_cancelled(cancelled, usager.channel(), permanence, rules, now)
        await uow.messages.add(messages.respecting_opt_out(planned, usager))


async def _usager(booking: Booking, uow: NotificationsUnitOfWork) -> Usager:
    usager = await uow.usagers.get(booking.usager_id)
    assert usager is not None  # a booking's usager is kept (foreign key)
    return usager
