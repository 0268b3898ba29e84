"""An independent check of a plan against the hard rules, re-derived from the instance alone.

It shares no code with the model (``cpsat``) nor with the enumeration of blocks (``blocks``),
so that a mistake in one is not repeated in the other: the tests run the model on random
instances and ask this module whether every returned plan keeps every rule.

The rules, as the issue states them:

* each permanence names a conseiller and a lieu that exist, on a date of the horizon;
* the conseiller works that half-day: weekly, or fortnightly from a first date (every 14 days
  from it, none before); is not absent at any moment of it; the day is not a public holiday;
* the lieu is open: not one of its closed dates, and the permanence lies within one of its
  opening intervals of that weekday, within the half-day's window (morning 08:30–12:30,
  afternoon 13:30–17:30) and lasts at least two hours;
* one permanence per conseiller per half-day; at most ``rooms`` permanences per lieu per half-day;
* weekly hours (Monday-based weeks) at most the contract's maximum; the minimum is soft: the
  hours below it (the contract's minimum scaled to the share of the conseiller's nominal
  half-days of that week that are workable, and never more than the blocks they could hold
  allow) must be those the plan reports (``short_hours``);
* daily travel, home → morning lieu → afternoon lieu → home, each leg rounded to the minute,
  within the conseiller's limit;
* an atelier (not asked for by a recurrence) is at a lieu of at least six seats, with a commune
  asking for ateliers within reach;
* every pin of the coordinator is in the plan.

Hours are counted in tenths of an hour, each permanence to the nearest tenth, as the contract
and the demand are.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.scheduling.planner.instance import Conseiller, HalfDay, Instance, Lieu, Permanence
from services.scheduling.planner.travel import CrowFlies, TravelTimes
from shared.geo import Point, great_circle_km

WINDOW: dict[str, tuple[dt.time, dt.time]] = {
    "am": (dt.time(8, 30), dt.time(12, 30)),
    "pm": (dt.time(13, 30), dt.time(17, 30)),
}
SHORTEST = dt.timedelta(hours=2)
ATELIER_SEATS = 6
HALF_NAMES = {"am": "morning", "pm": "afternoon"}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Opening:
    """The longest stretch a lieu is open within a half-day's window (the block a permanence holds)."""

    start: dt.time
    end: dt.time

    @property
    def tenths(self) -> int:
        return _tenths(self.start, self.end)


def violations(
    instance: Instance,
    permanences: Iterable[Permanence],
    travel: TravelTimes | None = None,
    *,
    reported_short_hours: Mapping[str, float] | None = None,
) -> list[str]:
    """Every hard rule the plan breaks, one readable sentence each; ``[]`` when it keeps them all.
    With ``reported_short_hours`` (the plan's figures), also each shortfall misreported."""
    travel = travel or CrowFlies()
    plan = list(permanences)
    conseillers = {c.id: c for c in instance.conseillers}
    lieux = {lieu.id: lieu for lieu in instance.lieux}
    found: list[str] = []
    known: list[Permanence] = []
    for p in plan:
        broken = _permanence_rules(instance, conseillers, lieux, p)
        found.extend(broken)
        if p.conseiller in conseillers and p.lieu in lieux:
            known.append(p)
    found.extend(_one_place_per_half_day(known))
    found.extend(_rooms(lieux, known))
    for conseiller in instance.conseillers:
        mine = [p for p in known if p.conseiller == conseiller.id]
        found.extend(_daily_travel(instance, conseiller, mine, travel))
        found.extend(_weekly_maximum(conseiller, mine))
    found.extend(_pins(instance, plan))
    if reported_short_hours is not None:
        found.extend(_misreported(short_hours(instance, known, travel), reported_short_hours))
    return found


# --- one permanence at a time ----------------------------------------------------------------


def _permanence_rules(
    instance: Instance, conseillers: dict[str, Conseiller], lieux: dict[str, Lieu], p: Permanence
) -> list[str]:
    what = describe(p)
    found: list[str] = []
    conseiller = conseillers.get(p.conseiller)
    lieu = lieux.get(p.lieu)
    if conseiller is None:
        found.append(f"{what}: there is no conseiller {p.conseiller!r}.")
    if lieu is None:
        found.append(f"{what}: there is no lieu {p.lieu!r}.")
    if not instance.start <= p.date < instance.start + dt.timedelta(days=instance.days):
        found.append(f"{what}: {p.date} is outside the planned horizon.")
    if p.date in instance.holidays:
        found.append(f"{what}: {p.date} is a public holiday.")
    if conseiller is not None:
        found.extend(_conseiller_rules(conseiller, p, what))
    if lieu is not None:
        found.extend(_lieu_rules(lieu, p, what))
    if lieu is not None and p.kind == "atelier" and p.recurrence is None:
        found.extend(_atelier_rules(instance, lieu, what))
    found.extend(_time_rules(p, what))
    return found


