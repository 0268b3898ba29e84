"""The CP-SAT model of a round of permanences.

Variables: one boolean per (conseiller, block) the conseiller may hold (``blocks``); per
conseiller and day, a boolean per (morning lieu, afternoon lieu) pair, for the travel between
them; per (lieu, commune in reach), the tenths of an hour of the lieu's permanences that serve
that commune.

Hard rules: one place per half-day; the lieu's rooms; the contract's weekly maximum; the daily
travel limit; pins. Objective (weights in ``Weights``): travel, uncovered demand, the longest
day's travel (fairness), hours short of the weekly minimum (scaled to the half-days the
conseiller can work that week, ``contract``), the spread of the conseillers' hours as shares of
their contracts (fairness), and on re-planning each permanence that moves.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from services.scheduling.planner.blocks import Block, candidate_blocks, home
from services.scheduling.planner.contract import TENTHS, WeekBounds, week_bounds
from services.scheduling.planner.instance import HALVES, Instance, Permanence
from services.scheduling.planner.model_hours import Held, hours_spread, weekly_hours
from services.scheduling.planner.result import PlanResult, demand_tenths, evaluate, short_notes
from services.scheduling.planner.travel import CrowFlies, TravelTimes

STATUS = {
    cp_model.OPTIMAL: "OPTIMAL",
    cp_model.FEASIBLE: "FEASIBLE",
    cp_model.INFEASIBLE: "INFEASIBLE",
    cp_model.MODEL_INVALID: "MODEL_INVALID",
    cp_model.UNKNOWN: "UNKNOWN",
}
SCALE = TENTHS  # the objective is kept in integers: ten times the weighted minutes


@dataclass(frozen=True)
class Progress:
    """Where a running solve stands: the best plan found so far and the proven bound."""

    elapsed_s: float
    solutions: int
    objective: float | None
    bound: float | None

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        return 0.0 if self.objective == 0 else max(0.0, (self.objective - self.bound) / abs(self.objective))


class _Watcher(cp_model.CpSolverSolutionCallback):
    """Reports each better plan and each better bound (called from the solver's threads)."""

    def __init__(self, report: Callable[[Progress], None]) -> None:
        super().__init__()
        self._report = report
        self._started = time.perf_counter()
        self.solutions = 0
        self.objective: float | None = None
        self.bound: float | None = None

    def on_solution_callback(self) -> None:
        self.solutions += 1
        self.objective = self.objective_value / SCALE
        self.bound = self.best_objective_bound / SCALE
        self._send()

    def on_bound(self, bound: float) -> None:
        self.bound = bound / SCALE
        self._send()

    def _send(self) -> None:
        self._report(Progress(time.perf_counter() - self._started, self.solutions, self.objective, self.bound))


@dataclass
class _Model:
    model: cp_model.CpModel
    x: dict[tuple[str, Block], cp_model.IntVar]
    objective: cp_model.LinearExprT
    notes: list[str]


def solve(
    instance: Instance,
    *,
    time_limit_s: float = 60.0,
    workers: int = 2,
    travel: TravelTimes | None = None,
    log: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
) -> PlanResult:
    """``on_progress`` is called from the solver's threads at each better plan or bound."""
    travel = travel or CrowFlies()
    started = time.perf_counter()
    built = _build(instance, travel)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = max(2, workers)
    solver.parameters.log_search_progress = log
    watcher = _Watcher(on_progress) if on_progress else None
    if watcher is not None:
        solver.best_bound_callback = watcher.on_bound
    status = solver.solve(built.model, watcher)
    elapsed = time.perf_counter() - started
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return PlanResult(
            status=STATUS.get(status, str(status)),
            objective=None,
            bound=None,
            solve_seconds=elapsed,
            permanences=(),
            figures=evaluate(instance, (), travel),
            notes=tuple(built.notes),
        )
    chosen = tuple(
        Permanence(conseiller, block.lieu, block.date, block.half, block.start, block.end)
        for (conseiller, block), var in built.x.items()
        if solver.boolean_value(var)
    )
    previous = {p.key for p in instance.previous_plan}
    figures = evaluate(instance, chosen, travel)
    return PlanResult(
        status=STATUS[status],
        objective=solver.objective_value / SCALE,
        bound=solver.best_objective_bound / SCALE,
        solve_seconds=elapsed,
        permanences=chosen,
        figures=figures,
        moved=len(previous - {p.key for p in chosen}),
        notes=(*built.notes, *short_notes(figures)),
    )


def _build(instance: Instance, travel: TravelTimes) -> _Model:
    model = cp_model.CpModel()
    notes: list[str] = []
    w = instance.weights
    x: dict[tuple[str, Block], cp_model.IntVar] = {}
    for conseiller in instance.conseillers:
        for block in candidate_blocks(instance, conseiller, travel):
            x[(conseiller.id, block)] = model.new_bool_var(f"x[{conseiller.id},{block.lieu},{block.date},{block.half}]")

    by_slot: dict[tuple[str, dt.date, str], list[cp_model.IntVar]] = defaultdict(list)
    by_room: dict[tuple[str, dt.date, str], list[cp_model.IntVar]] = defaultdict(list)
    by_conseiller: dict[str, list[tuple[Block, cp_model.IntVar]]] = defaultdict(list)
    index: dict[tuple[str, str, dt.date, str], cp_model.IntVar] = {}  # (conseiller, lieu, date, half)
    for (who, block), var in x.items():
        by_slot[(who, block.date, block.half)].append(var)
        by_room[(block.lieu, block.date, block.half)].append(var)
        by_conseiller[who].append((block, var))
        index[(who, block.lieu, block.date, block.half)] = var
    for choices in by_slot.values():
        model.add_at_most_one(choices)
    for (lieu_id, _, _), holders in by_room.items():
        model.add(sum(holders) <= instance.lieu(lieu_id).rooms)

    _pins(instance, model, index, notes)
    short: list[cp_model.IntVar] = []
    held: dict[str, tuple[Held, dict[dt.date, WeekBounds]]] = {}
    for conseiller in instance.conseillers:
        mine = by_conseiller[conseiller.id]
        bounds = week_bounds(instance, conseiller, (block for block, _ in mine))
        short += weekly_hours(model, conseiller.id, mine, bounds, soft_minimum=w.short_hours_per_hour > 0)
        held[conseiller.id] = (mine, bounds)
    spread = hours_spread(model, held) if w.hours_fairness_per_point > 0 else None
    travel_terms, longest = _travel(instance, model, x, travel)
    uncovered = _coverage(instance, model, x)
    moves = _moves(instance, model, index)

    objective = cp_model.LinearExpr.weighted_sum(
        [
            cp_model.LinearExpr.sum(travel_terms),
            uncovered,
            longest,
            moves,
            cp_model.LinearExpr.sum(short),
            spread if spread is not None else 0,
        ],
        [
            SCALE * w.travel_per_minute,
            w.uncovered_per_hour,  # uncovered is in tenths of an hour already
            SCALE * w.fairness_per_minute,
            SCALE * w.move_per_permanence,
            w.short_hours_per_hour,  # so is the shortfall
            SCALE * w.hours_fairness_per_point,
        ],
    )
    model.minimize(objective)
    return _Model(model, x, objective, notes)


def _pins(
    instance: Instance, model: cp_model.CpModel, index: dict[tuple[str, str, dt.date, str], cp_model.IntVar],
    notes: list[str],
) -> None:  # fmt: skip
    for pin in instance.pins:
        var = index.get((pin.conseiller, pin.lieu, pin.date, pin.half))
        where = f"pin {pin.conseiller} at {pin.lieu} on {pin.date} {pin.half}"
        if var is None and pin.unless_impossible:
            notes.append(f"{where} dropped: it can no longer hold")
        elif var is None:
            notes.append(f"{where} breaks a rule: it cannot hold")
            model.add_bool_or([])  # no plan can keep it: the solve answers INFEASIBLE
        else:
            model.add(var == 1)


def _travel(
    instance: Instance, model: cp_model.CpModel, x: dict[tuple[str, Block], cp_model.IntVar], travel: TravelTimes
) -> tuple[list[cp_model.LinearExprT], cp_model.IntVar]:
    """Daily travel of each conseiller: home → morning lieu → afternoon lieu → home."""
    days: dict[tuple[str, dt.date], dict[str, dict[str, cp_model.IntVar]]] = defaultdict(lambda: {"am": {}, "pm": {}})
    for (who, block), var in x.items():
        days[(who, block.date)][block.half][block.lieu] = var
    terms: list[cp_model.LinearExprT] = []
    longest = model.new_int_var(0, 24 * 60, "longest_day")
    for (who, date), halves in days.items():
        c = instance.conseiller(who)
        start = home(instance, c)

        def minutes(a: tuple[float, float], b: tuple[float, float], mode: str = c.travel_mode) -> int:
            return travel.minutes(a, b, mode)

        def where(lieu_id: str) -> tuple[float, float]:
            lieu = instance.lieu(lieu_id)
            return lieu.latitude, lieu.longitude

        day: list[cp_model.LinearExprT] = []
        for half in HALVES:
            for lieu_id, var in halves[half].items():
                day.append(2 * minutes(start, where(lieu_id)) * var)
        for a, am in halves["am"].items():
            for p, pm in halves["pm"].items():
                # Holding both, the day is home → a → p → home, not two round trips: the pair
                # variable is exactly "both" (forced both ways), whatever the sign of the saving.
                saving = minutes(start, where(a)) + minutes(start, where(p)) - minutes(where(a), where(p))
                if saving == 0:
                    continue
                both = model.new_bool_var(f"pair[{who},{date},{a},{p}]")
                model.add_implication(both, am)
                model.add_implication(both, pm)
                model.add_bool_or([am.negated(), pm.negated(), both])
                day.append(-saving * both)
        total = cp_model.LinearExpr.sum(day)
        model.add(total <= c.max_travel_minutes_per_day)
        model.add(longest >= total)
        terms.append(total)
    return terms, longest


def _coverage(
    instance: Instance, model: cp_model.CpModel, x: dict[tuple[str, Block], cp_model.IntVar]
) -> cp_model.LinearExprT:
    """Uncovered demand (tenths of an hour): each lieu's permanence hours shared out to the
    communes within reach, none getting more than its demand over the horizon."""
    offered: dict[str, list[cp_model.LinearExprT]] = defaultdict(list)
    for (_, block), var in x.items():
        offered[block.lieu].append(round(block.hours * TENTHS) * var)
    demand = {c.insee: demand_tenths(instance, c.demand_hours) for c in instance.communes}
    served: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    for lieu_id, hours in offered.items():
        shares = []
        for insee in instance.communes_in_reach[lieu_id]:
            if demand[insee] == 0:
                continue
            share = model.new_int_var(0, demand[insee], f"serve[{lieu_id},{insee}]")
            shares.append(share)
            served[insee].append(share)
        if shares:
            model.add(cp_model.LinearExpr.sum(shares) <= cp_model.LinearExpr.sum(hours))
    total_demand = sum(demand.values())
    covered: list[cp_model.LinearExprT] = []
    for insee, need in demand.items():
        if served[insee]:
            model.add(cp_model.LinearExpr.sum(served[insee]) <= need)
            covered.extend(served[insee])
    return total_demand - cp_model.LinearExpr.sum(covered)


def _moves(
    instance: Instance, model: cp_model.CpModel, index: dict[tuple[str, str, dt.date, str], cp_model.IntVar]
) -> cp_model.LinearExprT:
    """Permanences of the previous plan that do not stay; the previous plan is also the hint."""
    impossible = 0  # previous permanences no longer possible at all (an absence, a closed lieu)
    stays: list[cp_model.IntVar] = []
    for p in instance.previous_plan:
        var = index.get(p.key)
        if var is None:
            impossible += 1
        else:
            stays.append(var)
    for var in dict.fromkeys(stays):  # two previous permanences may share a block: hint it once
        model.add_hint(var, 1)
    return impossible + len(stays) - cp_model.LinearExpr.sum(stays)
