"""The plans repository (the registry copy's repositories are in ``registry_copy``)."""

import uuid

from sqlalchemy import RowMapping, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.scheduling.adapters.orm import permanences, plans
from services.scheduling.domain.model import Permanence, Plan, PlanStatus


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
    )
