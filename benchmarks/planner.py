"""Planner benchmarks: CP-SAT against a greedy baseline and OR-Tools' routing solver, on
instances built from the real communes, with an independent check of the travel by PyVRP.

Instances (``tournees.scenarios.build``, the week of ``START``, town halls as lieux):

- Mortagne-au-Perche: EPCI 200036069 (33 communes), 1 conseiller;
- Thionville: the 13 communes of EPCI 992367730 nearest Thionville (57672), 3 conseillers;
- Gard: département 30 (350 communes), 50 conseillers; and a re-plan of its CP-SAT plan after
  one conseiller's absence for a day (``previous_plan`` set, 10 s, as the service re-plans);
- France: every département, one conseiller per 15,000 inhabitants (about 4,400), solved in a
  pool of two processes; each département's time limit is its share (by conseillers) of a
  budget that keeps the whole within 15 minutes, largest first. When several conseillers are
  based at one town hall (more conseillers than town halls: the Seine-Saint-Denis), it has as
  many rooms, in every instance; a département without any lieu (Paris: its town hall has no
  published opening hours) cannot be built and is counted as not planned.

Methods, in the same run: ``cpsat.solve``; ``greedy.solve_greedy``; ``routing.solve_routing``
(the same time limit as CP-SAT on the Gard, 1 s on the small instances, 0.1 s per conseiller on
France). Every plan's figures come from ``result.evaluate``; the objective column is
``greedy.plan_objective``, CP-SAT's objective recomputed from the figures. PyVRP (optional:
``pip install pyvrp==0.14.1``) re-solves each day of the CP-SAT plan as a routing problem from
home and back, on the same distances in metres, and a brute force over the order of the day's
stops does the same: both must find the plan's daily travel and no shorter.

``BENCH_QUICK=1`` shortens the limits and plans four small départements instead of France;
``BENCH_MARKDOWN=1`` prints the table in Markdown.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import importlib
import itertools
import multiprocessing
import os
import platform
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from services.registry.adapters.communes import read_communes
from services.scheduling.planner import cpsat, scenario
from services.scheduling.planner.blocks import candidate_blocks
from services.scheduling.planner.greedy import monday_of, plan_objective, solve_greedy, weekly_bounds
from services.scheduling.planner.instance import Absence, Instance, Permanence
from services.scheduling.planner.result import TENTHS, PlanResult, daily_route
from services.scheduling.planner.routing import solve_routing
from services.scheduling.planner.travel import CrowFlies
from shared.geo import great_circle_km
from tournees.scenarios import build

QUICK = os.environ.get("BENCH_QUICK") == "1"
MARKDOWN = os.environ.get("BENCH_MARKDOWN") == "1"
START = dt.date(2026, 12, 7)  # a week without public holidays anywhere in France
WORKERS = 2
SMALL_LIMIT_S = 10.0
SMALL_ROUTING_S = 1.0
GARD_LIMIT_S = 15.0 if QUICK else 60.0
REPLAN_LIMIT_S = 10.0
FRANCE_TARGET_S = 15 * 60
FRANCE_SOLVE_BUDGET_S = 2 * 13 * 60
"""Worker-seconds of CP-SAT time limits shared by the départements (two workers, 13 of the 15
minutes; the rest is building the instances and the models: 12.2 min in all with 12 minutes)."""
FRANCE_MIN_LIMIT_S = 2.0
ROUTING_S_PER_CONSEILLER = 0.1
QUICK_DEPARTEMENTS = ("48", "90", "23", "05")
HEADERS = ["instance", "method", "status", "proven gap", "time", "travel km", "vs greedy", "coverage", "objective"]
HEADERS += ["target", "result"]


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a table row says about one method on one instance (or on France, summed)."""

    status: str
    gap: float | None
    seconds: float
    travel_km: float
    uncovered: float
    demand: float
    objective: float | None
    seconds_note: str = ""
    under_minimum: int = 0
    """Conseiller-weeks under their weekly minimum: soft in every method (CP-SAT pays
    ``Weights.short_hours_per_hour`` for each hour short), so counted for each."""

    @classmethod
    def of(cls, instance: Instance, result: PlanResult) -> Outcome:
        f = result.figures
        planned = result.status in ("OPTIMAL", "FEASIBLE")
        return cls(
            result.status,
            result.gap,
            result.solve_seconds,
            f.travel_km,
            f.uncovered_demand_hours,
            f.demand_hours,
            plan_objective(instance, result) if planned else None,
            under_minimum=under_minimum(instance, result.permanences) if planned else 0,
        )

    @property
    def label(self) -> str:
        return self.status + (f", {self.under_minimum} under min" if self.under_minimum else "")

    @property
    def coverage(self) -> float:
        return 1 - self.uncovered / self.demand if self.demand else 1.0


