"""All of France, one département per solve, in a pool of two processes."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from benchmarks.planner.instances import departement
from benchmarks.planner.outcomes import (
    FRANCE_MIN_LIMIT_S,
    FRANCE_SOLVE_BUDGET_S,
    FRANCE_TARGET_S,
    QUICK,
    QUICK_DEPARTEMENTS,
    ROUTING_S_PER_CONSEILLER,
    WORKERS,
    Outcome,
    row,
)
from services.registry.adapters.communes import read_communes
from services.scheduling.planner import cpsat
from services.scheduling.planner.greedy import solve_greedy
from services.scheduling.planner.routing import solve_routing


def _france_cpsat(code: str, limit_s: float) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        instance = departement(code)
    except (LookupError, ZeroDivisionError) as exc:  # no commune, or no lieu at all (Paris)
        return {"code": code, "error": f"{type(exc).__name__}: {exc}"}
    result = cpsat.solve(instance, time_limit_s=limit_s, workers=2)
    return {
        "code": code,
        "conseillers": len(instance.conseillers),
        "outcome": Outcome.of(instance, result),
        "objective": result.objective,
        "bound": result.bound,
        "seconds": time.perf_counter() - started,
    }


def _france_baselines(code: str) -> dict[str, Any]:
    try:
        instance = departement(code)
    except (LookupError, ZeroDivisionError) as exc:
        return {"code": code, "error": f"{type(exc).__name__}: {exc}"}
    greedy = solve_greedy(instance)
    routing = solve_routing(instance, time_limit_s=ROUTING_S_PER_CONSEILLER * len(instance.conseillers))
    return {"code": code, "greedy": Outcome.of(instance, greedy), "routing": Outcome.of(instance, routing)}


def france_departements() -> dict[str, int]:
    """Département → conseillers (one per 15,000 inhabitants, at least one), as ``build`` counts."""
    population: dict[str, int] = defaultdict(int)
    for commune in read_communes():
        population[commune["departement"]] += commune["population"]
    sizes = {code: max(1, round(people / 15_000)) for code, people in population.items()}
    if QUICK:
        sizes = {code: sizes[code] for code in QUICK_DEPARTEMENTS}
    return sizes


def _pool() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=WORKERS, mp_context=multiprocessing.get_context("spawn"))


def france() -> tuple[list[dict[str, Any]], float, list[dict[str, Any]]]:
    sizes = france_departements()
    total = sum(sizes.values())
    budget = FRANCE_SOLVE_BUDGET_S / 12 if QUICK else FRANCE_SOLVE_BUDGET_S
    limits = {code: max(FRANCE_MIN_LIMIT_S, budget * n / total) for code, n in sizes.items()}
    order = sorted(sizes, key=lambda code: -sizes[code])  # largest first: the pool ends together
    started = time.perf_counter()
    with _pool() as pool:
        solved = list(pool.map(_france_cpsat, order, [limits[c] for c in order]))
    wall = time.perf_counter() - started
    with _pool() as pool:
        baselines = list(pool.map(_france_baselines, order))
    return solved, wall, baselines


def _france_outcome(outcomes: list[Outcome], seconds: float, note: str, gap: float | None = None) -> Outcome:
    counts = Counter(o.status for o in outcomes)
    status = ", ".join(
        f"{counts[s]} {s.lower()}" for s in ("OPTIMAL", "FEASIBLE", "UNKNOWN", "INFEASIBLE") if counts[s]
    )
    planned = [o for o in outcomes if o.objective is not None]
    return Outcome(
        status,
        gap,
        seconds,
        sum(o.travel_km for o in outcomes),
        sum(o.uncovered for o in outcomes),
        sum(o.demand for o in outcomes),
        sum(o.objective for o in planned if o.objective is not None),
        note,
        sum(o.under_minimum for o in outcomes),
        sum(o.fallbacks for o in outcomes),
    )


def france_rows() -> list[list[str]]:
    solved, wall, baselines = france()
    built = [s for s in solved if "error" not in s]
    skipped = [s for s in solved if "error" in s]
    planned = [s for s in built if s["objective"] is not None]
    objective = sum(s["objective"] for s in planned)
    bound = sum(s["bound"] for s in planned)
    gap = max(0.0, (objective - bound) / abs(objective)) if objective else None
    conseillers = sum(s["conseillers"] for s in built)
    name = f"France ({len(built)} départements, {conseillers:,} conseillers)" + (" QUICK" if QUICK else "")
    cp = _france_outcome([s["outcome"] for s in built], wall, "(wall)", gap)
    greedy = [b["greedy"] for b in baselines if "error" not in b]
    routing = [b["routing"] for b in baselines if "error" not in b]
    g = _france_outcome(greedy, sum(o.seconds for o in greedy), "(sum)")
    r = _france_outcome(routing, sum(o.seconds for o in routing), "(sum)")
    problems = []
    if wall > FRANCE_TARGET_S:
        problems.append(f"by {(wall - FRANCE_TARGET_S) / 60:.1f} min")
    unplanned = [s["code"] for s in built if s["objective"] is None] + [s["code"] for s in skipped]
    if unplanned:
        problems.append(f"no plan for {len(unplanned)} département(s): {', '.join(sorted(unplanned))}")
    verdict = "met" if not problems else "MISSED " + "; ".join(problems)
    return [
        row(name, "cp-sat", cp, g.travel_km, "≤ 15 min, 2 processes", verdict),
        row(name, "greedy", g, g.travel_km, "", ""),
        row(name, f"routing ({ROUTING_S_PER_CONSEILLER:g} s per conseiller)", r, g.travel_km, "", ""),
    ]
