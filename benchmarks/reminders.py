"""Thousands of reminders due at once in a notifications database, for the benchmark and the SIGKILL test.

Each goes to an usager of their own (``phone(n)``): counting the SMS a provider received per number tells
which reminders arrived, which are missing and which came twice.
"""

from __future__ import annotations

import datetime as dt
import uuid

from services.notifications.bootstrap import bootstrap
from services.notifications.domain.bookings import Booking, BookingStatus, Usager
from services.notifications.domain.contacts import parse_phone
from services.notifications.domain.messages import Message, MessageKind, MessageStatus
from services.notifications.domain.model import Permanence
from services.notifications.settings import NotificationsSettings

BATCH = 1000


def phone(n: int) -> str:
    """The n-th usager's mobile number (E.164), distinct for n < 10,000,000."""
    return f"+3361{n:07d}"


async def seed_reminders(settings: NotificationsSettings, count: int, now: dt.datetime) -> None:
    """One atelier in two days at the EPN de Mortagne-au-Perche; ``count`` usagers booked into it, each with a
    reminder due a minute ago."""
    service = bootstrap(settings)
    await service.runtime.migrate()
    start = now + dt.timedelta(days=2)
    permanence = Permanence(
        id=uuid.uuid4(), plan_id=uuid.uuid4(), conseiller_id=uuid.uuid4(), commune="61293",
        commune_name="Mortagne-au-Perche", lieu="EPN de Mortagne-au-Perche", kind="atelier", starts_at=start,
        ends_at=start + dt.timedelta(hours=2), time_zone="Europe/Paris", territory="dep:61", capacity=None,
    )  # fmt: skip
    async with service.uow() as uow:
        await uow.permanences.upsert(permanence)
        await uow.commit()
    for first in range(0, count, BATCH):
        async with service.uow() as uow:
            for n in range(first, min(first + BATCH, count)):
                usager = Usager(
                    id=uuid.uuid4(), name=f"Usager {n}", phone=parse_phone(phone(n)), email=None,
                    preferred_channel="sms", consent=True, territory="dep:61", created_at=now,
                )  # fmt: skip
                booking = Booking(uuid.uuid4(), usager.id, permanence.id, BookingStatus.BOOKED, now)
                reminder = Message(
                    id=uuid.uuid4(), booking_id=booking.id, usager_id=usager.id, kind=MessageKind.REMINDER,
                    version=1, channel="sms", due_at=now - dt.timedelta(minutes=1), status=MessageStatus.PENDING,
                    created_at=now,
                )  # fmt: skip
                await uow.usagers.add(usager)
                await uow.bookings.add(booking)
                await uow.messages.add([reminder])
            await uow.commit()
    await service.runtime.engine.dispose()
