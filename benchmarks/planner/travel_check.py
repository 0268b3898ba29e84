"""An independent check of a plan's daily travel: PyVRP and a brute force on the same distances."""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
from collections import defaultdict
from typing import Any

from services.scheduling.planner.instance import Instance, Permanence
from services.scheduling.planner.result import daily_route
from services.scheduling.planner.travel import CrowFlies


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
