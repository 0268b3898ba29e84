"""Solving a plan for a territory from scheduling's copy of the registry.

The solve runs off the event loop (CP-SAT releases the GIL while it searches), with a time
limit; its figures are kept with the draft it produces.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from services.scheduling.domain.model import Permanence, Plan, PlanError
from services.scheduling.planner import cpsat
from services.scheduling.planner.from_registry import instance_for
from services.scheduling.service_layer.handlers import TerritoryNotFound
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork

EVERYONE = 100_000  # listing limit meaning "all of them"


@dataclass(frozen=True)
class SolvePlan:
    territory: str
    week_start: dt.date
    days: int = 5
    time_limit_s: float = 20.0
    workers: int = 2
    plan_id: uuid.UUID = field(default_factory=uuid.uuid4)


class NoPlan(Exception):
    """The solver found no plan keeping every rule (or none in the time given)."""


async def solve_plan(cmd: SolvePlan, uow: SchedulingUnitOfWork) -> Plan:
    if cmd.week_start.weekday() != 0:
        raise PlanError("week_start", "must be a Monday")
    end = cmd.week_start + dt.timedelta(days=cmd.days - 1)
    async with uow:
        territory = await uow.territories.get(cmd.territory)
        if territory is None:
            raise TerritoryNotFound(cmd.territory)
        conseillers = await uow.conseillers.list(
            territories=[cmd.territory], include_archived=False, limit=EVERYONE, offset=0
        )
        lieux = await uow.lieux.list(
            territories=[cmd.territory], commune=None, include_closed=False, limit=EVERYONE, offset=0
        )
        known = {lieu.id for lieu in lieux}
        homes = [await uow.lieux.get(c.home_lieu_id) for c in conseillers if c.home_lieu_id not in known]
        lieux += [home for home in homes if home is not None]
        absences = await uow.absences.of([c.id for c in conseillers], overlapping=(cmd.week_start, end))
        demand = await uow.demand.of([c.insee for c in territory.communes])
    instance = instance_for(territory, conseillers, lieux, absences, demand, start=cmd.week_start, days=cmd.days)
    result = await asyncio.to_thread(cpsat.solve, instance, time_limit_s=cmd.time_limit_s, workers=cmd.workers)
    if result.status not in ("OPTIMAL", "FEASIBLE"):
        raise NoPlan(f"{result.status}: {'; '.join(result.notes) or 'no plan within the time limit'}")
    zone = ZoneInfo(territory.time_zone)
    by_id = {str(lieu.id): lieu for lieu in lieux}
    figures = {k: v for k, v in result.to_json().items() if k != "permanences"}
    async with uow:
        plan = Plan.draft(
            id=cmd.plan_id,
            territory=cmd.territory,
            week_start=cmd.week_start,
            time_zone=territory.time_zone,
            permanences=[
                Permanence(
                    uuid.uuid4(),
                    uuid.UUID(p.conseiller),
                    by_id[p.lieu].commune,
                    by_id[p.lieu].name,
                    p.kind,
                    dt.datetime.combine(p.date, p.start, zone),
                    dt.datetime.combine(p.date, p.end, zone),
                )
                for p in sorted(result.permanences, key=lambda p: (p.date, p.start, p.conseiller))
            ],
            conseillers={c.id: c for c in conseillers},
            figures=figures,
        )
        await uow.plans.add(plan)
        await uow.commit()
    return plan
