"""Usagers (contacts encrypted at rest) and their bookings."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters.orm import bookings, permanences, usagers
from services.notifications.adapters.personal_data import PersonalDataCipher
from services.notifications.domain.bookings import BookedContacts, Booking, BookingStatus, Usager
from services.notifications.domain.contacts import parse_phone
from shared.db import fetch_page


class UsagerRepository:
    """Phone numbers (E.164) and e-mails go in encrypted, with their lookup hashes; never in clear."""

    def __init__(self, session: AsyncSession, cipher: PersonalDataCipher) -> None:
        self.session = session
        self.cipher = cipher

    async def add(self, usager: Usager) -> None:
        phone = usager.phone.e164 if usager.phone else None
        await self.session.execute(
            insert(usagers).values(
                id=usager.id,
                name=usager.name,
                phone_encrypted=self._encrypt(phone),
                phone_hash=self._hash(phone),
                email_encrypted=self._encrypt(usager.email),
                email_hash=self._hash(usager.email.lower() if usager.email else None),
                preferred_channel=usager.preferred_channel,
                consent=usager.consent,
                territory=usager.territory,
                created_at=usager.created_at,
                last_booking_at=usager.last_booking_at,
                sms_opted_out=usager.sms_opted_out,
                opted_out_at=usager.opted_out_at,
                anonymised_at=usager.anonymised_at,
            )
        )

    async def get(self, usager_id: uuid.UUID, *, contacts: bool = True) -> Usager | None:
        """The usager; without their phone number and e-mail (not decrypted) when ``contacts`` is False."""
        row = (await self.session.execute(select(usagers).where(usagers.c.id == usager_id))).mappings().first()
        return None if row is None else self._usager(row, contacts)

    async def many(self, usager_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Usager]:
        """Those usagers, by id, their contacts decrypted."""
        rows = (await self.session.execute(select(usagers).where(usagers.c.id.in_(usager_ids)))).mappings()
        return {row["id"]: self._usager(row) for row in rows}

    async def record_booking(self, usager: Usager) -> None:
        await self.session.execute(
            update(usagers).where(usagers.c.id == usager.id).values(last_booking_at=usager.last_booking_at)
        )

    async def anonymise(self, usager: Usager, last_booking_at: dt.datetime | None) -> bool:
        """Store ``usager`` anonymised (``retention.anonymised``): name replaced, contacts and their lookup
        hashes NULL. Only if not anonymised yet and not booked since ``last_booking_at`` was read; False
        otherwise (a booking made meanwhile keeps them)."""
        if usager.anonymised_at is None or usager.phone is not None or usager.email is not None:
            raise ValueError("only an anonymised usager is stored anonymised")
        last = usagers.c.last_booking_at
        booked_since = last.is_(None) if last_booking_at is None else last == last_booking_at
        result = await self.session.execute(
            update(usagers)
            .where(usagers.c.id == usager.id, usagers.c.anonymised_at.is_(None), booked_since)
            .values(
                name=usager.name,
                phone_encrypted=None,
                phone_hash=None,
                email_encrypted=None,
                email_hash=None,
                anonymised_at=usager.anonymised_at,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def with_phone(self, e164: str) -> uuid.UUID | None:
        """The usager with that phone number (E.164), found by its lookup hash (never decrypted)."""
        query = select(usagers.c.id).where(usagers.c.phone_hash == self.cipher.lookup_hash(e164)).limit(1)
        found: uuid.UUID | None = (await self.session.execute(query)).scalar()
        return found

    async def set_sms_opt_out(self, usager_id: uuid.UUID, opted_out: bool, now: dt.datetime) -> None:
        await self.session.execute(
            update(usagers)
            .where(usagers.c.id == usager_id)
            .values(sms_opted_out=opted_out, opted_out_at=now if opted_out else None)
        )

    def _encrypt(self, value: str | None) -> str | None:
        return None if value is None else self.cipher.encrypt(value)

    def _hash(self, value: str | None) -> str | None:
        return None if value is None else self.cipher.lookup_hash(value)

    def _usager(self, row: RowMapping, contacts: bool = True) -> Usager:
        phone = row["phone_encrypted"] if contacts else None
        email = row["email_encrypted"] if contacts else None
        return Usager(
            id=row["id"],
            name=row["name"],
            phone=parse_phone(self.cipher.decrypt(phone)) if phone else None,
            email=self.cipher.decrypt(email) if email else None,
            preferred_channel=row["preferred_channel"],
            consent=row["consent"],
            territory=row["territory"],
            created_at=row["created_at"],
            last_booking_at=row["last_booking_at"],
            sms_opted_out=row["sms_opted_out"],
            opted_out_at=row["opted_out_at"],
            anonymised_at=row["anonymised_at"],
        )


class BookingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, booking: Booking) -> None:
        """Insert; an IntegrityError when the usager has an active booking there already."""
        await self.session.execute(insert(bookings).values(**_values(booking)))
        await self.session.flush()

    async def get(self, booking_id: uuid.UUID) -> Booking | None:
        row = (await self.session.execute(select(bookings).where(bookings.c.id == booking_id))).mappings().first()
        return None if row is None else _booking(row)

    async def many(self, booking_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Booking]:
        rows = (await self.session.execute(select(bookings).where(bookings.c.id.in_(booking_ids)))).mappings()
        return {row["id"]: _booking(row) for row in rows}

    async def active(self, usager_id: uuid.UUID, permanence_id: uuid.UUID) -> Booking | None:
        query = select(bookings).where(
            bookings.c.usager_id == usager_id,
            bookings.c.permanence_id == permanence_id,
            bookings.c.status == BookingStatus.BOOKED.value,
        )
        row = (await self.session.execute(query)).mappings().first()
        return None if row is None else _booking(row)

    async def cancel(self, booking: Booking) -> bool:
        """Store a cancellation if the booking is still active (atomically); False when it was not."""
        result = await self.session.execute(
            update(bookings)
            .where(bookings.c.id == booking.id, bookings.c.status == BookingStatus.BOOKED.value)
            .values(status=booking.status.value, cancelled_at=booking.cancelled_at, cancel_reason=booking.cancel_reason)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def move(self, booking: Booking) -> bool:
        """Store a move (``Booking.moved_to``) if the booking is still active at its previous version."""
        result = await self.session.execute(
            update(bookings)
            .where(
                bookings.c.id == booking.id,
                bookings.c.status == BookingStatus.BOOKED.value,
                bookings.c.version == booking.version - 1,
            )
            .values(permanence_id=booking.permanence_id, version=booking.version)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def next_active_of(self, usager_id: uuid.UUID, now: dt.datetime) -> Booking | None:
        """The usager's active booking into the soonest permanence that has not begun."""
        query = (
            select(bookings)
            .join(permanences, permanences.c.id == bookings.c.permanence_id)
            .where(
                bookings.c.usager_id == usager_id,
                bookings.c.status == BookingStatus.BOOKED.value,
                permanences.c.starts_at > now,
            )
            .order_by(permanences.c.starts_at)
            .limit(1)
        )
        row = (await self.session.execute(query)).mappings().first()
        return None if row is None else _booking(row)

    async def active_in(self, permanence_id: uuid.UUID) -> list[Booking]:
        query = (
            select(bookings)
            .where(bookings.c.permanence_id == permanence_id, bookings.c.status == BookingStatus.BOOKED.value)
            .order_by(bookings.c.created_at, bookings.c.id)
        )
        return [_booking(row) for row in (await self.session.execute(query)).mappings()]

    async def of_permanence(self, permanence_id: uuid.UUID, limit: int, offset: int) -> tuple[list[Booking], int]:
        query = (
            select(bookings)
            .where(bookings.c.permanence_id == permanence_id)
            .order_by(bookings.c.created_at, bookings.c.id)
        )
        rows, total = await fetch_page(self.session, query, limit, offset)
        return [_booking(row) for row in rows], total

    async def contacts_booked(self, permanence_ids: Collection[uuid.UUID]) -> list[BookedContacts]:
        """The active bookings of those permanences, counted by which contacts their usagers have: one query,
        reading whether there is a phone number or an e-mail address, never the contacts themselves."""
        has_phone = usagers.c.phone_encrypted.is_not(None).label("has_phone")
        has_email = usagers.c.email_encrypted.is_not(None).label("has_email")
        keys = (bookings.c.permanence_id, has_phone, has_email, usagers.c.preferred_channel, usagers.c.sms_opted_out)
        query = (
            select(*keys, func.count().label("bookings"))
            .join(usagers, usagers.c.id == bookings.c.usager_id)
            .where(bookings.c.permanence_id.in_(permanence_ids), bookings.c.status == BookingStatus.BOOKED.value)
            .group_by(*keys)
        )
        return [
            BookedContacts(
                permanence_id=row["permanence_id"],
                has_phone=bool(row["has_phone"]),
                has_email=bool(row["has_email"]),
                preferred_channel=row["preferred_channel"],
                sms_opted_out=bool(row["sms_opted_out"]),
                bookings=int(row["bookings"]),
            )
            for row in (await self.session.execute(query)).mappings()
        ]


def _values(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.id,
        "usager_id": booking.usager_id,
        "permanence_id": booking.permanence_id,
        "status": booking.status.value,
        "created_at": booking.created_at,
        "cancelled_at": booking.cancelled_at,
        "cancel_reason": booking.cancel_reason,
        "version": booking.version,
    }


def _booking(row: RowMapping) -> Booking:
    return Booking(
        id=row["id"],
        usager_id=row["usager_id"],
        permanence_id=row["permanence_id"],
        status=BookingStatus(row["status"]),
        created_at=row["created_at"],
        cancelled_at=row["cancelled_at"],
        cancel_reason=row["cancel_reason"],
        version=row["version"],
    )
