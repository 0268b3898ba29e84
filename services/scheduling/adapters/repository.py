"""The plans repository (the registry copy's repositories are in ``registry_copy``)."""

import uuid

from sqlalchemy import ColumnElement, RowMapping, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.scheduling.adapters.orm import permanences, plans
from services.scheduling.domain.model import Permanence, Plan, PlanStatus
from shared.db import fetch_page


class ConcurrentUpdate(RuntimeError):
    """The aggregate changed since it was read."""


class PlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen: list[Plan] = []
        self._loaded_versions: dict[uuid.UUID, int] = {}

    async def add(self, plan: Plan) -> None:
        await self.session.execute(
            insert(plans).values(
                id=plan.id,
                territory=plan.territory,
                week_start=plan.week_start,
                time_zone=plan.time_zone,
                status=plan.status.value,
                version=plan.version,
                figures=plan.figures,
                replaces=plan.replaces,
                reason=plan.reason,
            )
        )
        if plan.permanences:
            await self.session.execute(
                insert(permanences),
                [
                    {
                        "id": p.id,
                        "plan_id": plan.id,
                        "conseiller_id": p.conseiller_id,
                        "commune": p.commune,
                        "lieu": p.lieu,
                        "kind": p.kind,
                        "starts_at": p.starts_at,
                        "ends_at": p.ends_at,
                        "lieu_id": p.lieu_id,
                        "pinned": p.pinned,
                    }
                    for p in plan.permanences
                ],
            )
        self.seen.append(plan)

    async def get(self, plan_id: uuid.UUID) -> Plan | None:
        row = (await self.session.execute(select(plans).where(plans.c.id == plan_id))).first()
        if row is None:
            return None
        items = await self.session.execute(
            select(permanences).where(permanences.c.plan_id == plan_id).order_by(permanences.c.starts_at)
        )
        plan = _plan(row._mapping, [_permanence(item._mapping) for item in items])
        self._loaded_versions[plan.id] = plan.version
        self.seen.append(plan)
        return plan

    async def save_pin(self, plan: Plan, permanence: Permanence) -> None:
        await self.save_status(plan)
        await self.session.execute(
            update(permanences)
            .where(permanences.c.plan_id == plan.id, permanences.c.id == permanence.id)
            .values(pinned=permanence.pinned)
        )

    async def save_move(self, plan: Plan, moved_from: uuid.UUID, permanence: Permanence) -> None:
        """Persist a permanence moved by hand (its id may have changed from ``moved_from``) and the plan's version."""
        await self.save_status(plan)
        await self.session.execute(
            update(permanences)
            .where(permanences.c.plan_id == plan.id, permanences.c.id == moved_from)
            .values(
                id=permanence.id,
                conseiller_id=permanence.conseiller_id,
                commune=permanence.commune,
                lieu=permanence.lieu,
                starts_at=permanence.starts_at,
                ends_at=permanence.ends_at,
                lieu_id=permanence.lieu_id,
            )
        )

    async def ids(
        self,
        *,
        territories: list[str] | None,
        status: PlanStatus | None,
        replaces: uuid.UUID | None,
        limit: int,
        offset: int,
    ) -> tuple[list[uuid.UUID], int]:
        """A page of plan ids, the newest week first, and how many plans match in all."""
        where: list[ColumnElement[bool]] = []
        if territories is not None:
            where.append(plans.c.territory.in_(territories))
        if status is not None:
            where.append(plans.c.status == status.value)
        if replaces is not None:
            where.append(plans.c.replaces == replaces)
        query = select(plans.c.id).where(*where).order_by(plans.c.week_start.desc(), plans.c.id)
        rows, total = await fetch_page(self.session, query, limit, offset)
        return [row["id"] for row in rows], total

    async def save_status(self, plan: Plan) -> None:
        """Persist a status change, refusing it if another writer changed the plan meanwhile."""
        result = await self.session.execute(
            update(plans)
            .where(plans.c.id == plan.id, plans.c.version == self._loaded_versions[plan.id])
            .values(status=plan.status.value, version=plan.version)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentUpdate(f"plan {plan.id} changed concurrently")


def _plan(row: RowMapping, items: list[Permanence]) -> Plan:
    return Plan(
        id=row["id"],
        territory=row["territory"],
        week_start=row["week_start"],
        time_zone=row["time_zone"],
        permanences=items,
        status=PlanStatus(row["status"]),
        version=row["version"],
        figures=row["figures"],
        replaces=row["replaces"],
        reason=row["reason"],
    )


def _permanence(row: RowMapping) -> Permanence:
    return Permanence(
        id=row["id"],
        conseiller_id=row["conseiller_id"],
        commune=row["commune"],
        lieu=row["lieu"],
        kind=row["kind"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        lieu_id=row["lieu_id"],
        pinned=row["pinned"],
    )


async def published_permanences(
    session: AsyncSession, *, conseiller_id: uuid.UUID | None = None, lieu_id: uuid.UUID | None = None
) -> list[tuple[uuid.UUID, str, Permanence]]:
    """(plan id, time zone, permanence) of published plans, for one conseiller or one lieu."""
    query = (
        select(permanences, plans.c.time_zone)
        .join(plans, plans.c.id == permanences.c.plan_id)
        .where(plans.c.status == PlanStatus.PUBLISHED.value)
    )
    if conseiller_id is not None:
        query = query.where(permanences.c.conseiller_id == conseiller_id)
    if lieu_id is not None:
        query = query.where(permanences.c.lieu_id == lieu_id)
    rows = (await session.execute(query)).mappings()
    return [(row["plan_id"], row["time_zone"], _permanence(row)) for row in rows]
