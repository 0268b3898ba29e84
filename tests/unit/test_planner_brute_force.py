"""On tiny instances (ateliers, recurrences, dated hours and previous plans included), the model's
optimum equals the best of every plan that keeps every rule, enumerated by brute force and valued
from the checker's own figures: travel, uncovered demand of each kind, the longest day, moves,
hours short of the weekly minimums, and the spread of the shares of the contracts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from services.scheduling.planner import cpsat
from services.scheduling.planner.checker import (
    conseiller_violations,
    day_travel,
    full_week,
    hours_share_spread,
    lieu_opening,
    short_hours,
    violations,
)
from services.scheduling.planner.checker_recurrences import holdable, occurrence_dates
from services.scheduling.planner.instance import HALVES, KINDS, Conseiller, HalfDay, Instance, Kind, Lieu, Permanence
from services.scheduling.planner.result import coverage, demand_tenths
from services.scheduling.planner.travel import CrowFlies
from shared.geo import great_circle_km
from tests.unit.test_planner_properties import rich_instances

TRAVEL = CrowFlies()
SOLVE_S = 5.0
MOST_PLANS_EACH = 300
"""Plans of each conseiller alone, before the checker sorts them: the enumeration stays quick."""

Options = dict[tuple[dt.date, HalfDay], list[Permanence | None]]


@dataclasses.dataclass(frozen=True)
class _Schedule:
    """One conseiller's permanences over the horizon, with what the objective needs of them."""

    permanences: tuple[Permanence, ...]
    travel: int
    longest: int
    short: int
    """Tenths of an hour below the weekly minimums."""
    points: int | None
    """Hours as a share of a full horizon (``checker.full_week``), in points; None if they cannot work."""


def objective(instance: Instance, plan: tuple[Permanence, ...]) -> float:
    """The model's objective of any plan, recomputed (weighted minutes)."""
    days: dict[tuple[str, dt.date], list[Permanence]] = defaultdict(list)
    for p in plan:
        days[(p.conseiller, p.date)].append(p)
    conseillers = {c.id: c for c in instance.conseillers}
    minutes = [day_travel(instance, conseillers[who], day, TRAVEL)[0] for (who, _), day in days.items()]
    short = round(sum(short_hours(instance, plan, TRAVEL).values()) * 10)
    spread = hours_share_spread(instance, plan, TRAVEL)
    return _objective(instance, plan, sum(minutes), max(minutes, default=0), short, spread, {})


def _objective(
    instance: Instance,
    plan: tuple[Permanence, ...],
    travel: int,
    longest: int,
    short: int,
    spread: int,
    memo: dict[tuple[object, ...], int],
) -> float:
    w = instance.weights
    uncovered = {kind: _uncovered(instance, plan, kind, memo) for kind in KINDS}
    held = {p.key for p in plan}
    moves = sum(1 for p in instance.previous_plan if p.key not in held)
    minutes = (
        w.travel_per_minute * travel
        + w.fairness_per_minute * longest
        + w.move_per_permanence * moves
        + w.hours_fairness_per_point * spread
    )
    tenths = (
        w.uncovered_per_hour * uncovered["permanence"]
        + w.uncovered_atelier_per_hour * uncovered["atelier"]
        + w.short_hours_per_hour * short
    )
    return (10 * minutes + tenths) / 10


def _uncovered(
    instance: Instance, plan: tuple[Permanence, ...], kind: Kind, memo: dict[tuple[object, ...], int]
) -> int:
    offered: dict[str, int] = defaultdict(int)
    for p in plan:
        if p.kind == kind:
            offered[p.lieu] += round(p.hours * 10)
    key = (kind, *sorted(offered.items()))
    if key not in memo:
        memo[key] = round(sum(coverage(instance, plan, kind).values()) * 10)
    demand = sum(demand_tenths(instance, c.demand(kind)) for c in instance.communes)
    return demand - memo[key]


def _may_host_ateliers(instance: Instance, lieu: Lieu) -> bool:
    """Six seats at least and atelier demand in reach: the checker refuses ateliers elsewhere."""
    return lieu.capacity >= 6 and any(
        c.atelier_hours > 0
        and great_circle_km((lieu.latitude, lieu.longitude), (c.latitude, c.longitude)) <= instance.reach_km
        for c in instance.communes
    )


def _options(instance: Instance, conseiller: Conseiller) -> Options:
    """Each half-day: nothing, a lieu's block of either kind, or an occurrence of a recurrence."""
    options: Options = {(d, half): [None] for d in instance.dates for half in HALVES}
    for (date, half), here in options.items():
        for lieu in instance.lieux:
            block = lieu_opening(lieu, date, half)
            if block is not None:
                held = Permanence(conseiller.id, lieu.id, date, half, block.start, block.end)
                here.append(held)
                if _may_host_ateliers(instance, lieu):
                    here.append(dataclasses.replace(held, kind="atelier"))
    for r in instance.recurrences:
        starts_in: HalfDay = "am" if r.start < dt.time(13) else "pm"
        for date in occurrence_dates(instance, r):
            if holdable(instance, r, date, TRAVEL):
                asked = Permanence(conseiller.id, r.lieu, date, starts_in, r.start, r.end, r.kind, r.id)
                options[(date, starts_in)].append(asked)
    return options