def _conseiller_rules(conseiller: Conseiller, p: Permanence, what: str) -> list[str]:
    found: list[str] = []
    weekday = p.date.weekday()
    if p.half not in conseiller.availability.get(weekday, frozenset()):
        found.append(f"{what}: {conseiller.id} does not work on {WEEKDAY_NAMES[weekday]} {HALF_NAMES[p.half]}s.")
    elif not _fortnight_ok(conseiller, p.date):
        first = conseiller.every_other_week[weekday]
        found.append(
            f"{what}: {conseiller.id} works on {WEEKDAY_NAMES[weekday]}s only every other week from {first}, "
            f"and {p.date} is not one of those weeks."
        )
    starts, ends = dt.datetime.combine(p.date, p.start), dt.datetime.combine(p.date, p.end)
    for absence in conseiller.absences:
        if absence.start < ends and starts < absence.end:
            found.append(
                f"{what}: {conseiller.id} is absent from {absence.start:%Y-%m-%d %H:%M} "
                f"to {absence.end:%Y-%m-%d %H:%M}."
            )
    return found


def _lieu_rules(lieu: Lieu, p: Permanence, what: str) -> list[str]:
    found: list[str] = []
    if p.date in lieu.closed_dates:
        found.append(f"{what}: {lieu.id} is closed on {p.date}.")
    intervals = lieu.opening.get(p.date.weekday(), ())
    if not any(opens <= p.start and p.end <= closes for opens, closes in intervals):
        hours = ", ".join(f"{o:%H:%M}–{c:%H:%M}" for o, c in intervals) or "closed all day"
        found.append(f"{what}: {lieu.id} is not open all that time on {WEEKDAY_NAMES[p.date.weekday()]}s ({hours}).")
    return found


def _atelier_rules(instance: Instance, lieu: Lieu, what: str) -> list[str]:
    found: list[str] = []
    if lieu.capacity < ATELIER_SEATS:
        found.append(f"{what}: an atelier needs {ATELIER_SEATS} seats, {lieu.id} has {lieu.capacity}.")
    place = _point(lieu)
    if not any(
        c.atelier_hours > 0 and great_circle_km(place, (c.latitude, c.longitude)) <= instance.reach_km
        for c in instance.communes
    ):
        found.append(f"{what}: no commune within {instance.reach_km:g} km of {lieu.id} asks for ateliers.")
    return found


def _time_rules(p: Permanence, what: str) -> list[str]:
    found: list[str] = []
    window = WINDOW.get(p.half)
    if window is None:
        return [f"{what}: {p.half!r} is neither a morning nor an afternoon."]
    if not (window[0] <= p.start and p.end <= window[1]):
        found.append(f"{what}: it is not within the {HALF_NAMES[p.half]}'s window {window[0]:%H:%M}–{window[1]:%H:%M}.")
    if _duration(p.start, p.end) < SHORTEST:
        found.append(f"{what}: it lasts less than two hours.")
    return found


# --- rules over the whole plan ---------------------------------------------------------------


def _one_place_per_half_day(plan: list[Permanence]) -> list[str]:
    slots: dict[tuple[str, dt.date, str], list[Permanence]] = defaultdict(list)
    for p in plan:
        slots[(p.conseiller, p.date, p.half)].append(p)
    return [
        f"{who} has {len(ps)} permanences on {date} {HALF_NAMES.get(half, half)} "
        f"({', '.join(p.lieu for p in ps)}); one at most."
        for (who, date, half), ps in sorted(slots.items())
        if len(ps) > 1
    ]


def _rooms(lieux: dict[str, Lieu], plan: list[Permanence]) -> list[str]:
    held: dict[tuple[str, dt.date, str], list[Permanence]] = defaultdict(list)
    for p in plan:
        held[(p.lieu, p.date, p.half)].append(p)
    found: list[str] = []
    for (lieu_id, date, half), ps in sorted(held.items()):
        rooms = lieux[lieu_id].rooms
        if len(ps) > rooms:
            found.append(
                f"{lieu_id} hosts {len(ps)} conseillers on {date} {HALF_NAMES.get(half, half)} "
                f"({', '.join(sorted(p.conseiller for p in ps))}) but has {rooms} room(s)."
            )
    return found