def under_minimum(instance: Instance, plan: tuple[Permanence, ...]) -> int:
    held: dict[tuple[str, dt.date], int] = defaultdict(int)
    for p in plan:
        held[(p.conseiller, monday_of(p.date))] += round(p.hours * TENTHS)
    travel = CrowFlies()
    return sum(
        held[(c.id, monday)] < low
        for c in instance.conseillers
        for monday, (low, _) in weekly_bounds(instance, c, candidate_blocks(instance, c, travel)).items()
    )


# Instances ---------------------------------------------------------------------------------


def _with_rooms(raw: dict[str, Any]) -> dict[str, Any]:
    """A town hall hosts at once as many conseillers as are based there."""
    based = Counter(c["home_lieu"] for c in raw["conseillers"])
    for lieu in raw["lieux"]:
        lieu["rooms"] = max(lieu.get("rooms", 1), based[lieu["id"]])
    return raw


def mortagne() -> Instance:
    return scenario.parse(_with_rooms(build(epci="200036069", conseillers=1, start=START)))


def thionville() -> Instance:
    raw = build(epci="992367730", conseillers=3, start=START)
    centre = next(c for c in raw["communes"] if c["insee"] == "57672")
    nearest = sorted(
        raw["communes"], key=lambda c: great_circle_km((centre["lat"], centre["lon"]), (c["lat"], c["lon"]))
    )[:13]
    kept = {c["insee"] for c in nearest}
    raw["communes"] = [c for c in raw["communes"] if c["insee"] in kept]
    raw["lieux"] = [lieu for lieu in raw["lieux"] if lieu["insee"] in kept]
    population = {c["insee"]: c["population"] for c in raw["communes"]}
    ranked = sorted(raw["lieux"], key=lambda lieu: -population[lieu["insee"]])
    for i, conseiller in enumerate(raw["conseillers"]):
        if conseiller["home_lieu"] not in {lieu["id"] for lieu in raw["lieux"]}:
            conseiller["home_lieu"] = ranked[i % len(ranked)]["id"]
    return scenario.parse(_with_rooms(raw))


def gard() -> Instance:
    return scenario.parse(_with_rooms(build(departement="30", conseillers=50, start=START)))


def with_absence(instance: Instance, plan: PlanResult) -> tuple[Instance, str, dt.date]:
    """The plan as the previous plan, and the conseiller with most permanences on the second day
    absent all that day."""
    day = instance.dates[1]
    busiest = Counter(p.conseiller for p in plan.permanences if p.date == day).most_common(1)
    who = busiest[0][0] if busiest else instance.conseillers[0].id
    absence = Absence(dt.datetime.combine(day, dt.time()), dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
    conseillers = tuple(
        dataclasses.replace(c, absences=(*c.absences, absence)) if c.id == who else c for c in instance.conseillers
    )
    return dataclasses.replace(instance, conseillers=conseillers, previous_plan=plan.permanences), who, day


# The travel check ---------------------------------------------------------------------------


def travel_check(instance: Instance, plan: tuple[Permanence, ...]) -> tuple[str, str]:
    """Each day of the plan re-solved by PyVRP and by brute force, on the same distances (metres):
    (what was compared, the verdict)."""
    travel = CrowFlies()
    days: dict[tuple[str, dt.date], list[Permanence]] = defaultdict(list)
    for p in plan:
        days[(p.conseiller, p.date)].append(p)
    try:
        pyvrp: Any = importlib.import_module("pyvrp")
        stop: Any = importlib.import_module("pyvrp.stop")
    except ImportError:
        pyvrp = None
    planned_m = brute_m = pyvrp_m = 0
    worse = 0
    for (who, _), day in sorted(days.items()):
        route = daily_route(instance, who, day)
        stops = route[1:-1]
        home = route[0]

        def metres(a: tuple[float, float], b: tuple[float, float]) -> int:
            return round(travel.km(a, b) * 1000)

        planned = sum(metres(a, b) for a, b in itertools.pairwise(route))
        brute = min(
            sum(metres(a, b) for a, b in itertools.pairwise([home, *order, home]))
            for order in itertools.permutations(stops)
        )
        planned_m += planned
        brute_m += brute
        if pyvrp is not None:
            model = pyvrp.Model()
            places = [model.add_location(x=home[1], y=home[0])]
            model.add_depot(places[0])
            for lat, lon in stops:
                places.append(model.add_location(x=lon, y=lat))
                model.add_client(places[-1])
            model.add_vehicle_type(num_available=1)
            points = [home, *stops]
            for (i, a), (j, b) in itertools.product(enumerate(points), repeat=2):
                model.add_edge(places[i], places[j], distance=metres(a, b) if i != j else 0)
            found = model.solve(stop=stop.MaxIterations(50), seed=0, display=False)
            best = found.best.distance() if found.is_feasible() else planned + 1
            pyvrp_m += best
            worse += best < planned
    what = f"{len(days)} conseiller-days: plan {planned_m / 1000:.1f} km, brute force {brute_m / 1000:.1f} km"
    if pyvrp is None:
        what += ", PyVRP not installed"
        agree = brute_m == planned_m
    else:
        what += f", PyVRP {pyvrp_m / 1000:.1f} km"
        agree = brute_m == planned_m == pyvrp_m
    if agree:
        return what, "agree: each day's travel is minimal"
    return what, f"DISAGREE by {(planned_m - min(brute_m, pyvrp_m or brute_m)) / 1000:.1f} km ({worse} days)"


# France ----------------------------------------------------------------------------------------


def _departement_instance(code: str) -> Instance:
    return scenario.parse(_with_rooms(build(departement=code, start=START)))


def _france_cpsat(code: str, limit_s: float) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        instance = _departement_instance(code)
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
        instance = _departement_instance(code)
    except (LookupError, ZeroDivisionError) as exc:
        return {"code": code, "error": f"{type(exc).__name__}: {exc}"}
    greedy = solve_greedy(instance)
    routing = solve_routing(instance, time_limit_s=ROUTING_S_PER_CONSEILLER * len(instance.conseillers))
    return {"code": code, "greedy": Outcome.of(instance, greedy), "routing": Outcome.of(instance, routing)}


def france_departements() -> dict[str, int]:
    """Département → conseillers (one per 15,000 inhabitants, at least one), as ``build`` counts."""
    population: dict[str, int] = defaultdict(int)
    for row in read_communes():
        population[row["departement"]] += row["population"]
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
    )


