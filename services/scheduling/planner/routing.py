"""A baseline with OR-Tools' vehicle routing solver (``pywrapcp``) on the same instance.

Each conseiller's week is a prize-collecting vehicle route with time windows:

- One vehicle, starting and ending at the conseiller's home lieu, for the whole horizon.
- One optional visit node per block ``blocks.candidate_blocks`` offers them (so the same opening
  hours, absences, holidays, closed dates and nearest lieux as CP-SAT).
- Arc costs are travel minutes; from one day's last visit to the next day's first the route goes
  through home (the evening and morning legs), as the conseiller does.
- Dimension "time" (minutes from the horizon's start): each visit is fixed at its block's start
  and holds the conseiller until the end of its half-day window (12:30, 17:30), so no two visits
  share a half-day: one place per half-day. Drives are not timed (CP-SAT does not time the
  lunch-time drive either).
- Dimension "travel" (minutes): a visit on day d must be reached after ``d × BIG + minutes from
  home`` and left by ``d × BIG + daily limit − minutes back home``; slack carries the count over
  the night. Each day's home → visits → home travel is thereby within
  ``max_travel_minutes_per_day``, exactly.
- One dimension "hours" per week of the horizon (tenths of an hour): the contract's maximum as
  the capacity; the minimum (scaled as CP-SAT scales it) as a soft lower bound on the route's
  end, a tenth of an hour short costing as much as an hour of uncovered demand, so that it binds
  whenever it can be met.
- Dropping a visit costs the value of the demand it would cover: ``uncovered_per_hour`` times
  the smaller of the block's hours and its share of the demand still uncovered. Each commune's
  remaining demand goes to the lieu within reach of it that is nearest the conseiller's home
  (where serving it costs least), and a lieu's demand is spread evenly over the conseiller's
  blocks there (the expected value of one visit). Giving it to the lieu nearest the commune
  instead was tried: the routes then drove to each commune's own town hall though a permanence
  at home already served it (Gard, 10 s: 2,185 km of travel against 927 km).

The conseillers are routed one after the other, in order, each in a slice of the time limit;
what a route serves is taken off the demand (nearest communes first) and the rooms it fills are
closed to the next ones. One vehicle routing model for everybody at once was tried first and is
not workable at a département's size: with a few thousand optional visits the insertion
heuristics had not finished a first solution of the Gard (50 conseillers, 3,229 visits) after
20 s, and the soft bounds on hours need the solver's LP-based cumul optimiser in every move
(~300 neighbours a second). (``SetAllowedVehiclesForIndex`` is also unusable from Python in
OR-Tools 9.15: its ``absl::Span`` argument accepts no Python sequence.)

Limits, inherent to a routing model: drop penalties are per visit and add up, while coverage is
shared — a commune within reach of two visited lieux is served once, and the second visit of a
lieu only serves what the first left. The solver cannot see those diminishing returns; the
figures (``result.evaluate``) compute the real coverage afterwards, as for every method. The
order of the conseillers matters (the first ones choose first). There is no term for the
longest day (fairness) nor for moves on a re-plan, pins, ateliers and recurrences are not
modelled (an instance with recurrences raises ValueError), and there is no lower
bound: status FEASIBLE, ``objective``/``bound`` None (the solvers' own costs are in ``notes``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from services.scheduling.planner.blocks import WINDOWS, Block, candidate_blocks, home
from services.scheduling.planner.greedy import monday_of, tenths, weekly_bounds
from services.scheduling.planner.instance import Conseiller, HalfDay, Instance, Permanence
from services.scheduling.planner.result import TENTHS, PlanResult, demand_tenths, evaluate
from services.scheduling.planner.travel import CrowFlies, TravelTimes
from shared.geo import Point, great_circle_km

BIG = 100_000
"""Travel minutes set aside per day in the "travel" dimension: more than any day's limit."""
DAY = 24 * 60
MIN_SLICE_S = 0.05

Key = tuple[str, dt.date, HalfDay]


def _where(instance: Instance, lieu_id: str) -> Point:
    lieu = instance.lieu(lieu_id)
    return lieu.latitude, lieu.longitude


def _minutes(moment: dt.time) -> int:
    return moment.hour * 60 + moment.minute


