"""``tournees scenario``: a scenario file from the shipped communes data.

Town halls become the lieux (their published opening hours); demand comes from population
(the registry's default); conseillers are placed at the town halls of the most populous
communes, one each unless told how many, with a full week and 35 h contracts (30–35 h).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.registry.adapters.communes import read_communes
from services.registry.domain.demand import Demand
from services.registry.domain.geography import Commune, holiday_calendar_for, time_zone_for
from shared.opening_hours import InvalidOpeningHours, OpeningHours


def build(
    *, epci: str | None = None, departement: str | None = None, conseillers: int | None = None,
    start: dt.date | None = None, days: int = 5,
) -> dict[str, Any]:  # fmt: skip
    communes = [
        Commune(**row)
        for row in read_communes()
        if (epci and row["epci_siren"] == epci) or (departement and row["departement"] == departement)
    ]
    if not communes:
        raise LookupError(f"no commune in {'EPCI ' + epci if epci else 'département ' + str(departement)}")
    located = [(c, place) for c in communes if (place := c.location) is not None]
    departements = {c.departement for c in communes}
    monday = start or _next_monday(dt.date.today())
    lieux = [lieu for c, place in located if (lieu := _town_hall(c, place)) is not None]
    if not lieux:  # Paris, say: its town hall publishes no opening hours
        raise LookupError("no town hall there publishes opening hours: no lieu to plan with")
    population = {c.insee: c.population for c in communes}
    count = conseillers or max(1, round(sum(population.values()) / 15_000))
    ranked = sorted(lieux, key=lambda lieu: -population[lieu["insee"]])
    return {
        "timezone": time_zone_for(departements),
        "holiday_calendar": holiday_calendar_for(departements),
        "start": monday.isoformat(),
        "days": days,
        "communes": [_commune(c, place) for c, place in located],
        "lieux": lieux,
        "conseillers": [
            {
                "id": f"c{i + 1:04d}",
                "home_lieu": ranked[i % len(ranked)]["id"],
                "weekly_hours_min": 30,
                "weekly_hours_max": 35,
                "availability": {day: ["am", "pm"] for day in ("mo", "tu", "we", "th", "fr")},
                "max_travel_minutes_per_day": 180,
            }
            for i in range(count)
        ],
    }


def _commune(commune: Commune, place: tuple[float, float]) -> dict[str, Any]:
    demand = Demand.default(commune.insee, commune.population).individual_hours
    return {
        "insee": commune.insee, "lat": place[0], "lon": place[1], "population": commune.population,
        "demand_hours": demand,
    }  # fmt: skip


def _town_hall(commune: Commune, place: tuple[float, float]) -> dict[str, Any] | None:
    try:
        hours = OpeningHours.from_mairie_horaires(commune.mairie_opening_hours or "")
    except InvalidOpeningHours:
        return None
    opening = {str(day): [[_hhmm(a), _hhmm(b)] for a, b in hours.weekly[day]] for day in range(7) if hours.weekly[day]}
    if not opening:
        return None
    return {
        "id": f"mairie-{commune.insee}",
        "insee": commune.insee,
        "lat": place[0],
        "lon": place[1],
        "capacity": 10,
        "opening": opening,
    }


def _hhmm(moment: dt.time) -> str:
    return "24:00" if moment == dt.time.max else moment.strftime("%H:%M")


def _next_monday(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=7 - today.weekday())
