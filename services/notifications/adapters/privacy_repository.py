"""What privacy needs to read and change across usagers, bookings and the send log (``service_layer.privacy``)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import RowMapping, and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters.bookings_repository import _booking
from services.notifications.adapters.orm import bookings, messages, permanences, usagers
from services.notifications.domain.bookings import Booking, BookingStatus
from services.notifications.domain.messages import MessageKind, MessageStatus


@dataclass(frozen=True)
class BookingRecord:
    """One of an usager's bookings, with where and when its permanence is."""

    booking: Booking
    lieu: str
    commune: str
    commune_name: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    time_zone: str


@dataclass(frozen=True)
class MessageRecord:
    """One message of the send log to an usager (it names no contact)."""

    id: uuid.UUID
    booking_id: uuid.UUID
    kind: MessageKind
    version: int
    channel: str
    status: MessageStatus
    due_at: dt.datetime
    created_at: dt.datetime
    sent_at: dt.datetime | None


def _booking_record(row: RowMapping) -> BookingRecord:
    return BookingRecord(
        _booking(row), row["lieu"], row["commune"], row["commune_name"], row["kind"], row["starts_at"],
        row["ends_at"], row["time_zone"],
    )  # fmt: skip


class PrivacyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def bookings_of(self, usager_id: uuid.UUID) -> list[BookingRecord]:
        """Every booking of the usager, active or not, oldest first."""
        p = permanences.c
        query = (
            select(bookings, p.lieu, p.commune, p.commune_name, p.kind, p.starts_at, p.ends_at, p.time_zone)
            .join(permanences, permanences.c.id == bookings.c.permanence_id)
            .where(bookings.c.usager_id == usager_id)
            .order_by(bookings.c.created_at, bookings.c.id)
        )
        return [_booking_record(row) for row in (await self.session.execute(query)).mappings()]

    async def messages_of(self, usager_id: uuid.UUID) -> list[MessageRecord]:
        m = messages.c
        query = (
            select(m.id, m.booking_id, m.kind, m.version, m.channel, m.status, m.due_at, m.created_at, m.sent_at)
            .where(m.usager_id == usager_id)
            .order_by(m.created_at, m.due_at, m.id)
        )
        return [
            MessageRecord(**{**row, "kind": MessageKind(row["kind"]), "status": MessageStatus(row["status"])})
            for row in (await self.session.execute(query)).mappings()
        ]

    async def skip_pending_of(self, usager_id: uuid.UUID, reason: str) -> int:
        """None of the usager's messages not sent yet will be (any channel), ``reason`` recorded; how many."""
        result = await self.session.execute(
            update(messages)
            .where(messages.c.usager_id == usager_id, messages.c.status == MessageStatus.PENDING.value)
            .values(status=MessageStatus.SKIPPED.value, last_error=reason)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def past_retention(
        self, *, active_before: dt.datetime, now: dt.datetime, after: uuid.UUID | None, limit: int
    ) -> list[uuid.UUID]:
        """Up to ``limit`` usagers not anonymised, last active (booked, or registered) before ``active_before``
        and with no active booking into a permanence that has not ended at ``now``; by id, after ``after``.

        The same rule as ``retention.due_for_anonymisation``, as a query: it finds the candidates, the
        domain decides on each."""
        u = usagers.c
        still_expected = exists().where(
            bookings.c.usager_id == u.id,
            bookings.c.status == BookingStatus.BOOKED.value,
            permanences.c.id == bookings.c.permanence_id,
            permanences.c.ends_at > now,
        )
        query = (
            select(u.id)
            .where(
                u.anonymised_at.is_(None),
                or_(
                    u.last_booking_at < active_before,
                    and_(u.last_booking_at.is_(None), u.created_at < active_before),
                ),
                ~still_expected,
            )
            .order_by(u.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(u.id > after)
        return list((await self.session.scalars(query)).all())
