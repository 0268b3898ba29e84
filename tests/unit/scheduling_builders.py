"""Builders of scheduling's domain objects for the unit tests: a conseiller, an absence, a permanence, a draft."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from services.scheduling.domain.model import Permanence, Plan
from services.scheduling.domain.registry_copy import Absence, AvailabilitySlot, Conseiller

REUNION = ZoneInfo("Indian/Reunion")
MONDAY = dt.date(2026, 11, 30)
SATURDAY = MONDAY + dt.timedelta(days=5)


def conseiller(*availability: AvailabilitySlot, archived: bool = False, territories=("epci:249740101",)) -> Conseiller:
    return Conseiller(
        id=uuid.uuid4(),
        name="Ana Payet",
        employer_structure_id=uuid.uuid4(),
        home_lieu_id=uuid.uuid4(),
        weekly_hours=35,
        availability=availability or (AvailabilitySlot(0, "am"), AvailabilitySlot(0, "pm")),
        skills=("administratif", "smartphone"),
        travel_mode="car",
        max_travel_minutes_per_day=90,
        territories=tuple(territories),
        archived=archived,
    )


def absence(who: Conseiller, start: tuple[dt.date, str], end: tuple[dt.date, str]) -> Absence:
    return Absence(uuid.uuid4(), who.id, start[0], start[1], end[0], end[1], "conge")  # type: ignore[arg-type]


def permanence(who: Conseiller, day: int, start: int, end: int) -> Permanence:
    date = MONDAY + dt.timedelta(days=day)
    return Permanence(
        uuid.uuid4(),
        who.id,
        "97422",
        "Relais solidarité",
        "permanence",
        dt.datetime.combine(date, dt.time(start), REUNION),
        dt.datetime.combine(date, dt.time(end), REUNION),
    )


def draft(*items: Permanence, who: Conseiller, week_start: dt.date = MONDAY, zone="Indian/Reunion") -> Plan:
    return Plan.draft(uuid.uuid4(), "epci:249740101", week_start, zone, list(items), {who.id: who})
