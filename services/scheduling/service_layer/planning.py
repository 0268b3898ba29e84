"""Making plans with the solver from scheduling's copy of the registry.

These run a solve off the event loop (CP-SAT releases the GIL while it searches), with a time
limit, reporting progress; they return the draft (or the answer) without storing it: the solver
worker (``service_layer.solver``) stores it with the request it answers, in one transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from services.scheduling.domain import registry_copy as copy
from services.scheduling.domain.model import Permanence, Plan, PlanError, PlanStatus
from services.scheduling.planner import cpsat
from services.scheduling.planner import instance as planner
from services.scheduling.planner.blocks import half_of
from services.scheduling.planner.cpsat import Progress
from services.scheduling.planner.from_registry import FACE_TO_FACE_MAX, FACE_TO_FACE_MIN, instance_for
from services.scheduling.service_layer.errors import NoPlan, PlanNotFound, TerritoryNotFound
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork

EVERYONE = 100_000  # listing limit meaning "all of them"
OnProgress = Callable[[Progress], None]
DEFAULT_WEIGHTS = planner.Weights()


@dataclass(frozen=True)
class SolvePlan:
    territory: str
    week_start: dt.date
    days: int = 5
    time_limit_s: float = 20.0
    weights: planner.Weights = DEFAULT_WEIGHTS
    reach_km: float = 15.0

    def parameters(self) -> dict[str, Any]:
        return {
            "week_start": self.week_start.isoformat(),
            "days": self.days,
            "time_limit_s": self.time_limit_s,
            "weights": asdict(self.weights),
            "reach_km": self.reach_km,
        }

    @classmethod
    def of(cls, territory: str, parameters: dict[str, Any]) -> SolvePlan:
        p = parameters
        return cls(
            territory, dt.date.fromisoformat(p["week_start"]), p["days"], p["time_limit_s"],
            planner.Weights(**p["weights"]), p["reach_km"],
        )  # fmt: skip


@dataclass(frozen=True)
class Replan:
    """Re-plan a published plan from the registry as it is now, moving as little as possible; or solve a
    draft again around its pins (``make_replan``)."""

    plan_id: uuid.UUID
    reason: str
    time_limit_s: float = 10.0

    def parameters(self) -> dict[str, Any]:
        return {"plan_id": str(self.plan_id), "reason": self.reason, "time_limit_s": self.time_limit_s}

    @classmethod
    def of(cls, parameters: dict[str, Any]) -> Replan:
        p = parameters
        return cls(uuid.UUID(p["plan_id"]), p["reason"], p["time_limit_s"])


@dataclass(frozen=True)
class WhatIf:
    """How much more demand would one more conseiller, based at ``lieu_id``, cover?"""

    territory: str
    week_start: dt.date
    lieu_id: uuid.UUID
    weekly_hours: float = 35.0
    days: int = 5
    time_limit_s: float = 20.0

    def parameters(self) -> dict[str, Any]:
        return {
            "week_start": self.week_start.isoformat(),
            "lieu_id": str(self.lieu_id),
            "weekly_hours": self.weekly_hours,
            "days": self.days,
            "time_limit_s": self.time_limit_s,
        }

    @classmethod
    def of(cls, territory: str, parameters: dict[str, Any]) -> WhatIf:
        p = parameters
        return cls(
            territory, dt.date.fromisoformat(p["week_start"]), uuid.UUID(p["lieu_id"]), p["weekly_hours"], p["days"],
            p["time_limit_s"],
        )  # fmt: skip


async def make_plan(
    cmd: SolvePlan, plan_id: uuid.UUID, uow: SchedulingUnitOfWork, *, workers: int = 2, on_progress: OnProgress | None
) -> Plan:
    """A draft plan of the territory's week (not stored)."""
    if cmd.week_start.weekday() != 0:
        raise PlanError("week_start", "must be a Monday")
    return await _solve(
        uow, plan_id, cmd.territory, cmd.week_start, cmd.days, cmd.time_limit_s, workers, on_progress, previous=None,
        weights=cmd.weights, reach_km=cmd.reach_km,
    )  # fmt: skip


async def make_replan(
    cmd: Replan, new_plan_id: uuid.UUID, uow: SchedulingUnitOfWork, *, workers: int = 2,
    on_progress: OnProgress | None,
) -> Plan:  # fmt: skip
    """A re-plan (not stored): of a published plan, from the registry as it is now, moving as little as
    possible and keeping its pins; of a draft, the same week solved again around the draft's pins, replacing
    what the draft replaces (if anything: then moving as little as possible from that), with its reason."""
    async with uow:
        plan = await uow.plans.get(cmd.plan_id)
        replaced = await uow.plans.get(plan.replaces) if plan is not None and plan.replaces else None
    if plan is None:
        raise PlanNotFound(cmd.plan_id)
    published = plan.replanned_from(replaced)
    reason = plan.reason if plan.status is PlanStatus.DRAFT and plan.reason else cmd.reason
    weights, reach_km = solved_with(plan)
    return await _solve(
        uow, new_plan_id, plan.territory, plan.week_start, plan_days(plan), cmd.time_limit_s, workers, on_progress,
        previous=published, pins_from=plan, reason=reason, weights=weights, reach_km=reach_km,
    )  # fmt: skip