def _daily_travel(instance: Instance, conseiller: Conseiller, plan: list[Permanence], travel: TravelTimes) -> list[str]:
    days: dict[dt.date, list[Permanence]] = defaultdict(list)
    for p in plan:
        days[p.date].append(p)
    found: list[str] = []
    for date, day in sorted(days.items()):
        minutes, stops = day_travel(instance, conseiller, day, travel)
        if minutes > conseiller.max_travel_minutes_per_day:
            found.append(
                f"{conseiller.id} travels {minutes} min on {date} ({' → '.join(stops)}), "
                f"above the limit of {conseiller.max_travel_minutes_per_day} min a day."
            )
    return found


def day_travel(
    instance: Instance, conseiller: Conseiller, day: list[Permanence], travel: TravelTimes | None = None
) -> tuple[int, list[str]]:
    """Minutes of one day's round, home → the day's lieux in time order → home, and its stops."""
    travel = travel or CrowFlies()
    lieux = {lieu.id: lieu for lieu in instance.lieux}
    route = [
        conseiller.home_lieu,
        *(p.lieu for p in sorted(day, key=lambda p: (p.start, p.half))),
        conseiller.home_lieu,
    ]
    minutes = sum(
        travel.minutes(_point(lieux[a]), _point(lieux[b]), conseiller.travel_mode) for a, b in itertools.pairwise(route)
    )
    return minutes, ["home", *route[1:-1], "home"]


def _weekly_maximum(conseiller: Conseiller, plan: list[Permanence]) -> list[str]:
    weeks: dict[dt.date, int] = defaultdict(int)
    for p in plan:
        weeks[_monday(p.date)] += _tenths(p.start, p.end)
    high = round(conseiller.weekly_hours_max * 10)
    return [
        f"{conseiller.id} works {worked / 10:g} h in the week of {monday}, "
        f"above the contract's {conseiller.weekly_hours_max:g} h."
        for monday, worked in sorted(weeks.items())
        if worked > high
    ]


def short_hours(
    instance: Instance, permanences: Iterable[Permanence], travel: TravelTimes | None = None
) -> dict[str, float]:
    """Conseiller → hours below their weekly minimums (``weekly_minimum``), only those short."""
    weeks: dict[tuple[str, dt.date], int] = defaultdict(int)
    for p in permanences:
        weeks[(p.conseiller, _monday(p.date))] += _tenths(p.start, p.end)
    short: dict[str, float] = {}
    for conseiller in instance.conseillers:
        missing = 0
        for monday in sorted({_monday(d) for d in instance.dates}):
            low, _ = weekly_minimum(instance, conseiller, monday, travel)
            missing += max(0, low - weeks[(conseiller.id, monday)])
        if missing:
            short[conseiller.id] = missing / 10
    return short


def _misreported(real: Mapping[str, float], reported: Mapping[str, float]) -> list[str]:
    return [
        f"{who} is {real.get(who, 0):g} h short of their minimum, but the plan reports {reported.get(who, 0):g} h."
        for who in sorted(set(real) | set(reported))
        if abs(real.get(who, 0) - reported.get(who, 0)) > 1e-6
    ]


def weekly_minimum(
    instance: Instance, conseiller: Conseiller, monday: dt.date, travel: TravelTimes | None = None
) -> tuple[int, str]:
    """The least a conseiller must work in a week, in tenths of an hour, and how it was found.

    The contract's minimum, times the share of the half-days they nominally work that week
    (their weekly and fortnightly slots) that are workable (in the horizon, not a holiday, with
    a lieu open long enough that they are not absent for and can go to and back from home within
    their daily travel limit), capped by the hours of the longest such block of each of those
    half-days."""
    nominal, best = _workable(instance, conseiller, monday, travel or CrowFlies())
    if not nominal:
        return 0, "no nominal half-day that week"
    share = len(best) / nominal
    scaled = round(conseiller.weekly_hours_min * 10 * share)
    cap = sum(best.values())
    why = (
        f"the {conseiller.weekly_hours_min:g} h minimum for {len(best)} of {nominal} nominal half-days "
        f"workable, at most {cap / 10:g} h possible"
    )
    return min(scaled, cap), why


def full_week(instance: Instance, conseiller: Conseiller, monday: dt.date, travel: TravelTimes | None = None) -> int:
    """A full week, in tenths of an hour: the contract's maximum times the share of workable half-days."""
    nominal, best = _workable(instance, conseiller, monday, travel or CrowFlies())
    return round(conseiller.weekly_hours_max * 10 * len(best) / nominal) if nominal else 0


