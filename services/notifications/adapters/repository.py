import uuid
from dataclasses import asdict

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters.orm import permanences
from services.notifications.domain.model import Permanence


class PermanenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, permanence: Permanence) -> None:
        values = asdict(permanence)
        del values["id"]
        result = await self.session.execute(
            update(permanences).where(permanences.c.id == permanence.id).values(**values)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            await self.session.execute(insert(permanences).values(id=permanence.id, **values))

    async def list(self, *, plan_id: uuid.UUID | None, limit: int, offset: int) -> list[Permanence]:
        query = select(permanences).order_by(permanences.c.starts_at, permanences.c.id).limit(limit).offset(offset)
        if plan_id is not None:
            query = query.where(permanences.c.plan_id == plan_id)
        return [Permanence(**row._mapping) for row in await self.session.execute(query)]
