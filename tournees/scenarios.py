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
from services.registry.domain.geography import holiday_calendar_for, time_zone_for
from shared.opening_hours import InvalidOpeningHours, OpeningHours


def build(
    *, epci: str | None = None, departement: str | None = None, conseillers: int | None = None,
    start: dt.date | None = None, days: int = 5,
) -> dict[str, Any]:  # fmt: skip
    rows = [
        row
        for row in read_communes()
        if (epci and row["epci_siren"] == epci) or (departement and row["departement"] == departement)
    ]
    if not rows:
        raise LookupError(f"no commune in {'EPCI ' + epci if epci else 'département ' + str(departement)}")
    located = [row for row in rows if _location(row) is not None]
    departements = {row["departement"] for row in rows}
    monday = start or _next_monday(dt.date.today())
    lieux = [lieu for row in located if (lieu := _town_hall(row)) is not None]
    if not lieux:  # Paris, say: its town hall publishes no opening hours
        raise LookupError("no town hall there publishes opening hours: no lieu to plan with")
    count = conseillers or max(1, round(sum(row["population"] for row in rows) / 15_000))
    ranked = sorted(lieux, key=lambda lieu: -next(r["population"] for r in rows if r["insee"] == lieu["insee"]))
    return {
        "timezone": time_zone_for(departements),
        "holiday_calendar": holiday_calendar_for(departements),
        "start": monday.isoformat(),
        "days": days,
        "communes": [_commune(row) for row in located],
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


def _commune(row: dict[str, Any]) -> dict[str, Any]:
    lat, lon = _location(row) or (0.0, 0.0)
    demand = Demand.default(row["insee"], row["population"]).individual_hours
    return {"insee": row["insee"], "lat": lat, "lon": lon, "population": row["population"], "demand_hours": demand}


def _location(row: dict[str, Any]) -> tuple[float, float] | None:
    lat, lon = row["mairie_latitude"] or row["latitude"], row["mairie_longitude"] or row["longitude"]
    return None if lat is None or lon is None else (lat, lon)


def _town_hall(row: dict[str, Any]) -> dict[str, Any] | None:
    try:
        hours = OpeningHours.from_mairie_horaires(row["mairie_opening_hours"] or "")
    except InvalidOpeningHours:
        return None
    opening = {str(day): [[_hhmm(a), _hhmm(b)] for a, b in hours.weekly[day]] for day in range(7) if hours.weekly[day]}
    if not opening:
        return None
    lat, lon = _location(row) or (0.0, 0.0)
    return {
        "id": f"mairie-{row['insee']}",
        "insee": row["insee"],
        "lat": lat,
        "lon": lon,
        "capacity": 10,
        "opening": opening,
    }


def _hhmm(moment: dt.time) -> str:
    return "24:00" if moment == dt.time.max else moment.strftime("%H:%M")


def _next_monday(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=7 - today.weekday())
