"""Weekly hours as the checker counts them: the contract's maximum (hard), the hours short of the
scaled minimum (soft: the plan must report them), and the spread of the shares of the contracts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping

from services.scheduling.planner.checker_calendar import WINDOW, holdable_opening, monday_of, tenths, works
from services.scheduling.planner.findings import Finding
from services.scheduling.planner.instance import Conseiller, Instance, Permanence
from services.scheduling.planner.travel import CrowFlies, TravelTimes


def weekly_maximum(conseiller: Conseiller, plan: list[Permanence]) -> list[Finding]:
    weeks: dict[dt.date, int] = defaultdict(int)
    for p in plan:
        weeks[monday_of(p.date)] += tenths(p.start, p.end)
    high = round(conseiller.weekly_hours_max * 10)
    return [
        Finding(
            "weekly_hours",
            f"{conseiller.id} works {worked / 10:g} h in the week of {monday}, "
            f"above the contract's {conseiller.weekly_hours_max:g} h.",
            permanences=tuple(
                sorted((p for p in plan if monday_of(p.date) == monday), key=lambda p: (p.date, p.start))
            ),
            conseiller=conseiller.id,
            date=monday,
            amount=worked / 10,
            limit=conseiller.weekly_hours_max,
        )
        for monday, worked in sorted(weeks.items())
        if worked > high
    ]


def short_hours(
    instance: Instance, permanences: Iterable[Permanence], travel: TravelTimes | None = None
) -> dict[str, float]:
    """Conseiller → hours below their weekly minimums (``weekly_minimum``), only those short."""
    weeks: dict[tuple[str, dt.date], int] = defaultdict(int)
    for p in permanences:
        weeks[(p.conseiller, monday_of(p.date))] += tenths(p.start, p.end)
    short: dict[str, float] = {}
    for conseiller in instance.conseillers:
        missing = 0
        for monday in sorted({monday_of(d) for d in instance.dates}):
            low, _ = weekly_minimum(instance, conseiller, monday, travel)
            missing += max(0, low - weeks[(conseiller.id, monday)])
        if missing:
            short[conseiller.id] = missing / 10
    return short


def misreported(real: Mapping[str, float], reported: Mapping[str, float]) -> list[str]:
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
    nominal = [(d, half) for d in week for half in WINDOW if works(conseiller, d, half)]
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
        worked[p.conseiller] += tenths(p.start, p.end)
    mondays = sorted({monday_of(d) for d in instance.dates})
    points = []
    for conseiller in instance.conseillers:
        full = sum(full_week(instance, conseiller, monday, travel) for monday in mondays)
        if full:
            points.append(100 * worked[conseiller.id] // full)
    return max(points) - min(points) if len(points) > 1 else 0
