import uuid
from collections.abc import Collection
from dataclasses import asdict, fields

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters.orm import permanences
from services.notifications.domain.model import Permanence

_PERMANENCE_COLUMNS = [permanences.c[f.name] for f in fields(Permanence)]


class PermanenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, permanence: Permanence) -> None:
        """The permanence as published (a re-publication keeps the seats already taken)."""
        values = asdict(permanence)
        del values["id"]
        result = await self.session.execute(
            update(permanences).where(permanences.c.id == permanence.id).values(**values)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            await self.session.execute(insert(permanences).values(id=permanence.id, **values))

    async def get(self, permanence_id: uuid.UUID) -> Permanence | None:
        row = (
            await self.session.execute(select(*_PERMANENCE_COLUMNS).where(permanences.c.id == permanence_id))
        ).first()
        return None if row is None else Permanence(**row._mapping)

    async def many(self, permanence_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Permanence]:
        query = select(*_PERMANENCE_COLUMNS).where(permanences.c.id.in_(permanence_ids))
        return {row.id: Permanence(**row._mapping) for row in await self.session.execute(query)}

    async def list(
        self, *, plan_id: uuid.UUID | None, limit: int, offset: int, territories: Collection[str] | None = None
    ) -> list[Permanence]:
        """Permanences by start; only those of ``territories`` unless it is None."""
        query = (
            select(*_PERMANENCE_COLUMNS).order_by(permanences.c.starts_at, permanences.c.id).limit(limit).offset(offset)
        )
        if plan_id is not None:
            query = query.where(permanences.c.plan_id == plan_id)
        if territories is not None:
            query = query.where(permanences.c.territory.in_(territories))
        return [Permanence(**row._mapping) for row in await self.session.execute(query)]

    async def take_seat(self, permanence_id: uuid.UUID) -> bool:
        """One more usager in the permanence, if it has room (``Permanence.has_room``); False when full.

        A single conditional UPDATE, so concurrent bookings cannot overfill it: on Postgres the
        second writer waits for the first and re-reads the row, on SQLite writers are serialised.
        """
        result = await self.session.execute(
            update(permanences)
            .where(
                permanences.c.id == permanence_id,
                or_(permanences.c.capacity.is_(None), permanences.c.booked < permanences.c.capacity),
            )
            .values(booked=permanences.c.booked + 1)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release_seat(self, permanence_id: uuid.UUID) -> None:
        await self.session.execute(
            update(permanences)
            .where(permanences.c.id == permanence_id, permanences.c.booked > 0)
            .values(booked=permanences.c.booked - 1)
        )

    async def booked(self, permanence_id: uuid.UUID) -> int:
        return int(
            await self.session.scalar(select(permanences.c.booked).where(permanences.c.id == permanence_id)) or 0
        )

    async def territories_of(self, conseiller_id: uuid.UUID) -> set[str]:
        """The territories where the conseiller holds a published permanence."""
        query = select(permanences.c.territory).where(permanences.c.conseiller_id == conseiller_id).distinct()
        return set((await self.session.scalars(query)).all())
