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
import os
import platform
import time

from benchmarks.planner.france import france_rows
from benchmarks.planner.instances import gard, mortagne, thionville
from benchmarks.planner.outcomes import QUICK, START, print_table
from benchmarks.planner.rows import gard_rows, small_rows

__all__ = ["gard", "main", "mortagne", "thionville"]


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
