"""The calendar and the places as the checker reads them, re-derived from the instance alone
(no code shared with ``blocks`` or the model): half-day windows, a conseiller's working days, a
lieu's hours on a date, the block a lieu offers in a half-day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.scheduling.planner.instance import Conseiller, HalfDay, Instance, Interval, Lieu, Permanence
from services.scheduling.planner.travel import CrowFlies, TravelTimes
from shared.geo import Point

WINDOW: dict[str, tuple[dt.time, dt.time]] = {
    "am": (dt.time(8, 30), dt.time(12, 30)),
    "pm": (dt.time(13, 30), dt.time(17, 30)),
}
NOON = dt.time(13)
"""A time before 13:00 is in the morning."""
SHORTEST = dt.timedelta(hours=2)
HALF_NAMES = {"am": "morning", "pm": "afternoon"}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def open_on(lieu: Lieu, date: dt.date) -> tuple[Interval, ...]:
    """The lieu's hours that date: closed on its closed dates, else its hours for that very date
    if it has some (none: closed), else the weekday's."""
    if date in lieu.closed_dates:
        return ()
    return lieu.dated_opening.get(date, lieu.opening.get(date.weekday(), ()))


def half_days_taken(p: Permanence) -> set[str]:
    """The half-days a permanence takes from its conseiller: those its start and its last minute fall in."""
    last = (dt.datetime.combine(p.date, p.end) - dt.timedelta(minutes=1)).time()
    return {"am" if moment < NOON else "pm" for moment in (p.start, last)}


@dataclass(frozen=True)
class Opening:
    """The longest stretch a lieu is open within a half-day's window (the block a permanence holds)."""

    start: dt.time
    end: dt.time

    @property
    def tenths(self) -> int:
        return tenths(self.start, self.end)


def lieu_opening(lieu: Lieu, date: dt.date, half: HalfDay | str) -> Opening | None:
    """The longest opening interval of the lieu within the half-day's window, if two hours or more."""
    window_start, window_end = WINDOW[half]
    spans = [(max(opens, window_start), min(closes, window_end)) for opens, closes in open_on(lieu, date)]
    spans = [(s, e) for s, e in spans if s < e and duration(s, e) >= SHORTEST]
    if not spans:
        return None
    longest = max(duration(s, e) for s, e in spans)
    start, end = next((s, e) for s, e in spans if duration(s, e) == longest)
    return Opening(start, end)


def holdable_opening(
    instance: Instance,
    conseiller: Conseiller,
    lieu: Lieu,
    date: dt.date,
    half: HalfDay | str,
    travel: TravelTimes | None = None,
) -> Opening | None:
    """The block the conseiller could hold at the lieu that half-day, alone, within every rule."""
    travel = travel or CrowFlies()
    if date not in instance.dates or date in instance.holidays or not works(conseiller, date, half):
        return None
    opening = lieu_opening(lieu, date, half)
    if opening is None:
        return None
    starts, ends = dt.datetime.combine(date, opening.start), dt.datetime.combine(date, opening.end)
    if any(a.start < ends and starts < a.end for a in conseiller.absences):
        return None
    home = point(next(lieu for lieu in instance.lieux if lieu.id == conseiller.home_lieu))
    if 2 * travel.minutes(home, point(lieu), conseiller.travel_mode) > conseiller.max_travel_minutes_per_day:
        return None
    return opening


def describe(p: Permanence) -> str:
    return f"{p.conseiller} at {p.lieu} on {p.date} {p.half} {p.start:%H:%M}–{p.end:%H:%M}"


def works(conseiller: Conseiller, date: dt.date, half: str) -> bool:
    return half in conseiller.availability.get(date.weekday(), frozenset()) and fortnight_ok(conseiller, date)


def fortnight_ok(conseiller: Conseiller, date: dt.date) -> bool:
    first = conseiller.every_other_week.get(date.weekday())
    if first is None:
        return True
    return date >= first and (date - first).days % 14 == 0


def duration(start: dt.time, end: dt.time) -> dt.timedelta:
    day = dt.date(2000, 1, 1)
    return dt.datetime.combine(day, end) - dt.datetime.combine(day, start)


def tenths(start: dt.time, end: dt.time) -> int:
    """Tenths of an hour from start to end (zero when it ends before it starts)."""
    return max(0, round(duration(start, end).total_seconds() / 360))


def monday_of(date: dt.date) -> dt.date:
    return date - dt.timedelta(days=date.weekday())


def point(lieu: Lieu) -> Point:
    return lieu.latitude, lieu.longitude