@dataclass(frozen=True)
class Loaded:
    territory: copy.Territory
    conseillers: list[copy.Conseiller]
    lieux: list[copy.Lieu]
    instance: planner.Instance


async def _load(
    uow: SchedulingUnitOfWork,
    code: str,
    week_start: dt.date,
    days: int,
    *,
    conseiller_ids: Collection[uuid.UUID] = (),
    lieu_ids: Collection[uuid.UUID] = (),
) -> Loaded:
    """The planner's instance for a territory's days, from the copy of the registry; with the conseillers
    and lieux of ``conseiller_ids`` and ``lieu_ids`` too, wherever they are (a plan checked as it stands
    may name one outside the territory, archived or closed)."""
    end = week_start + dt.timedelta(days=days - 1)
    async with uow:
        territory = await uow.territories.get(code)
        if territory is None:
            raise TerritoryNotFound(code)
        conseillers = await uow.conseillers.list(territories=[code], include_archived=False, limit=EVERYONE, offset=0)
        others = set(conseiller_ids) - {c.id for c in conseillers}
        conseillers += sorted((await uow.conseillers.by_ids(others)).values(), key=lambda c: c.name)
        lieux = await uow.lieux.list(territories=[code], commune=None, include_closed=False, limit=EVERYONE, offset=0)
        known = {lieu.id for lieu in lieux}
        for lieu_id in dict.fromkeys([*(c.home_lieu_id for c in conseillers), *lieu_ids]):
            if lieu_id not in known and (lieu := await uow.lieux.get(lieu_id)) is not None:
                lieux.append(lieu)
                known.add(lieu_id)
        absences = await uow.absences.of([c.id for c in conseillers], overlapping=(week_start, end))
        demand = await uow.demand.of([c.insee for c in territory.communes])
    instance = instance_for(territory, conseillers, lieux, absences, demand, start=week_start, days=days)
    return Loaded(territory, conseillers, lieux, instance)


async def load_as_planned(uow: SchedulingUnitOfWork, plan: Plan) -> Loaded:
    """The instance a solve of the plan's territory and week would have: its days (at least five, up to the
    plan's last), the objective's weights and reach its solve had, and whoever and wherever it names."""
    loaded = await _load(
        uow, plan.territory, plan.week_start, plan_days(plan),
        conseiller_ids={p.conseiller_id for p in plan.permanences},
        lieu_ids={p.lieu_id for p in plan.permanences if p.lieu_id is not None},
    )  # fmt: skip
    weights, reach_km = solved_with(plan)
    return replace(loaded, instance=replace(loaded.instance, weights=weights, reach_km=reach_km))


def plan_days(plan: Plan) -> int:
    """How many days from its Monday a plan is planned over: at least five, up to its last day."""
    zone = ZoneInfo(plan.time_zone)
    last = max((p.starts_at.astimezone(zone).date() for p in plan.permanences), default=plan.week_start)
    return max(5, (last - plan.week_start).days + 1)


def solved_with(plan: Plan) -> tuple[planner.Weights, float]:
    """The objective's weights and the usagers' reach the plan was solved with (the defaults for a plan by hand)."""
    figures = plan.figures or {}
    return planner.Weights(**figures.get("weights", {})), figures.get("reach_km", 15.0)


