"""Recurrences as the checker reads them, re-derived from the instance alone (no code shared with
``recurrences``): each occurrence that can be held is held exactly once, as asked, by a conseiller
with the skill; one that breaks a rule of its lieu or that nobody could hold is not held at all."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from services.scheduling.planner.checker_calendar import NOON, monday_of, open_on, point, works
from services.scheduling.planner.findings import Finding
from services.scheduling.planner.instance import Conseiller, Instance, Lieu, Permanence, Recurrence
from services.scheduling.planner.travel import TravelTimes


def recurrence_rules(instance: Instance, p: Permanence, what: str) -> list[str]:
    """The rules of the one recurrence a permanence says it holds."""
    recurrence = next((r for r in instance.recurrences if r.id == p.recurrence), None)
    if recurrence is None:
        return [f"{what}: there is no recurrence {p.recurrence!r}."]
    found = []
    asked = (recurrence.lieu, recurrence.start, recurrence.end, recurrence.kind)
    if (p.lieu, p.start, p.end, p.kind) != asked:
        found.append(f"{what}: recurrence {recurrence.id} asks for a {recurrence.kind} at {recurrence.lieu} "
                     f"{recurrence.start:%H:%M}–{recurrence.end:%H:%M}.")  # fmt: skip
    if p.half != _half(recurrence.start):
        found.append(f"{what}: it starts in the {_half(recurrence.start)}, not the {p.half}.")
    if p.date.weekday() != recurrence.weekday or not _in_rhythm(recurrence, p.date):
        found.append(f"{what}: recurrence {recurrence.id} does not fall on {p.date}.")
    conseiller = next((c for c in instance.conseillers if c.id == p.conseiller), None)
    if recurrence.skill is not None and conseiller is not None and recurrence.skill not in conseiller.skills:
        found.append(f"{what}: {p.conseiller} does not have the skill {recurrence.skill!r}.")
    lieu = next((lieu for lieu in instance.lieux if lieu.id == recurrence.lieu), None)
    if lieu is not None and (broken := lieu_breaks(recurrence, lieu, p.date)):
        found.append(f"{what}: {broken}.")
    return found


def held_exactly_once(instance: Instance, plan: list[Permanence], travel: TravelTimes) -> list[Finding]:
    held = Counter((p.recurrence, p.date) for p in plan if p.recurrence is not None)
    found = []
    for recurrence in instance.recurrences:
        for date in occurrence_dates(instance, recurrence):
            expected = 1 if holdable(instance, recurrence, date, travel) else 0
            times = held[(recurrence.id, date)]
            if times != expected:
                found.append(
                    Finding(
                        "recurrence",
                        f"recurrence {recurrence.id} on {date} is held {times} time(s), not {expected}.",
                        permanences=tuple(p for p in plan if p.recurrence == recurrence.id and p.date == date),
                        lieu=recurrence.lieu,
                        date=date,
                        half=_half(recurrence.start),
                        amount=times,
                        limit=expected,
                        intervals=((recurrence.start, recurrence.end),),
                    )
                )
    return found


def occurrence_dates(instance: Instance, recurrence: Recurrence) -> list[dt.date]:
    """Its dates in the horizon, public holidays and the lieu's closed days aside."""
    lieu = next((lieu for lieu in instance.lieux if lieu.id == recurrence.lieu), None)
    return [
        date
        for date in instance.dates
        if lieu is not None
        and date.weekday() == recurrence.weekday
        and _in_rhythm(recurrence, date)
        and date not in instance.holidays
        and open_on(lieu, date)
    ]


def holdable(instance: Instance, recurrence: Recurrence, date: dt.date, travel: TravelTimes) -> bool:
    lieu = next(lieu for lieu in instance.lieux if lieu.id == recurrence.lieu)
    if lieu_breaks(recurrence, lieu, date):
        return False
    return any(_can_hold(instance, c, recurrence, lieu, date, travel) for c in instance.conseillers)


def lieu_breaks(recurrence: Recurrence, lieu: Lieu, date: dt.date) -> str | None:
    if lieu.capacity < recurrence.seats:
        return f"{lieu.id} seats {lieu.capacity}, fewer than the {recurrence.seats} asked"
    if recurrence.needs_computers and not lieu.has_computers:
        return f"{lieu.id} has no computers"
    if not any(opens <= recurrence.start and recurrence.end <= closes for opens, closes in open_on(lieu, date)):
        return f"{lieu.id} is not open from {recurrence.start:%H:%M} to {recurrence.end:%H:%M} on {date}"
    return None


def _can_hold(
    instance: Instance, c: Conseiller, recurrence: Recurrence, lieu: Lieu, date: dt.date, travel: TravelTimes
) -> bool:
    starts, ends = dt.datetime.combine(date, recurrence.start), dt.datetime.combine(date, recurrence.end)
    home = next(lieu for lieu in instance.lieux if lieu.id == c.home_lieu)
    return (
        works(c, date, _half(recurrence.start))
        and not any(a.start < ends and starts < a.end for a in c.absences)
        and (recurrence.skill is None or recurrence.skill in c.skills)
        and 2 * travel.minutes(point(home), point(lieu), c.travel_mode) <= c.max_travel_minutes_per_day
    )


def _in_rhythm(recurrence: Recurrence, date: dt.date) -> bool:
    first = recurrence.first_date
    if first is None:
        return True
    return date >= first and ((monday_of(date) - monday_of(first)).days // 7) % recurrence.every_weeks == 0


def _half(moment: dt.time) -> str:
    return "am" if moment < NOON else "pm"
