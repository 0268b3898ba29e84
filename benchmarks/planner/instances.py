"""The benchmark's instances, built from the shipped communes (``tournees.scenarios.build``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from typing import Any

from benchmarks.planner.outcomes import START
from services.scheduling.planner import scenario
from services.scheduling.planner.instance import Absence, Instance
from services.scheduling.planner.result import PlanResult
from shared.geo import great_circle_km
from tournees.scenarios import build


def with_rooms(raw: dict[str, Any]) -> dict[str, Any]:
    """A town hall hosts at once as many conseillers as are based there."""
    based = Counter(c["home_lieu"] for c in raw["conseillers"])
    for lieu in raw["lieux"]:
        lieu["rooms"] = max(lieu.get("rooms", 1), based[lieu["id"]])
    return raw


def mortagne() -> Instance:
    return scenario.parse(with_rooms(build(epci="200036069", conseillers=1, start=START)))


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
    return scenario.parse(with_rooms(raw))


def gard() -> Instance:
    return scenario.parse(with_rooms(build(departement="30", conseillers=50, start=START)))


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


def departement(code: str) -> Instance:
    return scenario.parse(with_rooms(build(departement=code, start=START)))
