"""The planner's instance for a territory and a week, from scheduling's copy of the registry.

Contracts count all the conseiller's hours (preparation, training, meetings too): the hours held
in permanences are taken to lie between ``FACE_TO_FACE_MIN`` and ``FACE_TO_FACE_MAX`` of them.
An "every N weeks" slot becomes, on the weeks it does not occur, an absence for that half-day.
A lieu's dated exceptions to its weekly hours (closures included) become its ``dated_opening``;
a closed lieu holds nothing (it may still be a conseiller's home). Its recurrences (a coordinator's
standing requests, "an atelier every Friday 16:00–17:00") are planned, unless it is closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from services.scheduling.domain import registry_copy as copy
from services.scheduling.planner.blocks import MIDDAY
from services.scheduling.planner.instance import Absence, Commune, Conseiller, HalfDay, Instance, Lieu, Recurrence
from services.scheduling.planner.scenario import holidays_in
from shared.opening_hours import OpeningHours

FACE_TO_FACE_MIN = 0.5
FACE_TO_FACE_MAX = 0.85
HALF_DAY_BOUNDS: dict[HalfDay, tuple[dt.time, dt.time]] = {
    "am": (dt.time(0), MIDDAY),
    "pm": (MIDDAY, dt.time.max),
}


def instance_for(
    territory: copy.Territory,
    conseillers: Sequence[copy.Conseiller],
    lieux: Sequence[copy.Lieu],
    absences: Iterable[copy.Absence],
    demand: dict[str, copy.Demand],
    *,
    start: dt.date,
    days: int,
) -> Instance:
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    away: dict[str, list[Absence]] = {}
    for absence in absences:
        away.setdefault(str(absence.conseiller_id), []).append(_absence(absence))
    return Instance(
        time_zone=territory.time_zone,
        start=start,
        days=days,
        communes=tuple(
            Commune(
                c.insee,
                c.latitude,
                c.longitude,
                c.population,
                demand[c.insee].individual_hours if c.insee in demand else 0.0,
                demand[c.insee].atelier_hours if c.insee in demand else 0.0,
            )
            for c in territory.communes
            if c.latitude is not None and c.longitude is not None
        ),
        lieux=tuple(_lieu(lieu, dates) for lieu in lieux),
        recurrences=tuple(r for lieu in lieux for r in _recurrences(lieu)),
        conseillers=tuple(_conseiller(c, dates, away.get(str(c.id), [])) for c in conseillers),
        holidays=frozenset(holidays_in(territory.holiday_calendar, dates)),
    )


def _lieu(lieu: copy.Lieu, dates: list[dt.date]) -> Lieu:
    hours = OpeningHours.parse(lieu.opening_hours)
    dated = {d: hours.intervals_on(d) for d in dates if hours.intervals_on(d) != hours.weekly[d.weekday()]}
    if lieu.closed:  # still a conseiller's home (where their days start), but nothing is held there
        dated = dict.fromkeys(dates, ())
    return Lieu(
        id=str(lieu.id),
        insee=lieu.commune,
        latitude=lieu.latitude,
        longitude=lieu.longitude,
        capacity=lieu.capacity,
        opening={day: hours.weekly[day] for day in range(7) if hours.weekly[day]},
        has_computers=lieu.has_computers,
        dated_opening=dated,
    )


def _recurrences(lieu: copy.Lieu) -> list[Recurrence]:
    if lieu.closed:
        return []
    return [
        Recurrence(
            id=str(r.id),
            lieu=str(lieu.id),
            weekday=r.weekday,
            start=r.start,
            end=r.end,
            every_weeks=r.every_weeks,
            first_date=r.from_date,
            kind=r.kind,
            skill=r.skill,
            seats=r.seats,
            needs_computers=r.needs_computers,
        )
        for r in lieu.recurrences
    ]


def _conseiller(c: copy.Conseiller, dates: list[dt.date], absences: list[Absence]) -> Conseiller:
    availability: dict[int, set[HalfDay]] = {}
    off_weeks = []
    for slot in c.availability:
        availability.setdefault(slot.weekday, set()).add(slot.half)
        off_weeks += [_half_day(d, slot.half) for d in dates if d.weekday() == slot.weekday and not slot.occurs_on(d)]
    return Conseiller(
        id=str(c.id),
        home_lieu=str(c.home_lieu_id),
        weekly_hours_min=round(c.weekly_hours * FACE_TO_FACE_MIN, 1),
        weekly_hours_max=round(c.weekly_hours * FACE_TO_FACE_MAX, 1),
        availability={day: frozenset(halves) for day, halves in availability.items()},
        absences=tuple(absences + off_weeks),
        travel_mode=c.travel_mode,  # type: ignore[arg-type]  # the registry's contract restricts it
        max_travel_minutes_per_day=c.max_travel_minutes_per_day,
        skills=frozenset(c.skills),
    )


def _absence(absence: copy.Absence) -> Absence:
    start = dt.datetime.combine(absence.start_date, HALF_DAY_BOUNDS[absence.start_half][0])
    end = dt.datetime.combine(absence.end_date, HALF_DAY_BOUNDS[absence.end_half][1])
    return Absence(start, end)


def _half_day(date: dt.date, half: HalfDay) -> Absence:
    opens, closes = HALF_DAY_BOUNDS[half]
    return Absence(dt.datetime.combine(date, opens), dt.datetime.combine(date, closes), off_week=True)
