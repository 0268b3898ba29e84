"""What a row of the planner table says, and how the table is printed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections import defaultdict

from benchmarks import report
from services.scheduling.planner.blocks import candidate_blocks
from services.scheduling.planner.greedy import monday_of, plan_objective, weekly_bounds
from services.scheduling.planner.instance import Instance, Permanence
from services.scheduling.planner.result import TENTHS, PlanResult
from services.scheduling.planner.travel import CrowFlies

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
    fallbacks: int = 0
    """Plans CP-SAT answered with the greedy's, having found none of its own in its time."""

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
            fallbacks=int(result.method.startswith("greedy") and result.method != "greedy"),
        )

    @property
    def label(self) -> str:
        fallbacks = f", {self.fallbacks} greedy fallback" if self.fallbacks else ""
        return self.status + fallbacks + (f", {self.under_minimum} under min" if self.under_minimum else "")

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


def seconds_text(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def row(instance: str, method: str, o: Outcome, greedy_km: float | None, target: str, result: str) -> list[str]:
    ratio = "" if greedy_km is None else f"{o.travel_km / greedy_km:.2f}×" if greedy_km > 0 else "— (greedy 0 km)"
    return [
        instance,
        method,
        o.label,
        "" if o.gap is None else f"{o.gap:.1%}",
        seconds_text(o.seconds) + (f" {o.seconds_note}" if o.seconds_note else ""),
        f"{o.travel_km:,.1f}",
        ratio,
        f"{o.coverage:.1%}",
        "" if o.objective is None else f"{o.objective:,.0f}",
        target,
        result,
    ]


def print_table(title: str, rows: list[list[str]]) -> None:
    report.print_table(title, rows, HEADERS, markdown=MARKDOWN)
