"""The small instances and the Gard: every method on each, and the verdict against its targets."""

from __future__ import annotations

from benchmarks.planner.instances import with_absence
from benchmarks.planner.outcomes import (
    GARD_LIMIT_S,
    REPLAN_LIMIT_S,
    SMALL_LIMIT_S,
    SMALL_ROUTING_S,
    WORKERS,
    Outcome,
    row,
)
from benchmarks.planner.travel_check import travel_check
from services.scheduling.planner import cpsat
from services.scheduling.planner.greedy import solve_greedy
from services.scheduling.planner.instance import Instance
from services.scheduling.planner.routing import solve_routing


def _small_verdict(o: Outcome) -> str:
    problems = []
    if o.status != "OPTIMAL":
        problems.append(f"not proven (gap {o.gap:.1%})" if o.gap is not None else f"no plan ({o.status})")
    if o.seconds >= 1.0:
        problems.append(f"by {o.seconds - 1.0:.2f} s")
    return "met" if not problems else "MISSED " + "; ".join(problems)


def _gard_verdict(o: Outcome, greedy: Outcome, limit_s: float) -> str:
    problems = []
    if o.gap is None:
        problems.append(f"no proven gap ({o.status})")
    elif o.gap > 0.015:
        problems.append(f"gap by {(o.gap - 0.015) * 100:.1f} points")
    if greedy.travel_km > 0 and o.travel_km > 0.8 * greedy.travel_km:
        problems.append(f"travel by {o.travel_km / greedy.travel_km - 0.8:.2f}× greedy")
    if o.seconds > limit_s + 5:
        problems.append(f"time by {o.seconds - limit_s:.1f} s")
    return "met" if not problems else "MISSED " + "; ".join(problems)


def _replan_verdict(o: Outcome, moved: int) -> str:
    problems = []
    if o.objective is None:
        problems.append(f"no plan ({o.status})")
    if o.seconds > REPLAN_LIMIT_S:
        problems.append(f"by {o.seconds - REPLAN_LIMIT_S:.2f} s")
    if moved > 10:
        problems.append(f"moved {moved}, by {moved - 10}")
    return f"met; moved {moved}" if not problems else "MISSED " + "; ".join(problems)


def small_rows(name: str, instance: Instance) -> list[list[str]]:
    greedy = solve_greedy(instance)
    g = Outcome.of(instance, greedy)
    solved = cpsat.solve(instance, time_limit_s=SMALL_LIMIT_S, workers=WORKERS)
    c = Outcome.of(instance, solved)
    r = Outcome.of(instance, solve_routing(instance, time_limit_s=SMALL_ROUTING_S))
    checked, verdict = travel_check(instance, solved.permanences)
    return [
        row(name, "cp-sat", c, g.travel_km, "OPTIMAL in < 1 s", _small_verdict(c)),
        row(name, "greedy", g, g.travel_km, "", ""),
        row(name, f"routing ({SMALL_ROUTING_S:g} s)", r, g.travel_km, "", ""),
        [name, "PyVRP check of cp-sat", "", "", "", "", "", "", "", checked, verdict],
    ]


def gard_rows(instance: Instance) -> list[list[str]]:
    name = "Gard (50 / 350)"
    greedy = solve_greedy(instance)
    g = Outcome.of(instance, greedy)
    solved = cpsat.solve(instance, time_limit_s=GARD_LIMIT_S, workers=WORKERS)
    c = Outcome.of(instance, solved)
    r = Outcome.of(instance, solve_routing(instance, time_limit_s=GARD_LIMIT_S))
    checked, verdict = travel_check(instance, solved.permanences)
    rows = [
        row(name, "cp-sat", c, g.travel_km, f"gap ≤ 1.5% in {GARD_LIMIT_S:g} s; travel ≤ 0.8× greedy",
             _gard_verdict(c, g, GARD_LIMIT_S)),
        row(name, "greedy", g, g.travel_km, "", ""),
        row(name, f"routing ({GARD_LIMIT_S:g} s)", r, g.travel_km, "", ""),
        [name, "PyVRP check of cp-sat", "", "", "", "", "", "", "", checked, verdict],
    ]  # fmt: skip
    if solved.status in ("OPTIMAL", "FEASIBLE"):
        absent, who, day = with_absence(instance, solved)
        replanned = cpsat.solve(absent, time_limit_s=REPLAN_LIMIT_S, workers=WORKERS)
        o = Outcome.of(absent, replanned)
        rows.append(
            row(f"Gard re-plan ({who} absent {day:%a %d})", "cp-sat", o, g.travel_km,
                 f"≤ {REPLAN_LIMIT_S:g} s, ≤ 10 moved", _replan_verdict(o, replanned.moved))
        )  # fmt: skip
    return rows
