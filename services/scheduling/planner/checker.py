"""An independent check of a plan against the hard rules, re-derived from the instance alone.

It shares no code with the model (``cpsat``) nor with the enumeration of blocks (``blocks``),
so that a mistake in one is not repeated in the other: the tests run the model on random
instances and ask this module whether every returned plan keeps every rule.

The rules, as the issue states them:

* each permanence names a conseiller and a lieu that exist, on a date of the horizon;
* the conseiller works that half-day: weekly, or fortnightly from a first date (every 14 days
  from it, none before); is not absent at any moment of it; the day is not a public holiday;
* the lieu is open: not one of its closed dates, and the permanence lies within one of its
  opening intervals of that date (its dated hours if it has some, else the weekday's), within
  the half-day's window (morning 08:30–12:30, afternoon 13:30–17:30) and lasts at least two hours;
* one permanence per conseiller per half-day (one across midday takes both); at most ``rooms``
  permanences under way at a lieu at any moment;
* weekly hours (Monday-based weeks) at most the contract's maximum; the minimum is soft: the
  hours below it (the contract's minimum scaled to the share of the conseiller's nominal
  half-days of that week that are workable, and never more than the blocks they could hold
  allow) must be those the plan reports (``short_hours``);
* daily travel, home → morning lieu → afternoon lieu → home, each leg rounded to the minute,
  within the conseiller's limit;
* an atelier (not asked for by a recurrence) is at a lieu of at least six seats, with a commune
  asking for ateliers within reach;
* a permanence that holds a recurrence is exactly as it asks (lieu, kind, start and end, in the
  half-day its start falls in, on one of its dates), by a conseiller with its skill, at a lieu
  with its seats and computers, open all that time that date; the window and two-hour rules do
  not apply to it. Each date of a recurrence (in its rhythm, not a public holiday, the lieu open
  that day) is held exactly once if some conseiller could hold it (works that half-day, not
  absent, has the skill, the lieu within a return trip of the daily limit) and the lieu keeps
  its rules; otherwise not at all;
* every pin of the coordinator is in the plan.

Hours are counted in tenths of an hour, each permanence to the nearest tenth, as the contract
and the demand are.

``findings`` gives each broken rule with its code and what it is about (``findings.Finding``);
``violations`` gives their sentences only.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping

from services.scheduling.planner.checker_calendar import (
    HALF_NAMES,
    NOON,
    SHORTEST,
    WEEKDAY_NAMES,
    WINDOW,
    describe,
    duration,
    fortnight_ok,
    half_days_taken,
    holdable_opening,
    lieu_opening,
    open_on,
    point,
)
from services.scheduling.planner.checker_hours import (
    full_week,
    hours_share_spread,
    misreported,
    short_hours,
    weekly_maximum,
    weekly_minimum,
)
from services.scheduling.planner.checker_recurrences import held_exactly_once, recurrence_rules
from services.scheduling.planner.findings import Code, Finding
from services.scheduling.planner.instance import Conseiller, Instance, Interval, Lieu, Permanence
from services.scheduling.planner.travel import CrowFlies, TravelTimes
from shared.geo import great_circle_km

__all__ = [
    "Finding",
    "conseiller_findings",
    "conseiller_violations",
    "day_travel",
    "findings",
    "full_week",
    "holdable_opening",
    "hours_share_spread",
    "lieu_opening",
    "short_hours",
    "violations",
    "weekly_minimum",
]
ATELIER_SEATS = 6


def violations(
    instance: Instance,
    permanences: Iterable[Permanence],
    travel: TravelTimes | None = None,
    *,
    reported_short_hours: Mapping[str, float] | None = None,
) -> list[str]:
    """Every hard rule the plan breaks, one readable sentence each; ``[]`` when it keeps them all.
    With ``reported_short_hours`` (the plan's figures), also each shortfall misreported."""
    return [f.sentence for f in findings(instance, permanences, travel, reported_short_hours=reported_short_hours)]


def findings(
    instance: Instance,
    permanences: Iterable[Permanence],
    travel: TravelTimes | None = None,
    *,
    reported_short_hours: Mapping[str, float] | None = None,
) -> list[Finding]:
    """Every hard rule the plan breaks, with its code and what it is about (``violations``' sentences)."""
    travel = travel or CrowFlies()
    plan = list(permanences)
    conseillers = {c.id: c for c in instance.conseillers}
    lieux = {lieu.id: lieu for lieu in instance.lieux}
    found: list[Finding] = []
    for p in plan:
        if p.conseiller not in conseillers:
            found.extend(_permanence_rules(instance, conseillers, lieux, p))
    known = [p for p in plan if p.conseiller in conseillers and p.lieu in lieux]
    for conseiller in instance.conseillers:
        found.extend(
            conseiller_findings(instance, conseiller, [p for p in plan if p.conseiller == conseiller.id], travel)
        )
    found.extend(_rooms(lieux, known))
    found.extend(held_exactly_once(instance, known, travel))
    found.extend(_pins(instance, plan))
    if reported_short_hours is not None:
        misreports = misreported(short_hours(instance, known, travel), reported_short_hours)
        found.extend(Finding("other", sentence) for sentence in misreports)
    return found


def conseiller_violations(
    instance: Instance, conseiller: Conseiller, mine: list[Permanence], travel: TravelTimes | None = None
) -> list[str]:
    """The rules one conseiller's permanences keep or break by themselves (not rooms, recurrences held, pins)."""
    return [f.sentence for f in conseiller_findings(instance, conseiller, mine, travel)]


def conseiller_findings(
    instance: Instance, conseiller: Conseiller, mine: list[Permanence], travel: TravelTimes | None = None
) -> list[Finding]:
    travel = travel or CrowFlies()
    conseillers = {conseiller.id: conseiller}
    lieux = {lieu.id: lieu for lieu in instance.lieux}
    found = [finding for p in mine for finding in _permanence_rules(instance, conseillers, lieux, p)]
    known = [p for p in mine if p.lieu in lieux]
    found.extend(_one_place_per_half_day(known))
    found.extend(_daily_travel(instance, conseiller, known, travel))
    found.extend(weekly_maximum(conseiller, known))
    return found


# --- one permanence at a time ----------------------------------------------------------------


def _about(
    p: Permanence,
    code: Code,
    sentence: str,
    *,
    amount: float | None = None,
    limit: float | None = None,
    intervals: tuple[Interval, ...] = (),
) -> Finding:
    """A finding about one permanence."""
    return Finding(code, sentence, (p,), p.conseiller, p.lieu, p.date, p.half, amount, limit, intervals)


def _permanence_rules(
    instance: Instance, conseillers: dict[str, Conseiller], lieux: dict[str, Lieu], p: Permanence
) -> list[Finding]:
    what = describe(p)
    found: list[Finding] = []
    conseiller = conseillers.get(p.conseiller)
    lieu = lieux.get(p.lieu)
    if conseiller is None:
        found.append(_about(p, "other", f"{what}: there is no conseiller {p.conseiller!r}."))
    if lieu is None:
        found.append(_about(p, "other", f"{what}: there is no lieu {p.lieu!r}."))
    if not instance.start <= p.date < instance.start + dt.timedelta(days=instance.days):
        found.append(_about(p, "other", f"{what}: {p.date} is outside the planned horizon."))
    if p.date in instance.holidays:
        found.append(_about(p, "holiday", f"{what}: {p.date} is a public holiday."))
    if conseiller is not None:
        found.extend(_conseiller_rules(conseiller, p, what))
    if lieu is not None:
        found.extend(_lieu_rules(lieu, p, what))
    if p.recurrence is not None:
        found.extend(_about(p, "recurrence", sentence) for sentence in recurrence_rules(instance, p, what))
        return found
    if lieu is not None and p.kind == "atelier":
        found.extend(_atelier_rules(instance, lieu, p, what))
    found.extend(_time_rules(p, what))
    return found


def _conseiller_rules(conseiller: Conseiller, p: Permanence, what: str) -> list[Finding]:
    found: list[Finding] = []
    weekday = p.date.weekday()
    if p.half not in conseiller.availability.get(weekday, frozenset()):
        sentence = f"{what}: {conseiller.id} does not work on {WEEKDAY_NAMES[weekday]} {HALF_NAMES[p.half]}s."
        found.append(_about(p, "unavailable", sentence))
    elif not fortnight_ok(conseiller, p.date):
        first = conseiller.every_other_week[weekday]
        found.append(
            _about(
                p,
                "unavailable",
                f"{what}: {conseiller.id} works on {WEEKDAY_NAMES[weekday]}s only every other week from {first}, "
                f"and {p.date} is not one of those weeks.",
            )
        )
    starts, ends = dt.datetime.combine(p.date, p.start), dt.datetime.combine(p.date, p.end)
    for absence in conseiller.absences:
        if absence.start < ends and starts < absence.end:
            sentence = (
                f"{what}: {conseiller.id} is absent from {absence.start:%Y-%m-%d %H:%M} "
                f"to {absence.end:%Y-%m-%d %H:%M}."
            )
            found.append(_about(p, "unavailable" if absence.off_week else "absence", sentence))
    return found


def _lieu_rules(lieu: Lieu, p: Permanence, what: str) -> list[Finding]:
    found: list[Finding] = []
    intervals = open_on(lieu, p.date)
    if not intervals:
        found.append(_about(p, "lieu_closed", f"{what}: {lieu.id} is closed on {p.date}."))
    elif not any(opens <= p.start and p.end <= closes for opens, closes in intervals):
        hours = ", ".join(f"{o:%H:%M}–{c:%H:%M}" for o, c in intervals) or "closed all day"
        sentence = f"{what}: {lieu.id} is not open all that time on {WEEKDAY_NAMES[p.date.weekday()]}s ({hours})."
        found.append(_about(p, "opening_hours", sentence, intervals=intervals))
    return found


def _atelier_rules(instance: Instance, lieu: Lieu, p: Permanence, what: str) -> list[Finding]:
    found: list[Finding] = []
    if lieu.capacity < ATELIER_SEATS:
        sentence = f"{what}: an atelier needs {ATELIER_SEATS} seats, {lieu.id} has {lieu.capacity}."
        found.append(_about(p, "atelier_seats", sentence, amount=lieu.capacity, limit=ATELIER_SEATS))
    place = point(lieu)
    if not any(
        c.atelier_hours > 0 and great_circle_km(place, (c.latitude, c.longitude)) <= instance.reach_km
        for c in instance.communes
    ):
        sentence = f"{what}: no commune within {instance.reach_km:g} km of {lieu.id} asks for ateliers."
        found.append(_about(p, "atelier_demand", sentence, limit=instance.reach_km))
    return found


def _time_rules(p: Permanence, what: str) -> list[Finding]:
    found: list[Finding] = []
    window = WINDOW.get(p.half)
    if window is None:
        return [_about(p, "other", f"{what}: {p.half!r} is neither a morning nor an afternoon.")]
    if not (window[0] <= p.start and p.end <= window[1]):
        sentence = f"{what}: it is not within the {HALF_NAMES[p.half]}'s window {window[0]:%H:%M}–{window[1]:%H:%M}."
        found.append(_about(p, "time_window", sentence, intervals=(window,)))
    if duration(p.start, p.end) < SHORTEST:
        found.append(_about(p, "too_short", f"{what}: it lasts less than two hours."))
    return found


# --- rules over the whole plan ---------------------------------------------------------------


def _one_place_per_half_day(plan: list[Permanence]) -> list[Finding]:
    slots: dict[tuple[str, dt.date, str], list[Permanence]] = defaultdict(list)
    for p in plan:
        for half in sorted(half_days_taken(p)):
            slots[(p.conseiller, p.date, half)].append(p)
    return [
        Finding(
            "half_day_taken",
            f"{who} has {len(ps)} permanences on {date} {HALF_NAMES.get(half, half)} "
            f"({', '.join(p.lieu for p in ps)}); one at most.",
            permanences=tuple(ps),
            conseiller=who,
            date=date,
            half=half,
            amount=len(ps),
            limit=1,
        )
        for (who, date, half), ps in sorted(slots.items())
        if len(ps) > 1
    ]


def _rooms(lieux: dict[str, Lieu], plan: list[Permanence]) -> list[Finding]:
    """At each moment a permanence starts, those under way at the lieu (the most at once are found there)."""
    days: dict[tuple[str, dt.date], list[Permanence]] = defaultdict(list)
    for p in plan:
        days[(p.lieu, p.date)].append(p)
    crowded: dict[tuple[str, dt.date, str], list[Permanence]] = {}
    for (lieu_id, date), ps in days.items():
        for moment in sorted({p.start for p in ps}):
            there = [p for p in ps if p.start <= moment < p.end]
            key = (lieu_id, date, "am" if moment < NOON else "pm")
            if len(there) > lieux[lieu_id].rooms and len(there) > len(crowded.get(key, [])):
                crowded[key] = there
    return [
        Finding(
            "room_taken",
            f"{lieu_id} hosts {len(ps)} conseillers on {date} {HALF_NAMES[half]} "
            f"({', '.join(sorted(p.conseiller for p in ps))}) but has {lieux[lieu_id].rooms} room(s).",
            permanences=tuple(ps),
            lieu=lieu_id,
            date=date,
            half=half,
            amount=len(ps),
            limit=lieux[lieu_id].rooms,
        )
        for (lieu_id, date, half), ps in sorted(crowded.items())
    ]


def _daily_travel(
    instance: Instance, conseiller: Conseiller, plan: list[Permanence], travel: TravelTimes
) -> list[Finding]:
    days: dict[dt.date, list[Permanence]] = defaultdict(list)
    for p in plan:
        days[p.date].append(p)
    found: list[Finding] = []
    for date, day in sorted(days.items()):
        minutes, stops = day_travel(instance, conseiller, day, travel)
        if minutes > conseiller.max_travel_minutes_per_day:
            found.append(
                Finding(
                    "daily_travel",
                    f"{conseiller.id} travels {minutes} min on {date} ({' → '.join(stops)}), "
                    f"above the limit of {conseiller.max_travel_minutes_per_day} min a day.",
                    permanences=tuple(sorted(day, key=lambda p: p.start)),
                    conseiller=conseiller.id,
                    date=date,
                    amount=minutes,
                    limit=conseiller.max_travel_minutes_per_day,
                )
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
        travel.minutes(point(lieux[a]), point(lieux[b]), conseiller.travel_mode) for a, b in itertools.pairwise(route)
    )
    return minutes, ["home", *route[1:-1], "home"]


def _pins(instance: Instance, plan: list[Permanence]) -> list[Finding]:
    held = {(p.conseiller, p.lieu, p.date, p.half) for p in plan}
    return [
        Finding(
            "pin_broken",
            f"pin {pin.conseiller} at {pin.lieu} on {pin.date} {HALF_NAMES.get(pin.half, pin.half)} "
            "is not in the plan.",
            conseiller=pin.conseiller,
            lieu=pin.lieu,
            date=pin.date,
            half=pin.half,
        )
        for pin in instance.pins
        if (pin.conseiller, pin.lieu, pin.date, pin.half) not in held
    ]