class _Demand:
    """Demand over the horizon still uncovered, in tenths of an hour, per commune."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.remaining = {c.insee: demand_tenths(instance, c.demand_hours) for c in instance.communes}
        self.place = {c.insee: (c.latitude, c.longitude) for c in instance.communes}

    def nearest_first(self, lieu_id: str) -> list[str]:
        here = _where(self.instance, lieu_id)
        return sorted(
            self.instance.communes_in_reach[lieu_id], key=lambda insee: great_circle_km(here, self.place[insee])
        )

    def values(self, conseiller_home: Point, blocks: list[Block]) -> dict[Key, float]:
        """Hours of demand one visit of each block is worth (see the module docstring)."""
        from_home = {b.lieu: great_circle_km(conseiller_home, _where(self.instance, b.lieu)) for b in blocks}
        near: dict[str, list[str]] = defaultdict(list)
        for lieu_id in sorted(from_home):
            for insee in self.instance.communes_in_reach[lieu_id]:
                near[insee].append(lieu_id)
        per_lieu: dict[str, int] = defaultdict(int)
        for insee, candidates in near.items():
            if self.remaining[insee]:
                here = self.place[insee]
                cheapest = min(
                    candidates,
                    key=lambda lieu_id: (from_home[lieu_id], great_circle_km(here, _where(self.instance, lieu_id))),
                )
                per_lieu[cheapest] += self.remaining[insee]
        count: dict[str, int] = defaultdict(int)
        for b in blocks:
            count[b.lieu] += 1
        return {(b.lieu, b.date, b.half): min(b.hours, per_lieu[b.lieu] / TENTHS / count[b.lieu]) for b in blocks}

    def serve(self, block: Block) -> None:
        offered = tenths(block)
        for insee in self.nearest_first(block.lieu):
            served = min(offered, self.remaining[insee])
            self.remaining[insee] -= served
            offered -= served
            if offered == 0:
                return


def _route(
    instance: Instance,
    conseiller: Conseiller,
    blocks: list[Block],
    bounds: dict[dt.date, tuple[int, int]],
    values: dict[Key, float],
    travel: TravelTimes,
    time_limit_s: float,
) -> tuple[list[Block], int | None]:
    """One conseiller's prize-collecting route: the blocks it keeps, and the solver's cost."""
    w = instance.weights
    start = home(instance, conseiller)
    places = [start] + [_where(instance, b.lieu) for b in blocks]
    days = [-1] + [(b.date - instance.start).days for b in blocks]
    mode = conseiller.travel_mode
    between = [[travel.minutes(a, b, mode) if a != b else 0 for b in places] for a in places]
    minutes = [
        [between[i][j] if days[i] == days[j] >= 0 else between[i][0] + between[0][j] for j in range(len(places))]
        for i in range(len(places))
    ]
    manager = pywrapcp.RoutingIndexManager(len(places), 1, 0)
    routing = pywrapcp.RoutingModel(manager)
    travel_index = routing.RegisterTransitMatrix(minutes)
    if w.travel_per_minute == 1:
        routing.SetArcCostEvaluatorOfAllVehicles(travel_index)
    else:
        weighted = [[w.travel_per_minute * m for m in row] for row in minutes]
        routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(weighted))
    routing.AddDimension(travel_index, BIG, (instance.days + 1) * BIG, True, "travel")
    travel_dim = routing.GetDimensionOrDie("travel")
    occupancy = [0] + [_minutes(WINDOWS[b.half][1]) - _minutes(b.start) for b in blocks]
    horizon = (instance.days + 1) * DAY
    routing.AddDimension(routing.RegisterUnaryTransitVector(occupancy), horizon, horizon, True, "time")
    time_dim = routing.GetDimensionOrDie("time")
    routing.SetVehicleUsedWhenEmpty(True, 0)  # or an empty route's soft bound on hours would not count
    for k, (monday, (low, high)) in enumerate(sorted(bounds.items())):
        amounts = [0] + [tenths(b) if monday_of(b.date) == monday else 0 for b in blocks]
        routing.AddDimension(routing.RegisterUnaryTransitVector(amounts), 0, high, True, f"hours{k}")
        if low > 0:
            routing.GetDimensionOrDie(f"hours{k}").SetCumulVarSoftLowerBound(routing.End(0), low, w.uncovered_per_hour)
    for i, b in enumerate(blocks, start=1):
        index = manager.NodeToIndex(i)
        d = days[i] * BIG
        travel_dim.CumulVar(index).SetRange(
            d + between[0][i], d + conseiller.max_travel_minutes_per_day - between[i][0]
        )
        time_dim.CumulVar(index).SetValue(days[i] * DAY + _minutes(b.start))
        routing.AddDisjunction([index], round(w.uncovered_per_hour * values[(b.lieu, b.date, b.half)]))

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, round(time_limit_s * 1000)))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return [], None
    kept = []
    index = solution.Value(routing.NextVar(routing.Start(0)))
    while not routing.IsEnd(index):
        kept.append(blocks[manager.IndexToNode(index) - 1])
        index = solution.Value(routing.NextVar(index))
    return kept, solution.ObjectiveValue()


def solve_routing(instance: Instance, *, time_limit_s: float = 60.0, travel: TravelTimes | None = None) -> PlanResult:
    """Raises ValueError on an instance with recurrences: only CP-SAT holds them."""
    if instance.recurrences:
        raise ValueError("the routing baseline does not plan recurrences: use cpsat.solve")
    travel = travel or CrowFlies()
    started = time.perf_counter()
    deadline = started + time_limit_s
    demand = _Demand(instance)
    rooms: dict[Key, int] = defaultdict(int)
    chosen: list[Permanence] = []
    costs: list[int] = []
    unsolved: list[str] = []
    for k, c in enumerate(instance.conseillers):
        mine = list(candidate_blocks(instance, c, travel))
        bounds = weekly_bounds(instance, c, mine)
        free = [b for b in mine if rooms[(b.lieu, b.date, b.half)] < instance.lieu(b.lieu).rooms]
        slice_s = max(MIN_SLICE_S, (deadline - time.perf_counter()) / (len(instance.conseillers) - k))
        values = demand.values(home(instance, c), free)
        kept, cost = _route(instance, c, free, bounds, values, travel, slice_s)
        if cost is None:
            unsolved.append(c.id)
            continue
        costs.append(cost)
        for b in kept:
            rooms[(b.lieu, b.date, b.half)] += 1
            demand.serve(b)
            chosen.append(Permanence(c.id, b.lieu, b.date, b.half, b.start, b.end))
    notes = [f"routing cost {sum(costs)} (its own units, summed over the conseillers' routes)"]
    if unsolved:
        notes.append(f"no route found in time for {len(unsolved)} conseiller(s): {', '.join(unsolved[:5])}")
    plan = tuple(chosen)
    previous = {p.key for p in instance.previous_plan}
    return PlanResult(
        status="FEASIBLE" if not unsolved else "UNKNOWN",
        objective=None,
        bound=None,
        solve_seconds=time.perf_counter() - started,
        permanences=plan,
        figures=evaluate(instance, plan, travel),
        method="routing",
        moved=len(previous - {p.key for p in plan}),
        notes=tuple(notes),
    )
