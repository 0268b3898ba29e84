"""Recurrences in the horizon: which occurrences must be held, by whom, and which are dropped.

An occurrence is a date of the horizon the recurrence falls on (``Recurrence.occurs_on``) that is
not a public holiday and on which its lieu opens at all. It is held, as a block of exactly its
hours in the half-day its start falls in, by a conseiller who works that half-day, is not absent
over it, has its skill, and can go to the lieu and back within their daily travel limit (any lieu
so reachable, not only the nearest: the coordinator chose it). One that breaks a rule of its lieu
(seats, computers, opening hours that date) or that no conseiller could hold is dropped, with a
note; every other one is a hard rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from services.scheduling.planner.blocks import Block, absent, half_of, home, works
from services.scheduling.planner.instance import Conseiller, Instance, Lieu, Permanence, Recurrence
from services.scheduling.planner.travel import TravelTimes


def recurrence_blocks(instance: Instance, travel: TravelTimes) -> tuple[list[tuple[Block, list[str]]], list[str]]:
    """Each occurrence to hold, as a block, with the conseillers who could hold it; and the notes
    on the occurrences dropped."""
    held: list[tuple[Block, list[str]]] = []
    notes: list[str] = []
    lieux = {lieu.id: lieu for lieu in instance.lieux}
    for recurrence in instance.recurrences:
        lieu = lieux.get(recurrence.lieu)
        if lieu is None:
            notes.append(f"recurrence {recurrence.id} dropped: there is no lieu {recurrence.lieu!r}")
            continue
        for block in occurrences(instance, recurrence, lieu):
            what = f"recurrence {recurrence.id} on {block.date} {block.start:%H:%M}–{block.end:%H:%M}"
            if problem := lieu_problem(recurrence, lieu, block.date):
                notes.append(f"{what} dropped: {problem}")
            elif who := holders(instance, recurrence, block, travel):
                held.append((block, who))
            else:
                notes.append(f"{what} dropped: no conseiller can hold it")
    return held, notes


def occurrences(instance: Instance, recurrence: Recurrence, lieu: Lieu) -> list[Block]:
    return [
        Block(
            lieu.id, date, half_of(recurrence.start), recurrence.start, recurrence.end, recurrence.kind, recurrence.id
        )
        for date in instance.dates
        if recurrence.occurs_on(date) and date not in instance.holidays and lieu.hours_on(date)
    ]


def lieu_problem(recurrence: Recurrence, lieu: Lieu, date: dt.date) -> str | None:
    if lieu.capacity < recurrence.seats:
        return f"{lieu.id} has {lieu.capacity} seats, it needs {recurrence.seats}"
    if recurrence.needs_computers and not lieu.has_computers:
        return f"{lieu.id} has no computers"
    if not any(opens <= recurrence.start and recurrence.end <= closes for opens, closes in lieu.hours_on(date)):
        return f"{lieu.id} is not open all that time that day"
    return None


def holders(instance: Instance, recurrence: Recurrence, block: Block, travel: TravelTimes) -> list[str]:
    lieu = instance.lieu(block.lieu)
    return [
        c.id
        for c in instance.conseillers
        if works(c, block.date, block.half)
        and not absent(c, block)
        and (recurrence.skill is None or recurrence.skill in c.skills)
        and _round_trip(instance, c, (lieu.latitude, lieu.longitude), travel) <= c.max_travel_minutes_per_day
    ]


def _round_trip(instance: Instance, c: Conseiller, place: tuple[float, float], travel: TravelTimes) -> int:
    return 2 * travel.minutes(home(instance, c), place, c.travel_mode)


def as_held(instance: Instance, p: Permanence) -> Permanence:
    """A stored plan's permanence, naming the recurrence it holds (a plan does not keep which): the
    first of its lieu's that asks for exactly it (kind, start and end) on that date; unchanged if none does."""
    asked = next(
        (
            r.id
            for r in instance.recurrences
            if (r.lieu, r.kind, r.start, r.end) == (p.lieu, p.kind, p.start, p.end) and r.occurs_on(p.date)
        ),
        None,
    )
    return p if asked is None else replace(p, recurrence=asked)
