import uuid

from sqlalchemy import RowMapping, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.adapters.orm import conseillers
from services.registry.domain.model import Conseiller


class ConseillerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen: list[Conseiller] = []

    async def add(self, conseiller: Conseiller) -> None:
        await self.session.execute(
            insert(conseillers).values(
                id=conseiller.id,
                name=conseiller.name,
                home_commune=conseiller.home_commune,
                weekly_hours=conseiller.weekly_hours,
                version=conseiller.version,
            )
        )
        self.seen.append(conseiller)

    async def get(self, conseiller_id: uuid.UUID) -> Conseiller | None:
        row = (
            await self.session.execute(select(conseillers).where(conseillers.c.id == conseiller_id))
        ).first()
        return None if row is None else _to_domain(row._mapping)

    async def list(self, *, limit: int, offset: int) -> list[Conseiller]:
        rows = await self.session.execute(
            select(conseillers).order_by(conseillers.c.name, conseillers.c.id).limit(limit).offset(offset)
        )
        return [_to_domain(row._mapping) for row in rows]


def _to_domain(row: RowMapping) -> Conseiller:
    return Conseiller(
        id=row["id"],
        name=row["name"],
        home_commune=row["home_commune"],
        weekly_hours=row["weekly_hours"],
        version=row["version"],
    )
