"""A greedy baseline: the plan a coordinator might make by hand, one half-day at a time.

Pass 1, demand first: half-day by half-day in date order, each conseiller in turn takes, among
their candidate blocks (``blocks.candidate_blocks``), the one worth most in the objective's own
units: the still-uncovered demand within reach it would serve (``uncovered_per_hour``) minus the
extra travel it adds to their day (``travel_per_minute``), and only if that is worth something.
Demand a block serves is taken from the nearest communes in reach first.

Pass 2, contract hours: a conseiller still under the week's minimum (scaled as CP-SAT scales it,
``contract``) takes, one at a time, the free half-day block that adds the least travel to their
day, until the minimum is reached (or no block is left: the figures report the shortfall).

It plans no atelier (their demand stays uncovered, and is counted so), and refuses an instance
with recurrences (ValueError). Both passes respect the
hard rules: one place per half-day, the lieu's rooms, the weekly maximum and the daily travel
limit; pins are placed first. No search, no bound: status FEASIBLE,
``objective``/``bound`` None; figures from ``result.evaluate`` like every other method.
``plan_objective`` recomputes the CP-SAT objective of any plan from its figures, so plans made by
different methods compare in the same units.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.scheduling.planner.blocks import Block, candidate_blocks, home
from services.scheduling.planner.contract import TENTHS, week_bounds
from services.scheduling.planner.contract import monday_of as monday_of
from services.scheduling.planner.instance import HALVES, Conseiller, HalfDay, Instance, Permanence
from services.scheduling.planner.result import PlanResult, demand_tenths, evaluate
from services.scheduling.planner.travel import CrowFlies, TravelTimes
from shared.geo import Point, great_circle_km


def tenths(block: Block) -> int:
    return round(block.hours * TENTHS)


def weekly_bounds(
    instance: Instance, conseiller: Conseiller, blocks: Iterable[Block]
) -> dict[dt.date, tuple[int, int]]:
    """Monday → (minimum, maximum) tenths of an hour that week, as CP-SAT bounds them (``contract``)."""
    return {monday: (week.minimum, week.maximum) for monday, week in week_bounds(instance, conseiller, blocks).items()}


def plan_objective(instance: Instance, result: PlanResult) -> float:
    """The CP-SAT objective (weighted minutes) of any plan, from its evaluated figures: travel,
    uncovered demand (in the same tenths of an hour as the model), the longest day, moves, hours
    short of the weekly minimums, the spread of the shares of the contracts, uncovered atelier demand."""
    w, f = instance.weights, result.figures
    demand = sum(demand_tenths(instance, c.demand_hours) for c in instance.communes)
    covered = round(sum(f.covered_hours_by_commune.values()) * TENTHS)
    short = round(sum(f.short_hours_by_conseiller.values()) * TENTHS)
    return (
        w.travel_per_minute * f.travel_minutes
        + w.uncovered_per_hour * max(0, demand - covered) / TENTHS
        + w.fairness_per_minute * f.longest_day_minutes
        + w.move_per_permanence * result.moved
        + w.short_hours_per_hour * short / TENTHS
        + w.hours_fairness_per_point * f.hours_share_spread
        + w.uncovered_atelier_per_hour * round(f.uncovered_atelier_hours * TENTHS) / TENTHS
    )


@dataclass
class _State:
    instance: Instance
    travel: TravelTimes
    remaining: dict[str, int]
    """Commune → tenths of demand over the horizon not yet served."""
    reach: dict[str, list[str]]
    """Lieu → communes in reach, nearest first."""
    rooms: dict[tuple[str, dt.date, HalfDay], int] = field(default_factory=lambda: defaultdict(int))
    week_tenths: dict[tuple[str, dt.date], int] = field(default_factory=lambda: defaultdict(int))
    day: dict[tuple[str, dt.date], dict[HalfDay, Block]] = field(default_factory=lambda: defaultdict(dict))
    chosen: list[tuple[str, Block]] = field(default_factory=list)

    def where(self, lieu_id: str) -> Point:
        lieu = self.instance.lieu(lieu_id)
        return lieu.latitude, lieu.longitude

    def day_minutes(self, c: Conseiller, stops: Iterable[Block]) -> int:
        route = [home(self.instance, c)]
        route += [self.where(b.lieu) for b in sorted(stops, key=lambda b: b.start)]
        route.append(route[0])
        return sum(self.travel.minutes(a, b, c.travel_mode) for a, b in itertools.pairwise(route))

    def extra_minutes(self, c: Conseiller, block: Block) -> int:
        held = self.day[(c.id, block.date)]
        return self.day_minutes(c, [*held.values(), block]) - self.day_minutes(c, held.values())

    def allowed(self, c: Conseiller, block: Block, high: int) -> bool:
        held = self.day[(c.id, block.date)]
        return (
            block.half not in held
            and self.rooms[(block.lieu, block.date, block.half)] < self.instance.lieu(block.lieu).rooms
            and self.week_tenths[(c.id, monday_of(block.date))] + tenths(block) <= high
            and self.day_minutes(c, [*held.values(), block]) <= c.max_travel_minutes_per_day
        )

    def serves(self, block: Block) -> int:
        """Tenths of still-uncovered demand the block would serve."""
        return min(tenths(block), sum(self.remaining[insee] for insee in self.reach[block.lieu]))

    def take(self, c: Conseiller, block: Block) -> None:
        self.rooms[(block.lieu, block.date, block.half)] += 1
        self.week_tenths[(c.id, monday_of(block.date))] += tenths(block)
        self.day[(c.id, block.date)][block.half] = block
        self.chosen.append((c.id, block))
        offered = tenths(block)
        for insee in self.reach[block.lieu]:
            served = min(offered, self.remaining[insee])
            self.remaining[insee] -= served
            offered -= served
            if offered == 0:
                break


def solve_greedy(instance: Instance, travel: TravelTimes | None = None) -> PlanResult:
    """Raises ValueError on an instance with recurrences: only CP-SAT holds them."""
    if instance.recurrences:
        raise ValueError("the greedy baseline does not plan recurrences: use cpsat.solve")
    travel = travel or CrowFlies()
    started = time.perf_counter()
    w = instance.weights
    by_id = {c.insee: c for c in instance.communes}
    reach = {
        lieu.id: sorted(
            instance.communes_in_reach[lieu.id],
            key=lambda insee: great_circle_km(
                (lieu.latitude, lieu.longitude), (by_id[insee].latitude, by_id[insee].longitude)
            ),
        )
        for lieu in instance.lieux
    }
    state = _State(
        instance, travel, {c.insee: demand_tenths(instance, c.demand_hours) for c in instance.communes}, reach
    )
    options: dict[tuple[str, dt.date, HalfDay], list[Block]] = defaultdict(list)
    bounds: dict[str, dict[dt.date, tuple[int, int]]] = {}
    for c in instance.conseillers:
        mine = list(candidate_blocks(instance, c, travel))
        bounds[c.id] = weekly_bounds(instance, c, mine)
        for block in mine:
            options[(c.id, block.date, block.half)].append(block)
    notes: list[str] = []
    conseillers = {c.id: c for c in instance.conseillers}

    for pin in instance.pins:
        c = conseillers[pin.conseiller]
        pinned = next((b for b in options[(c.id, pin.date, pin.half)] if b.lieu == pin.lieu), None)
        if pinned is None or not state.allowed(c, pinned, bounds[c.id][monday_of(pinned.date)][1]):
            notes.append(f"pin {pin.conseiller} at {pin.lieu} on {pin.date} {pin.half} breaks a rule: not placed")
        else:
            state.take(c, pinned)

    # Pass 1: demand first, half-day by half-day.
    for date in instance.dates:
        for half in HALVES:
            for c in instance.conseillers:
                high = bounds[c.id][monday_of(date)][1]
                best: tuple[float, Block] | None = None
                for block in options[(c.id, date, half)]:
                    if not state.allowed(c, block, high):
                        continue
                    value = w.uncovered_per_hour * state.serves(block) / TENTHS - w.travel_per_minute * (
                        state.extra_minutes(c, block)
                    )
                    if value > 0 and (best is None or value > best[0]):
                        best = (value, block)
                if best is not None:
                    state.take(c, best[1])

    # Pass 2: up to each week's minimum, the blocks adding the least travel.
    for c in instance.conseillers:
        for monday, (low, high) in sorted(bounds[c.id].items()):
            while state.week_tenths[(c.id, monday)] < low:
                free = [
                    block
                    for (who, date, _), blocks in options.items()
                    if who == c.id and monday_of(date) == monday
                    for block in blocks
                    if state.allowed(c, block, high)
                ]
                if not free:
                    notes.append(f"{c.id}: under the minimum hours in the week of {monday}")
                    break
                state.take(
                    c,
                    min(
                        free,
                        key=lambda b: (state.extra_minutes(c, b), -state.serves(b), -tenths(b), b.date, b.half, b.lieu),
                    ),
                )

    chosen = tuple(Permanence(who, b.lieu, b.date, b.half, b.start, b.end) for who, b in state.chosen)
    previous = {p.key for p in instance.previous_plan}
    return PlanResult(
        status="FEASIBLE",
        objective=None,
        bound=None,
        solve_seconds=time.perf_counter() - started,
        permanences=chosen,
        figures=evaluate(instance, chosen, travel),
        method="greedy",
        moved=len(previous - {p.key for p in chosen}),
        notes=tuple(notes),
    )