def _workable(
    instance: Instance, conseiller: Conseiller, monday: dt.date, travel: TravelTimes
) -> tuple[int, dict[tuple[dt.date, str], int]]:
    """How many half-days the conseiller nominally works that week, and the longest block of each workable one."""
    week = [monday + dt.timedelta(days=i) for i in range(7)]
    nominal = [(d, half) for d in week for half in WINDOW if _works(conseiller, d, half)]
    best: dict[tuple[dt.date, str], int] = {}
    for d, half in nominal:
        holdable = [
            opening.tenths
            for lieu in instance.lieux
            if (opening := holdable_opening(instance, conseiller, lieu, d, half, travel)) is not None
        ]
        if holdable:
            best[(d, half)] = max(holdable)
    return len(nominal), best


def hours_share_spread(instance: Instance, permanences: Iterable[Permanence], travel: TravelTimes | None = None) -> int:
    """Percentage points (each share rounded down) between the highest and the lowest share of a
    full horizon (``full_week``, summed) that the conseillers who can work at all work."""
    worked: dict[str, int] = defaultdict(int)
    for p in permanences:
        worked[p.conseiller] += _tenths(p.start, p.end)
    mondays = sorted({_monday(d) for d in instance.dates})
    points = []
    for conseiller in instance.conseillers:
        full = sum(full_week(instance, conseiller, monday, travel) for monday in mondays)
        if full:
            points.append(100 * worked[conseiller.id] // full)
    return max(points) - min(points) if len(points) > 1 else 0


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
    if date not in instance.dates or date in instance.holidays or not _works(conseiller, date, half):
        return None
    opening = lieu_opening(lieu, date, half)
    if opening is None:
        return None
    starts, ends = dt.datetime.combine(date, opening.start), dt.datetime.combine(date, opening.end)
    if any(a.start < ends and starts < a.end for a in conseiller.absences):
        return None
    home = _point(next(lieu for lieu in instance.lieux if lieu.id == conseiller.home_lieu))
    if 2 * travel.minutes(home, _point(lieu), conseiller.travel_mode) > conseiller.max_travel_minutes_per_day:
        return None
    return opening


def lieu_opening(lieu: Lieu, date: dt.date, half: HalfDay | str) -> Opening | None:
    """The longest opening interval of the lieu within the half-day's window, if two hours or more."""
    if date in lieu.closed_dates:
        return None
    window_start, window_end = WINDOW[half]
    spans = [
        (max(opens, window_start), min(closes, window_end)) for opens, closes in lieu.opening.get(date.weekday(), ())
    ]
    spans = [(s, e) for s, e in spans if s < e and _duration(s, e) >= SHORTEST]
    if not spans:
        return None
    longest = max(_duration(s, e) for s, e in spans)
    start, end = next((s, e) for s, e in spans if _duration(s, e) == longest)
    return Opening(start, end)


def _pins(instance: Instance, plan: list[Permanence]) -> list[str]:
    held = {(p.conseiller, p.lieu, p.date, p.half) for p in plan}
    return [
        f"pin {pin.conseiller} at {pin.lieu} on {pin.date} {HALF_NAMES.get(pin.half, pin.half)} is not in the plan."
        for pin in instance.pins
        if (pin.conseiller, pin.lieu, pin.date, pin.half) not in held
    ]


# --- small helpers ---------------------------------------------------------------------------


def describe(p: Permanence) -> str:
    return f"{p.conseiller} at {p.lieu} on {p.date} {p.half} {p.start:%H:%M}–{p.end:%H:%M}"


def _works(conseiller: Conseiller, date: dt.date, half: str) -> bool:
    return half in conseiller.availability.get(date.weekday(), frozenset()) and _fortnight_ok(conseiller, date)


def _fortnight_ok(conseiller: Conseiller, date: dt.date) -> bool:
    first = conseiller.every_other_week.get(date.weekday())
    if first is None:
        return True
    return date >= first and (date - first).days % 14 == 0


def _duration(start: dt.time, end: dt.time) -> dt.timedelta:
    day = dt.date(2000, 1, 1)
    return dt.datetime.combine(day, end) - dt.datetime.combine(day, start)


def _tenths(start: dt.time, end: dt.time) -> int:
    """Tenths of an hour from start to end (zero when it ends before it starts)."""
    return max(0, round(_duration(start, end).total_seconds() / 360))


def _monday(date: dt.date) -> dt.date:
    return date - dt.timedelta(days=date.weekday())


def _point(lieu: Lieu) -> Point:
    return lieu.latitude, lieu.longitude