def _schedules(instance: Instance, conseiller: Conseiller) -> list[_Schedule]:
    """Every plan of one conseiller alone (each half-day: one option) that keeps the rules of one conseiller."""
    mondays = {d - dt.timedelta(days=d.weekday()) for d in instance.dates}
    full = sum(full_week(instance, conseiller, monday, TRAVEL) for monday in mondays)
    alone = dataclasses.replace(instance, conseillers=(conseiller,))
    found = []
    for choice in itertools.product(*_options(instance, conseiller).values()):
        plan = tuple(p for p in choice if p is not None)
        if conseiller_violations(instance, conseiller, list(plan), TRAVEL):
            continue
        minutes = [
            day_travel(instance, conseiller, [p for p in plan if p.date == date], TRAVEL)[0]
            for date in sorted({p.date for p in plan})
        ]
        short = round(sum(short_hours(alone, plan, TRAVEL).values()) * 10)
        points = 100 * sum(round(p.hours * 10) for p in plan) // full if full else None
        found.append(_Schedule(plan, sum(minutes), max(minutes, default=0), short, points))
    return found


def brute_force(instance: Instance) -> tuple[float, tuple[Permanence, ...]] | None:
    """The least objective over every plan that keeps every hard rule, or None when there is none."""
    per_conseiller = [_schedules(instance, c) for c in instance.conseillers]
    best: tuple[float, tuple[Permanence, ...]] | None = None
    memo: dict[tuple[object, ...], int] = {}
    for combination in itertools.product(*per_conseiller):
        plan = tuple(p for schedule in combination for p in schedule.permanences)
        points = [s.points for s in combination if s.points is not None]
        value = _objective(
            instance,
            plan,
            sum(s.travel for s in combination),
            max((s.longest for s in combination), default=0),
            sum(s.short for s in combination),
            max(points) - min(points) if len(points) > 1 else 0,
            memo,
        )
        if (best is None or value < best[0] - 1e-9) and not violations(instance, plan, TRAVEL):
            best = (value, plan)
    return best


@st.composite
def tiny_instances(draw: st.DrawFn) -> Instance:
    instance = draw(rich_instances(conseillers=(1, 2), lieux=(2, 3), days=(1, 2), communes=(1, 3), recurrences=(0, 1)))
    options = {c.id: _options(instance, c) for c in instance.conseillers}
    assume(all(math.prod(len(here) for here in mine.values()) <= MOST_PLANS_EACH for mine in options.values()))
    held = [p for mine in options.values() for here in mine.values() for p in here if p is not None]
    assume(held)
    if draw(st.booleans()):  # a previous plan: some of the blocks, which the plan may keep or move
        before = draw(st.lists(st.sampled_from(held), min_size=1, max_size=3, unique=True))
        instance = dataclasses.replace(instance, previous_plan=tuple(before))
    return instance


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tiny_instances())
def test_optimum_equals_brute_force_on_tiny_instances(instance: Instance) -> None:
    result = cpsat.solve(instance, time_limit_s=SOLVE_S, workers=2)
    best = brute_force(instance)
    event(f"status {result.status}")
    if result.status == "INFEASIBLE":
        assert best is None, f"the model says INFEASIBLE, yet this plan keeps every rule: {best}"
        return
    assert result.status == "OPTIMAL", result
    assert result.objective is not None
    reported = result.figures.short_hours_by_conseiller
    assert violations(instance, result.permanences, TRAVEL, reported_short_hours=reported) == []
    assert objective(instance, result.permanences) == pytest.approx(result.objective, abs=1e-6), (
        "the model's objective is not that of the plan it returned"
    )
    assert best is not None, "the model found a plan the brute force did not"
    assert result.objective == pytest.approx(best[0], abs=1e-6), f"brute force: {best}"
    for feature in _features(instance, result.permanences):
        event(feature)


def _features(instance: Instance, plan: tuple[Permanence, ...]) -> list[str]:
    features = ["some permanences" if plan else "no permanence"]
    features += ["an atelier"] * any(p.kind == "atelier" for p in plan)
    features += ["a recurrence held"] * any(p.recurrence for p in plan)
    features += ["a previous plan"] * bool(instance.previous_plan)
    features += ["kept a previous permanence"] * bool({p.key for p in plan} & {p.key for p in instance.previous_plan})
    features += ["two conseillers"] * (len(instance.conseillers) > 1)
    return features
