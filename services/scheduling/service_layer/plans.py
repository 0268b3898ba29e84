"""Plans made by hand, published, pinned, read; a conseiller's calendar."""

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from services.scheduling.adapters.repository import published_permanences
from services.scheduling.domain.commands import DraftPlan, MovePermanence, PublishPlan
from services.scheduling.domain.model import Permanence, Plan, PlanChanges, PlanStatus
from services.scheduling.domain.registry_copy import Conseiller
from services.scheduling.service_layer.errors import ConseillerNotFound, PlanNotFound
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from shared.metrics import PLANS_PUBLISHED


async def draft_plan(cmd: DraftPlan, uow: SchedulingUnitOfWork) -> Plan:
    async with uow:
        known = await uow.conseillers.by_ids(p.conseiller_id for p in cmd.permanences)
        plan = Plan.draft(
            id=cmd.plan_id,
            territory=cmd.territory,
            week_start=cmd.week_start,
            time_zone=cmd.time_zone,
            permanences=[
                Permanence(uuid.uuid4(), p.conseiller_id, p.commune, p.lieu, p.kind, p.starts_at, p.ends_at)
                for p in cmd.permanences
            ],
            conseillers=known,
        )
        await uow.plans.add(plan)
        await uow.commit()
    return plan


async def publish_plan(cmd: PublishPlan, uow: SchedulingUnitOfWork) -> Plan:
    async with uow:
        plan = await uow.plans.get(cmd.plan_id)
        if plan is None:
            raise PlanNotFound(cmd.plan_id)
        replaced = await uow.plans.get(plan.replaces) if plan.replaces else None
        plan.publish(
            replacing=replaced,
            capacities=await _atelier_capacities(plan, uow),
            commune_names=await _commune_names(plan.territory, {p.commune for p in plan.permanences}, uow),
        )
        await uow.plans.save_status(plan)
        if replaced is not None:
            await uow.plans.save_status(replaced)
        await uow.commit()
    PLANS_PUBLISHED.inc()
    return plan


@dataclass(frozen=True)
class Preview:
    """What publishing a re-plan would tell, and the names of the communes it names (by INSEE code)."""

    plan: Plan
    changes: PlanChanges
    commune_names: dict[str, str]


async def preview_changes(plan_id: uuid.UUID, uow: SchedulingUnitOfWork) -> Preview:
    """What publishing a draft re-plan would tell: the same decision ``publish_plan`` makes."""
    async with uow:
        plan = await uow.plans.get(plan_id)
        if plan is None:
            raise PlanNotFound(plan_id)
        replaced = await uow.plans.get(plan.replaces) if plan.replaces else None
        changes = plan.changes_on_publishing(replaced)
        communes = {p.commune for p in [*plan.permanences, *(c.old for c in changes.changes)]}
        return Preview(plan, changes, await _commune_names(plan.territory, communes, uow))


async def _atelier_capacities(plan: Plan, uow: SchedulingUnitOfWork) -> dict[uuid.UUID, int]:
    """The capacity of each lieu where the plan holds an atelier (from scheduling's copy of the registry)."""
    capacities: dict[uuid.UUID, int] = {}
    for lieu_id in {p.lieu_id for p in plan.permanences if p.kind == "atelier" and p.lieu_id is not None}:
        lieu = await uow.lieux.get(lieu_id)
        if lieu is not None:
            capacities[lieu_id] = lieu.capacity
    return capacities


async def _commune_names(code: str, wanted: set[str], uow: SchedulingUnitOfWork) -> dict[str, str]:
    """The name of each commune ``wanted``, by INSEE code (from scheduling's copy of the registry): the
    territory's, else any territory's that has it; a commune in none has no name."""
    territory = await uow.territories.get(code)
    names = {c.insee: c.name for c in territory.communes} if territory is not None else {}
    found = {insee: names[insee] for insee in wanted if insee in names}
    return found | await uow.territories.commune_names(wanted - found.keys())


async def pin_permanence(plan_id: uuid.UUID, permanence_id: uuid.UUID, pinned: bool, uow: SchedulingUnitOfWork) -> Plan:
    async with uow:
        plan = await uow.plans.get(plan_id)
        if plan is None:
            raise PlanNotFound(plan_id)
        permanence = plan.pin(permanence_id, pinned)
        await uow.plans.save_pin(plan, permanence)
        await uow.commit()
    return plan


async def move_permanence(cmd: MovePermanence, uow: SchedulingUnitOfWork) -> Plan:
    """Move a permanence of a draft by hand (``Plan.move``): to a conseiller and a lieu of the copy."""
    async with uow:
        plan = await uow.plans.get(cmd.plan_id)
        if plan is None:
            raise PlanNotFound(cmd.plan_id)
        replaced = await uow.plans.get(plan.replaces) if plan.replaces else None
        conseiller = (await uow.conseillers.by_ids([cmd.conseiller_id])).get(cmd.conseiller_id)
        lieu = await uow.lieux.get(cmd.lieu_id)
        moved = plan.move(
            cmd.permanence_id, conseiller, lieu, cmd.starts_at, cmd.ends_at, replaced=replaced, fresh_id=uuid.uuid4()
        )
        await uow.plans.save_move(plan, cmd.permanence_id, moved)
        await uow.commit()
    return plan


async def calendar(conseiller_id: uuid.UUID, uow: SchedulingUnitOfWork) -> tuple[Conseiller, list[Permanence]]:
    """The conseiller and their permanences in published plans (a replaced plan's are gone)."""
    async with uow:
        found = (await uow.conseillers.by_ids([conseiller_id])).get(conseiller_id)
        if found is None:
            raise ConseillerNotFound(conseiller_id)
        items = await published_permanences(uow.session, conseiller_id=conseiller_id)
    return found, [p for _, _, p in items]


async def list_plans(
    uow: SchedulingUnitOfWork,
    *,
    territories: Collection[str] | None,
    status: PlanStatus | None = None,
    replaces: uuid.UUID | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Plan], int]:
    """A page of plans, newest week first, and how many in all."""
    async with uow:
        ids, total = await uow.plans.ids(
            territories=None if territories is None else sorted(territories), status=status, replaces=replaces,
            limit=limit, offset=offset,
        )  # fmt: skip
        found = [await uow.plans.get(plan_id) for plan_id in ids]
    return [plan for plan in found if plan is not None], total


async def get_plan(plan_id: uuid.UUID, uow: SchedulingUnitOfWork) -> Plan:
    async with uow:
        plan = await uow.plans.get(plan_id)
    if plan is None:
        raise PlanNotFound(plan_id)
    return plan
