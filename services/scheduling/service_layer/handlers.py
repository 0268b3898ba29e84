"""Scheduling use cases."""

import uuid

from services.scheduling.domain.commands import DraftPlan, PublishPlan
from services.scheduling.domain.model import ConseillerCopy, Permanence, Plan
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from shared.events import ConseillerRegistered, Envelope

CONSEILLERS_CONSUMER = "scheduling-conseillers"


class PlanNotFound(LookupError):
    pass


async def record_conseiller(
    envelope: Envelope, event: ConseillerRegistered, uow: SchedulingUnitOfWork
) -> None:
    """Keep the local copy of a conseiller registered in the registry (at most once per event)."""
    async with uow:
        if not await uow.begin_applying(CONSEILLERS_CONSUMER, envelope):
            return
        await uow.conseillers.upsert(
            ConseillerCopy(event.conseiller_id, event.name, event.home_commune, event.weekly_hours)
        )
        await uow.commit()


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
        plan.publish()
        await uow.plans.save_status(plan)
        await uow.commit()
    return plan


async def get_plan(plan_id: uuid.UUID, uow: SchedulingUnitOfWork) -> Plan:
    async with uow:
        plan = await uow.plans.get(plan_id)
    if plan is None:
        raise PlanNotFound(plan_id)
    return plan


async def list_conseillers(uow: SchedulingUnitOfWork) -> list[ConseillerCopy]:
    async with uow:
        return await uow.conseillers.all()
