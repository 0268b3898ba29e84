"""A plan checked as it stands (after hand moves, say): the rules it breaks and its figures, as a solve
of its territory and week would count them (``planning.load_as_planned``).

Only the permanences at a registry lieu are checked and counted (a plan made by hand may name a
place freely). The pins are the plan's own and, for a re-plan, those of the plan it replaces: a
re-plan may have had to drop one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from zoneinfo import ZoneInfo

from services.scheduling.domain.model import Permanence, Plan
from services.scheduling.domain.plan_check import Names, PlanCheck, unchecked, warnings_of
from services.scheduling.planner import instance as planner
from services.scheduling.planner.checker import findings
from services.scheduling.planner.recurrences import as_held
from services.scheduling.planner.result import evaluate, figures_json
from services.scheduling.service_layer import planning
from services.scheduling.service_layer.errors import TerritoryNotFound
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork


async def check(plan: Plan, uow: SchedulingUnitOfWork) -> PlanCheck:
    try:
        loaded = await planning.load_as_planned(uow, plan)
    except TerritoryNotFound:
        return unchecked(plan.territory)
    zone = ZoneInfo(loaded.instance.time_zone)
    pins = tuple(planning.kept_pin(planning.planned(p, zone)) for p in await _pinned(plan, uow))
    instance = _housed(replace(loaded.instance, pins=pins))
    ids = {as_held(instance, planning.planned(p, zone)): p.id for p in plan.permanences if p.lieu_id is not None}
    names = Names(
        conseillers={str(c.id): c.name for c in loaded.conseillers},
        lieux={str(lieu.id): lieu.name for lieu in loaded.lieux},
    )
    warnings = warnings_of(findings(instance, list(ids)), ids, names)
    return PlanCheck(tuple(warnings), figures_json(evaluate(instance, _known(instance, ids))))


async def _pinned(plan: Plan, uow: SchedulingUnitOfWork) -> list[Permanence]:
    """The pinned permanences at a registry lieu of the plan and of the plan it replaces."""
    async with uow:
        replaced = await uow.plans.get(plan.replaces) if plan.replaces else None
    everyone = [*plan.permanences, *(replaced.permanences if replaced else ())]
    return [p for p in everyone if p.pinned and p.lieu_id is not None]


def _housed(instance: planner.Instance) -> planner.Instance:
    """Without the conseillers whose home lieu the copy lacks (their days cannot be measured: the checker tells
    of their permanences as of an unknown conseiller's)."""
    lieux = {lieu.id for lieu in instance.lieux}
    return replace(instance, conseillers=tuple(c for c in instance.conseillers if c.home_lieu in lieux))


def _known(instance: planner.Instance, planned: Iterable[planner.Permanence]) -> tuple[planner.Permanence, ...]:
    """Those whose conseiller and lieu the instance has (the checker tells of the others)."""
    conseillers = {c.id for c in instance.conseillers}
    lieux = {lieu.id for lieu in instance.lieux}
    return tuple(p for p in planned if p.conseiller in conseillers and p.lieu in lieux)
