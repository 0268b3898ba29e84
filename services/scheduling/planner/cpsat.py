"""The CP-SAT model of a round of permanences.

Variables: one boolean per (conseiller, block) the conseiller may hold (``blocks``); per
conseiller and day, a boolean per (morning lieu, afternoon lieu) pair, for the travel between
them; per (lieu, commune in reach), the tenths of an hour of the lieu's permanences that serve
that commune.

Hard rules: each occurrence of a recurrence held by exactly one conseiller (``recurrences``);
one place per half-day; the lieu's rooms; the contract's weekly maximum; the daily
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
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from services.scheduling.planner.blocks import Block, planned_blocks
from services.scheduling.planner.contract import TENTHS, WeekBounds, contract_weeks
from services.scheduling.planner.greedy import plan_objective, solve_greedy
from services.scheduling.planner.instance import Instance, Permanence
from services.scheduling.planner.model_coverage import uncovered
from services.scheduling.planner.model_hours import Held, hours_spread, weekly_hours
from services.scheduling.planner.model_routes import daily_travel
from services.scheduling.planner.recurrences import recurrence_blocks
from services.scheduling.planner.result import PlanResult, evaluate, short_notes
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
    if status == cp_model.UNKNOWN and not instance.previous_plan and not instance.recurrences:
        return _greedy_fallback(instance, travel, solver.best_objective_bound / SCALE, elapsed, built.notes)
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
        Permanence(conseiller, block.lieu, block.date, block.half, block.start, block.end, block.kind, block.recurrence)
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


def _greedy_fallback(
    instance: Instance, travel: TravelTimes, bound: float, elapsed: float, notes: list[str]
) -> PlanResult:
    """No plan of CP-SAT's own in the time (a territory too large for it): the greedy's plan, whose
    objective is set against the bound CP-SAT proved, rather than no plan at all."""
    greedy = solve_greedy(instance, travel)
    return replace(
        greedy,
        objective=plan_objective(instance, greedy),
        bound=bound,
        solve_seconds=elapsed + greedy.solve_seconds,
        method="greedy (cp-sat found no plan in its time)",
        notes=(*notes, "CP-SAT found no plan within its time limit: this is the greedy's plan", *greedy.notes),
    )


def _build(instance: Instance, travel: TravelTimes) -> _Model:
    model = cp_model.CpModel()
    notes: list[str] = []
    w = instance.weights
    x: dict[tuple[str, Block], cp_model.IntVar] = {}
    for conseiller in instance.conseillers:
        for block in planned_blocks(instance, conseiller, travel):
            x[(conseiller.id, block)] = _new_var(model, conseiller.id, block)
    _recurrences(instance, model, x, travel, notes)
    _one_place_at_a_time(model, x)
    _rooms(instance, model, x)

    _pins(instance, model, x, notes)
    by_conseiller: dict[str, Held] = defaultdict(list)
    for (who, block), var in x.items():
        by_conseiller[who].append((block, var))
    short: list[cp_model.IntVar] = []
    held: dict[str, tuple[Held, dict[dt.date, WeekBounds]]] = {}
    for conseiller in instance.conseillers:
        mine = by_conseiller[conseiller.id]
        bounds = contract_weeks(instance, conseiller, travel)
        short += weekly_hours(model, conseiller.id, mine, bounds, soft_minimum=w.short_hours_per_hour > 0)
        held[conseiller.id] = (mine, bounds)
    spread = hours_spread(model, held) if w.hours_fairness_per_point > 0 else None
    travel_terms, longest = daily_travel(instance, model, x, travel)

    objective = cp_model.LinearExpr.weighted_sum(
        [
            cp_model.LinearExpr.sum(travel_terms),
            uncovered(instance, model, x, "permanence"),
            longest,
            _moves(instance, model, x),
            cp_model.LinearExpr.sum(short),
            spread if spread is not None else 0,
            uncovered(instance, model, x, "atelier"),
        ],
        [
            SCALE * w.travel_per_minute,
            w.uncovered_per_hour,  # uncovered is in tenths of an hour already
            SCALE * w.fairness_per_minute,
            SCALE * w.move_per_permanence,
            w.short_hours_per_hour,  # so is the shortfall
            SCALE * w.hours_fairness_per_point,
            w.uncovered_atelier_per_hour,  # tenths too
        ],
    )
    model.minimize(objective)
    return _Model(model, x, objective, notes)


def _recurrences(
    instance: Instance,
    model: cp_model.CpModel,
    x: dict[tuple[str, Block], cp_model.IntVar],
    travel: TravelTimes,
    notes: list[str],
) -> None:
    """Each occurrence of a recurrence held by exactly one of the conseillers who could hold it."""
    held, dropped = recurrence_blocks(instance, travel)
    notes.extend(dropped)
    for block, holders in held:
        choices = []
        for who in holders:
            x[(who, block)] = _new_var(model, who, block)
            choices.append(x[(who, block)])
        model.add_exactly_one(choices)


def _new_var(model: cp_model.CpModel, who: str, block: Block) -> cp_model.IntVar:
    what = "x" if block.kind == "permanence" else "atelier"
    return model.new_bool_var(f"{what}[{who},{block.lieu},{block.date},{block.half},{block.start}]")


def _one_place_at_a_time(model: cp_model.CpModel, x: dict[tuple[str, Block], cp_model.IntVar]) -> None:
    """One block per conseiller per half-day (a block across midday takes both)."""
    by_slot: dict[tuple[str, dt.date, str], list[cp_model.IntVar]] = defaultdict(list)
    for (who, block), var in x.items():
        for half in block.halves:
            by_slot[(who, block.date, half)].append(var)
    for choices in by_slot.values():
        model.add_at_most_one(choices)


def _rooms(instance: Instance, model: cp_model.CpModel, x: dict[tuple[str, Block], cp_model.IntVar]) -> None:
    """At no moment more blocks at a lieu than its rooms: counted at each block's start, where
    the most overlapping blocks are found (the usual half-day blocks: once per half-day)."""
    by_day: dict[tuple[str, dt.date], list[tuple[Block, cp_model.IntVar]]] = defaultdict(list)
    for (_, block), var in x.items():
        by_day[(block.lieu, block.date)].append((block, var))
    for (lieu_id, _), held in by_day.items():
        rooms = instance.lieu(lieu_id).rooms
        groups = {
            frozenset(var.index for block, var in held if block.start <= moment < block.end): moment
            for moment in {block.start for block, _ in held}
        }
        for moment in groups.values():
            together = [var for block, var in held if block.start <= moment < block.end]
            if len(together) > rooms:
                model.add(cp_model.LinearExpr.sum(together) <= rooms)


def _pins(
    instance: Instance, model: cp_model.CpModel, x: dict[tuple[str, Block], cp_model.IntVar], notes: list[str]
) -> None:
    """A pin holds when its conseiller holds a block at its lieu that half-day (of any kind or length)."""
    at: dict[tuple[str, str, dt.date, str], list[cp_model.IntVar]] = defaultdict(list)
    for (who, block), var in x.items():
        at[(who, block.lieu, block.date, block.half)].append(var)
    for pin in instance.pins:
        choices = at.get((pin.conseiller, pin.lieu, pin.date, pin.half))
        where = f"pin {pin.conseiller} at {pin.lieu} on {pin.date} {pin.half}"
        if not choices and pin.unless_impossible:
            notes.append(f"{where} dropped: it can no longer hold")
        elif not choices:
            notes.append(f"{where} breaks a rule: it cannot hold")
            model.add_bool_or([])  # no plan can keep it: the solve answers INFEASIBLE
        else:
            model.add(cp_model.LinearExpr.sum(choices) == 1)


def _moves(
    instance: Instance, model: cp_model.CpModel, x: dict[tuple[str, Block], cp_model.IntVar]
) -> cp_model.LinearExprT:
    """Permanences of the previous plan that do not stay (``Permanence.key``: the same conseiller,
    lieu, date, start and kind); the previous plan is also the hint."""
    index: dict[tuple[object, ...], list[cp_model.IntVar]] = defaultdict(list)
    for (who, block), var in x.items():
        index[(who, block.lieu, block.date, block.half, block.start, block.kind)].append(var)
    impossible = 0  # previous permanences no longer possible at all (an absence, a closed lieu)
    stays: list[cp_model.LinearExprT] = []
    hints: dict[cp_model.IntVar, None] = {}
    for p in instance.previous_plan:
        same = index.get(p.key)
        if not same:
            impossible += 1
        else:
            stays.append(cp_model.LinearExpr.sum(same))
            hints[same[0]] = None  # two previous permanences may share a block: hint it once
    for var in hints:
        model.add_hint(var, 1)
    return impossible + len(stays) - cp_model.LinearExpr.sum(stays)
