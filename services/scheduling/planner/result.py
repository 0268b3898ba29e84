"""A plan and its figures, computed the same way whichever method produced the plan."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from ortools.graph.python import max_flow

from services.scheduling.planner.contract import TENTHS as TENTHS
from services.scheduling.planner.contract import (
    contract_weeks,
    full_tenths,
    monday_of,
    share_points,
    short_tenths,
    tenths_of,
)
from services.scheduling.planner.instance import Instance, Kind, Permanence
from services.scheduling.planner.travel import CrowFlies, TravelTimes


@dataclass(frozen=True)
class Figures:
    travel_km: float
    travel_minutes: int
    travel_km_by_conseiller: dict[str, float]
    longest_day_minutes: int
    hours_by_conseiller: dict[str, float]
    covered_hours_by_commune: dict[str, float]
    demand_hours: float
    demand_hours_by_commune: dict[str, float]
    """Commune → its individual demand over the horizon (what ``covered_hours_by_commune`` covers of it);
    they add up to ``demand_hours``."""
    uncovered_demand_hours: float
    atelier_demand_hours: float
    uncovered_atelier_hours: float
    covered_atelier_hours_by_commune: dict[str, float]
    """Only the communes with atelier demand."""
    short_hours_by_conseiller: dict[str, float]
    """Conseiller → hours below their weekly minimums (scaled as the model scales them); only those short."""
    hours_share_spread: int
    """Percentage points between the highest and the lowest share of their contract the conseillers work."""


@dataclass(frozen=True)
class PlanResult:
    status: str
    """OPTIMAL (proven), FEASIBLE (with a gap), INFEASIBLE, or UNKNOWN (no plan in the time)."""
    objective: float | None
    bound: float | None
    solve_seconds: float
    permanences: tuple[Permanence, ...]
    figures: Figures
    method: str = "cp-sat"
    moved: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        if self.objective == 0:
            return 0.0
        return max(0.0, (self.objective - self.bound) / abs(self.objective))

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "method": self.method,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "solve_seconds": round(self.solve_seconds, 3),
            **figures_json(self.figures),
            "moved": self.moved,
            "notes": list(self.notes),
            "permanences": [
                {
                    "conseiller": p.conseiller,
                    "lieu": p.lieu,
                    "date": p.date.isoformat(),
                    "start": p.start.strftime("%H:%M"),
                    "end": p.end.strftime("%H:%M"),
                    "kind": p.kind,
                }
                for p in sorted(self.permanences, key=lambda p: (p.date, p.start, p.conseiller))
            ],
        }


def figures_json(f: Figures) -> dict[str, Any]:
    """The figures as a plan's ``figures`` give them (rounded to a tenth; per conseiller and per commune
    by id and INSEE code)."""
    return {
        "travel_km": round(f.travel_km, 1),
        "travel_km_by_conseiller": {k: round(v, 1) for k, v in sorted(f.travel_km_by_conseiller.items())},
        "hours_by_conseiller": dict(sorted(f.hours_by_conseiller.items())),
        "covered_hours_by_commune": {k: round(v, 1) for k, v in sorted(f.covered_hours_by_commune.items())},
        "demand_hours": round(f.demand_hours, 1),
        "demand_hours_by_commune": {k: round(v, 1) for k, v in sorted(f.demand_hours_by_commune.items())},
        "uncovered_demand_hours": round(f.uncovered_demand_hours, 1),
        "atelier_demand_hours": round(f.atelier_demand_hours, 1),
        "uncovered_atelier_hours": round(f.uncovered_atelier_hours, 1),
        "covered_atelier_hours_by_commune": {
            k: round(v, 1) for k, v in sorted(f.covered_atelier_hours_by_commune.items())
        },
        "short_hours_by_conseiller": dict(sorted(f.short_hours_by_conseiller.items())),
        "hours_share_spread": f.hours_share_spread,
    }


def daily_route(instance: Instance, conseiller_id: str, day: list[Permanence]) -> list[tuple[float, float]]:
    """Home, the day's lieux in order, home."""
    home = instance.lieu(instance.conseiller(conseiller_id).home_lieu)
    stops = [(home.latitude, home.longitude)]
    for p in sorted(day, key=lambda p: p.start):
        lieu = instance.lieu(p.lieu)
        stops.append((lieu.latitude, lieu.longitude))
    return [*stops, stops[0]]