# The table ---------------------------------------------------------------------------------------


def _seconds(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def _row(instance: str, method: str, o: Outcome, greedy_km: float | None, target: str, result: str) -> list[str]:
    ratio = "" if greedy_km is None else f"{o.travel_km / greedy_km:.2f}×" if greedy_km > 0 else "— (greedy 0 km)"
    return [
        instance,
        method,
        o.label,
        "" if o.gap is None else f"{o.gap:.1%}",
        _seconds(o.seconds) + (f" {o.seconds_note}" if o.seconds_note else ""),
        f"{o.travel_km:,.1f}",
        ratio,
        f"{o.coverage:.1%}",
        "" if o.objective is None else f"{o.objective:,.0f}",
        target,
        result,
    ]


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
        _row(name, "cp-sat", c, g.travel_km, "OPTIMAL in < 1 s", _small_verdict(c)),
        _row(name, "greedy", g, g.travel_km, "", ""),
        _row(name, f"routing ({SMALL_ROUTING_S:g} s)", r, g.travel_km, "", ""),
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
        _row(name, "cp-sat", c, g.travel_km, f"gap ≤ 1.5% in {GARD_LIMIT_S:g} s; travel ≤ 0.8× greedy",
             _gard_verdict(c, g, GARD_LIMIT_S)),
        _row(name, "greedy", g, g.travel_km, "", ""),
        _row(name, f"routing ({GARD_LIMIT_S:g} s)", r, g.travel_km, "", ""),
        [name, "PyVRP check of cp-sat", "", "", "", "", "", "", "", checked, verdict],
    ]  # fmt: skip
    if solved.status in ("OPTIMAL", "FEASIBLE"):
        absent, who, day = with_absence(instance, solved)
        replanned = cpsat.solve(absent, time_limit_s=REPLAN_LIMIT_S, workers=WORKERS)
        o = Outcome.of(absent, replanned)
        rows.append(
            _row(f"Gard re-plan ({who} absent {day:%a %d})", "cp-sat", o, g.travel_km,
                 f"≤ {REPLAN_LIMIT_S:g} s, ≤ 10 moved", _replan_verdict(o, replanned.moved))
        )  # fmt: skip
    return rows


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
        _row(name, "cp-sat", cp, g.travel_km, "≤ 15 min, 2 processes", verdict),
        _row(name, "greedy", g, g.travel_km, "", ""),
        _row(name, f"routing ({ROUTING_S_PER_CONSEILLER:g} s per conseiller)", r, g.travel_km, "", ""),
    ]


def print_table(title: str, rows: list[list[str]]) -> None:
    if MARKDOWN:
        print(f"\n## {title}\n")
        print("| " + " | ".join(HEADERS) + " |")
        print("|" + "---|" * len(HEADERS))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(r[i]) for r in [HEADERS, *rows]) for i in range(len(HEADERS))]
    print(f"\n{title}")
    print("  " + "  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True)))
    print("  " + "  ".join("-" * w for w in widths))
    for row in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


async def main() -> None:
    started = time.perf_counter()
    rows = small_rows("Mortagne (1 / 33)", mortagne())
    rows += small_rows("Thionville (3 / 13)", thionville())
    rows += await asyncio.to_thread(gard_rows, gard())
    rows += await asyncio.to_thread(france_rows)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print_table(
        f"Planner — {time.strftime('%Y-%m-%d')} on {machine}; week of {START}"
        + f"; {(time.perf_counter() - started) / 60:.1f} min in all"
        + ("; QUICK" if QUICK else ""),
        rows,
    )


if __name__ == "__main__":
    asyncio.run(main())
