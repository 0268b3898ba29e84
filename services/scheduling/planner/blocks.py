"""Which blocks exist: a lieu open for enough of a half-day, a conseiller free to hold it there.

A half-day is a window (morning 08:30–12:30, afternoon 13:30–17:30); a lieu's block in it is
its longest opening interval inside the window, if it lasts at least two hours. A conseiller
may hold it when the half-day is theirs (weekly, or fortnightly from a first date), they are
not absent, the day is not a public holiday, and the lieu is among the nearest to their home.
Each such block may be held as a permanence, or as an atelier where the lieu has the seats and
atelier demand is in reach (``planned_blocks``); a lieu's hours on a date are ``Lieu.hours_on``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace

from services.scheduling.planner.instance import HALVES, Conseiller, HalfDay, Instance, Kind, Lieu
from services.scheduling.planner.travel import TravelTimes

WINDOWS: dict[HalfDay, tuple[dt.time, dt.time]] = {
    "am": (dt.time(8, 30), dt.time(12, 30)),
    "pm": (dt.time(13, 30), dt.time(17, 30)),
}
MIDDAY = dt.time(13)
"""Where the morning ends and the afternoon begins, to tell which half-day a time falls in."""
MIN_BLOCK_HOURS = 2.0
NEAREST_LIEUX = 8
"""Each conseiller is offered only the lieux nearest their home (the measured sweet spot)."""


@dataclass(frozen=True)
class Block:
    lieu: str
    date: dt.date
    half: HalfDay
    start: dt.time
    end: dt.time
    kind: Kind = "permanence"
    recurrence: str | None = None
    """The coordinator's standing request it holds, if any."""

    @property
    def hours(self) -> float:
        return (dt.datetime.combine(self.date, self.end) - dt.datetime.combine(self.date, self.start)).seconds / 3600

    @property
    def halves(self) -> set[HalfDay]:
        """The half-days it takes from its holder (a recurrence across midday takes both)."""
        last = (dt.datetime.combine(self.date, self.end) - dt.timedelta(minutes=1)).time()
        return {half_of(self.start), half_of(last)}


def half_of(moment: dt.time) -> HalfDay:
    return "am" if moment < MIDDAY else "pm"


def lieu_block(lieu: Lieu, date: dt.date, half: HalfDay) -> Block | None:
    window_start, window_end = WINDOWS[half]
    best: tuple[dt.time, dt.time] | None = None
    for opens, closes in lieu.hours_on(date):
        start, end = max(opens, window_start), min(closes, window_end)
        if start < end and (best is None or _length(start, end) > _length(*best)):
            best = (start, end)
    if best is None or _length(*best) < MIN_BLOCK_HOURS:
        return None
    return Block(lieu.id, date, half, *best)


def _length(start: dt.time, end: dt.time) -> float:
    return (dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)).seconds / 3600


def works(conseiller: Conseiller, date: dt.date, half: HalfDay) -> bool:
    if half not in conseiller.availability.get(date.weekday(), frozenset()):
        return False
    first = conseiller.every_other_week.get(date.weekday())
    return first is None or (date >= first and (date - first).days % 14 == 0)


def absent(conseiller: Conseiller, block: Block) -> bool:
    starts, ends = dt.datetime.combine(block.date, block.start), dt.datetime.combine(block.date, block.end)
    return any(a.covers(starts, ends) for a in conseiller.absences)


def home(instance: Instance, conseiller: Conseiller) -> tuple[float, float]:
    lieu = instance.lieu(conseiller.home_lieu)
    return lieu.latitude, lieu.longitude


def reachable_lieux(instance: Instance, conseiller: Conseiller, travel: TravelTimes) -> list[Lieu]:
    """The nearest lieux to the conseiller's home that a return trip leaves within the daily limit."""
    start = home(instance, conseiller)
    by_time = sorted(
        instance.lieux,
        key=lambda lieu: (travel.minutes(start, (lieu.latitude, lieu.longitude), conseiller.travel_mode), lieu.id),
    )
    limit = conseiller.max_travel_minutes_per_day
    near = [
        lieu
        for lieu in by_time
        if 2 * travel.minutes(start, (lieu.latitude, lieu.longitude), conseiller.travel_mode) <= limit
    ]
    pinned = {p.lieu for p in instance.pins if p.conseiller == conseiller.id}
    previous = {p.lieu for p in instance.previous_plan if p.conseiller == conseiller.id}
    chosen = near[:NEAREST_LIEUX]
    chosen += [lieu for lieu in near[NEAREST_LIEUX:] if lieu.id in pinned | previous]
    return chosen


def planned_blocks(instance: Instance, conseiller: Conseiller, travel: TravelTimes) -> Iterator[Block]:
    """The half-day blocks the model may give the conseiller: each as a permanence, and also as
    an atelier at the lieux where one may be planned (``Instance.atelier_lieux``)."""
    for block in candidate_blocks(instance, conseiller, travel):
        yield block
        if block.lieu in instance.atelier_lieux:
            yield replace(block, kind="atelier")


def candidate_blocks(instance: Instance, conseiller: Conseiller, travel: TravelTimes) -> Iterator[Block]:
    """The half-day blocks the conseiller may hold, as permanences (the weekly hours count from them)."""
    lieux = reachable_lieux(instance, conseiller, travel)
    for date in instance.dates:
        if date in instance.holidays:
            continue
        for half in HALVES:
            if not works(conseiller, date, half):
                continue
            for lieu in lieux:
                block = lieu_block(lieu, date, half)
                if block is not None and not absent(conseiller, block):
                    yield block