def evaluate(instance: Instance, permanences: tuple[Permanence, ...], travel: TravelTimes | None = None) -> Figures:
    travel = travel or CrowFlies()
    modes = {c.id: c.travel_mode for c in instance.conseillers}
    days: dict[tuple[str, dt.date], list[Permanence]] = defaultdict(list)
    hours: dict[str, float] = {c.id: 0.0 for c in instance.conseillers}
    for p in permanences:
        days[(p.conseiller, p.date)].append(p)
        hours[p.conseiller] += p.hours
    km_by: dict[str, float] = {c.id: 0.0 for c in instance.conseillers}
    minutes, longest = 0, 0
    for (who, _), day in days.items():
        route = daily_route(instance, who, day)
        legs = list(pairwise(route))
        km_by[who] += sum(travel.km(a, b) for a, b in legs)
        day_minutes = sum(travel.minutes(a, b, modes[who]) for a, b in legs)
        minutes += day_minutes
        longest = max(longest, day_minutes)
    covered = coverage(instance, permanences)
    demand = demand_by_commune(instance, "permanence")
    ateliers = coverage(instance, permanences, "atelier")
    atelier_demand = demand_by_commune(instance, "atelier")
    short, spread = _contract_figures(instance, permanences, travel)
    return Figures(
        travel_km=sum(km_by.values()),
        travel_minutes=minutes,
        travel_km_by_conseiller=km_by,
        longest_day_minutes=longest,
        hours_by_conseiller=hours,
        covered_hours_by_commune=covered,
        demand_hours=sum(demand.values()),
        demand_hours_by_commune=demand,
        uncovered_demand_hours=round(_uncovered(demand, covered), 6),
        atelier_demand_hours=sum(atelier_demand.values()),
        uncovered_atelier_hours=round(_uncovered(atelier_demand, ateliers), 6),
        covered_atelier_hours_by_commune={c.insee: ateliers[c.insee] for c in instance.communes if c.atelier_hours},
        short_hours_by_conseiller=short,
        hours_share_spread=spread,
    )


def _contract_figures(
    instance: Instance, permanences: tuple[Permanence, ...], travel: TravelTimes
) -> tuple[dict[str, float], int]:
    """The hours short of the weekly minimums, and the spread of the shares of the contracts."""
    worked: dict[str, dict[dt.date, int]] = {c.id: defaultdict(int) for c in instance.conseillers}
    for p in permanences:
        worked[p.conseiller][monday_of(p.date)] += tenths_of(p.hours)
    short, points = {}, []
    for c in instance.conseillers:
        bounds = contract_weeks(instance, c, travel)
        if missing := short_tenths(bounds, worked[c.id]):
            short[c.id] = missing / TENTHS
        if full := full_tenths(bounds):
            points.append(share_points(sum(worked[c.id].values()), full))
    spread = max(points) - min(points) if len(points) > 1 else 0
    return short, spread


def short_notes(figures: Figures) -> list[str]:
    return [
        f"{who} is {hours:g} h short of their weekly minimum"
        for who, hours in sorted(figures.short_hours_by_conseiller.items())
    ]


def demand_by_commune(instance: Instance, kind: Kind = "permanence") -> dict[str, float]:
    """Each commune's demand of the kind over the horizon, in hours, in the same tenths the flow uses."""
    return {c.insee: demand_tenths(instance, c.demand(kind)) / TENTHS for c in instance.communes}


def _uncovered(demand: dict[str, float], covered: dict[str, float]) -> float:
    """Counted per commune: each commune's shortfall adds up."""
    return sum(need - covered[insee] for insee, need in demand.items())


def coverage(instance: Instance, permanences: tuple[Permanence, ...], kind: Kind = "permanence") -> dict[str, float]:
    """Hours of demand of the kind each commune gets, sharing each lieu's hours of that kind between
    the communes within reach as well as possible (a maximum flow: lieux → communes in reach → their demand)."""
    offered: dict[str, int] = defaultdict(int)
    for p in permanences:
        if p.kind == kind:
            offered[p.lieu] += round(p.hours * TENTHS)
    flow = max_flow.SimpleMaxFlow()
    source, sink = 0, 1
    lieu_node = {lieu_id: 2 + i for i, lieu_id in enumerate(offered)}
    commune_node = {c.insee: 2 + len(lieu_node) + i for i, c in enumerate(instance.communes)}
    for lieu_id, tenths in offered.items():
        flow.add_arc_with_capacity(source, lieu_node[lieu_id], tenths)
        for insee in instance.communes_in_reach[lieu_id]:
            flow.add_arc_with_capacity(lieu_node[lieu_id], commune_node[insee], tenths)
    for commune in instance.communes:
        flow.add_arc_with_capacity(commune_node[commune.insee], sink, demand_tenths(instance, commune.demand(kind)))
    flow.solve(source, sink)
    covered = {c.insee: 0.0 for c in instance.communes}
    for arc in range(flow.num_arcs()):
        if flow.head(arc) == sink:
            commune = instance.communes[flow.tail(arc) - 2 - len(lieu_node)]
            covered[commune.insee] = flow.flow(arc) / TENTHS
    return covered


def demand_tenths(instance: Instance, weekly_hours: float) -> int:
    """A commune's demand over the horizon, in tenths of an hour."""
    return round(weekly_hours * instance.days / 7 * TENTHS)