async def _solve(
    uow: SchedulingUnitOfWork,
    plan_id: uuid.UUID,
    code: str,
    week_start: dt.date,
    days: int,
    time_limit_s: float,
    workers: int,
    on_progress: OnProgress | None,
    *,
    previous: Plan | None,
    pins_from: Plan | None = None,
    reason: str | None = None,
    weights: planner.Weights = DEFAULT_WEIGHTS,
    reach_km: float = 15.0,
) -> Plan:
    """A draft of the territory's days; replacing ``previous`` (a published plan) if given, moving as little
    as possible from it; keeping the pins of ``pins_from`` (``previous`` if not given) unless impossible."""
    loaded = await _load(uow, code, week_start, days)
    territory, conseillers, lieux = loaded.territory, loaded.conseillers, loaded.lieux
    zone = ZoneInfo(territory.time_zone)
    pins_plan = pins_from or previous
    pinned = [p for p in pins_plan.permanences if p.pinned and p.lieu_id] if pins_plan else []
    placed = [p for p in previous.permanences if p.lieu_id] if previous else []
    instance = replace(
        loaded.instance,
        weights=weights,
        reach_km=reach_km,
        previous_plan=tuple(planned(p, zone) for p in placed),
        pins=tuple(kept_pin(planned(p, zone)) for p in pinned),
    )
    result = await asyncio.to_thread(
        cpsat.solve, instance, time_limit_s=time_limit_s, workers=workers, on_progress=on_progress
    )
    if result.status not in ("OPTIMAL", "FEASIBLE"):
        raise NoPlan(f"{result.status}: {'; '.join(result.notes) or 'no plan within the time limit'}")
    by_id = {str(lieu.id): lieu for lieu in lieux}
    # A permanence the re-plan keeps as it was keeps its id: bookings in it stay where they are.
    same = {(p.conseiller_id, p.lieu_id, p.starts_at, p.ends_at): p for p in placed}
    held_pins = {(pin.conseiller, pin.lieu, pin.date, pin.half) for pin in instance.pins}
    permanences = []
    for p in sorted(result.permanences, key=lambda p: (p.date, p.start, p.conseiller)):
        lieu = by_id[p.lieu]
        starts, ends = dt.datetime.combine(p.date, p.start, zone), dt.datetime.combine(p.date, p.end, zone)
        key = (uuid.UUID(p.conseiller), lieu.id, starts, ends)
        kept = same.get(key)
        permanences.append(
            Permanence(
                kept.id if kept else uuid.uuid4(),
                key[0],
                lieu.commune,
                lieu.name,
                p.kind,
                starts,
                ends,
                lieu.id,
                pinned=(p.conseiller, p.lieu, p.date, p.half) in held_pins,
            )
        )
    return Plan.draft(
        id=plan_id,
        territory=code,
        week_start=week_start,
        time_zone=territory.time_zone,
        permanences=permanences,
        conseillers={c.id: c for c in conseillers},
        figures={
            **{k: v for k, v in result.to_json().items() if k != "permanences"},
            "weights": asdict(weights),  # a re-plan of this plan solves with the same
            "reach_km": reach_km,
        },
        replaces=previous,
        reason=reason,
    )


async def what_if(
    cmd: WhatIf, uow: SchedulingUnitOfWork, *, workers: int = 2, on_progress: OnProgress | None
) -> dict[str, Any]:
    """Two solves, without and with the extra conseiller; the answer is not stored as a plan."""
    if cmd.week_start.weekday() != 0:
        raise PlanError("week_start", "must be a Monday")
    loaded = await _load(uow, cmd.territory, cmd.week_start, cmd.days)
    if not any(lieu.id == cmd.lieu_id for lieu in loaded.lieux):
        raise PlanError("lieu_id", "not a lieu of this territory")
    extra = planner.Conseiller(
        id="what-if",
        home_lieu=str(cmd.lieu_id),
        weekly_hours_min=round(cmd.weekly_hours * FACE_TO_FACE_MIN, 1),
        weekly_hours_max=round(cmd.weekly_hours * FACE_TO_FACE_MAX, 1),
        availability={day: frozenset(("am", "pm")) for day in range(5)},
        max_travel_minutes_per_day=180,
    )
    now = await asyncio.to_thread(
        cpsat.solve, loaded.instance, time_limit_s=cmd.time_limit_s, workers=workers, on_progress=on_progress
    )
    more = replace(loaded.instance, conseillers=(*loaded.instance.conseillers, extra))
    then = await asyncio.to_thread(
        cpsat.solve, more, time_limit_s=cmd.time_limit_s, workers=workers, on_progress=on_progress
    )
    if "UNKNOWN" in (now.status, then.status) or "INFEASIBLE" in (now.status, then.status):
        raise NoPlan(f"no answer: {now.status} without, {then.status} with the extra conseiller")
    return {
        "demand_hours": now.figures.demand_hours,
        "uncovered_hours_now": round(now.figures.uncovered_demand_hours, 1),
        "uncovered_hours_with_one_more": round(then.figures.uncovered_demand_hours, 1),
        "more_covered_hours": round(now.figures.uncovered_demand_hours - then.figures.uncovered_demand_hours, 1),
        "their_hours": then.figures.hours_by_conseiller.get("what-if", 0.0),
        "their_travel_km": round(then.figures.travel_km_by_conseiller.get("what-if", 0.0), 1),
        "gaps": {"now": now.gap, "with_one_more": then.gap},
    }


def kept_pin(p: planner.Permanence) -> planner.Pin:
    # A re-plan keeps the coordinator's pins, unless the change it answers makes one impossible.
    return planner.Pin(p.conseiller, p.lieu, p.date, p.half, unless_impossible=True)


def planned(p: Permanence, zone: ZoneInfo) -> planner.Permanence:
    starts, ends = p.starts_at.astimezone(zone), p.ends_at.astimezone(zone)
    return planner.Permanence(
        str(p.conseiller_id), str(p.lieu_id), starts.date(), half_of(starts.time()), starts.time(), ends.time(), p.kind
    )
