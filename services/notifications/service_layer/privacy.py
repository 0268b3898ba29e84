"""An usager's data exported or erased on request, and erased anyway after the retention (``domain.retention``).

Erasing anonymises: the usager's row loses their name and contacts (and the hashes that find them),
their bookings and the send log stay, so counts stay right. Who may export or erase an usager is who
may read them (``access.check_territory``). Log lines name usagers by id, and callers by role: never
a phone number, an e-mail address or a name.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from services.notifications.adapters.privacy_repository import BookingRecord, MessageRecord
from services.notifications.domain import retention
from services.notifications.domain.bookings import Usager
from services.notifications.domain.retention import ERASED_REASON
from services.notifications.service_layer import access
from services.notifications.service_layer.bookings import NotFound
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.auth import Principal

log = logging.getLogger(__name__)

ERASURE_ATTEMPTS = 3


class ErasureRaced(RuntimeError):
    """The usager was booked again while being erased, each time it was tried."""


@dataclass(frozen=True)
class UsagerExport:
    """Everything notifications holds about one usager."""

    usager: Usager
    bookings: list[BookingRecord]
    messages: list[MessageRecord]


async def export_usager(usager_id: uuid.UUID, uow: NotificationsUnitOfWork, who: Principal) -> UsagerExport:
    async with uow:
        usager = await _usager(usager_id, uow, who)
        bookings = await uow.privacy.bookings_of(usager_id)
        export = UsagerExport(usager, bookings, await uow.privacy.messages_of(usager_id))
    log.info("usager %s: data exported (by a %s)", usager_id, who.role.value)
    return export


async def erase_usager(usager_id: uuid.UUID, uow: NotificationsUnitOfWork, who: Principal, now: dt.datetime) -> Usager:
    """Anonymise the usager at once: their bookings into permanences still to come are cancelled (seats
    given back), their pending messages skipped. Erasing an anonymised usager changes nothing."""
    for _ in range(ERASURE_ATTEMPTS):
        async with uow:
            usager = await _usager(usager_id, uow, who, contacts=False)  # erased whether readable or not
            if usager.anonymised_at is not None:
                return usager
            erased = retention.anonymised(usager, now)
            if not await uow.usagers.anonymise(erased, usager.last_booking_at):
                continue  # booked meanwhile: read their bookings again
            cancelled = 0
            for record in await uow.privacy.bookings_of(usager_id):
                to_come = record.booking.active and record.starts_at > now
                if to_come and await uow.bookings.cancel(record.booking.cancelled(now, ERASED_REASON)):
                    await uow.permanences.release_seat(record.booking.permanence_id)
                    cancelled += 1
            skipped = await uow.privacy.skip_pending_of(usager_id, ERASED_REASON)
            await uow.commit()
        log.info(
            "usager %s: personal data erased on request (by a %s), %d bookings cancelled, %d messages skipped",
            usager_id, who.role.value, cancelled, skipped,
        )  # fmt: skip
        return erased
    raise ErasureRaced(f"usager {usager_id} was booked again while being erased")


async def anonymise_expired(
    uow: NotificationsUnitOfWork,
    now: dt.datetime,
    retention_period: dt.timedelta,
    batch: int,
    stop: asyncio.Event | None = None,
) -> int:
    """Anonymise every usager past the retention at ``now``, ``batch`` per transaction; how many.

    Idempotent: an anonymised usager is not looked at again. Returns early, between two batches,
    once ``stop`` is set (the next sweep carries on).
    """
    after: uuid.UUID | None = None
    total = 0
    while stop is None or not stop.is_set():
        async with uow:
            candidates = await uow.privacy.past_retention(
                active_before=now - retention_period, now=now, after=after, limit=batch
            )
            anonymised = [u for u in candidates if await _anonymise_if_due(u, uow, now, retention_period)]
            await uow.commit()
        for usager_id in anonymised:
            log.info("usager %s: personal data erased, past the retention", usager_id)
        total += len(anonymised)
        if len(candidates) < batch:
            break
        after = candidates[-1]
    return total


async def _anonymise_if_due(
    usager_id: uuid.UUID, uow: NotificationsUnitOfWork, now: dt.datetime, retention_period: dt.timedelta
) -> bool:
    usager = await uow.usagers.get(usager_id, contacts=False)  # not needed, and maybe under a key gone
    if usager is None:
        return False
    ends = [record.ends_at for record in await uow.privacy.bookings_of(usager_id) if record.booking.active]
    if not retention.due_for_anonymisation(usager, ends, now, retention_period):
        return False
    if not await uow.usagers.anonymise(retention.anonymised(usager, now), usager.last_booking_at):
        return False  # booked meanwhile
    await uow.privacy.skip_pending_of(usager_id, ERASED_REASON)
    return True


async def _usager(
    usager_id: uuid.UUID, uow: NotificationsUnitOfWork, who: Principal, *, contacts: bool = True
) -> Usager:
    usager = await uow.usagers.get(usager_id, contacts=contacts)
    if usager is None:
        raise NotFound(f"no usager {usager_id}")
    await access.check_territory(who, usager.territory, uow)
    return usager
