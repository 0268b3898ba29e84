"""The planner against an independent checker (``planner.checker``), on random small instances.

* every plan the CP-SAT model returns keeps every hard rule;
* an impossible pin makes the solve INFEASIBLE, with a note;
* on tiny instances, the model's optimum equals a brute-force enumeration of all plans
  (``test_planner_brute_force``, with ateliers and recurrences too);
* the checker itself catches each kind of violation (it is able to fail).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from services.scheduling.planner import cpsat
from services.scheduling.planner.checker import (
    holdable_opening,
    violations,
    weekly_minimum,
)
from services.scheduling.planner.instance import (
    HALVES,
    Absence,
    Commune,
    Conseiller,
    HalfDay,
    Instance,
    Interval,
    Lieu,
    Permanence,
    Pin,
    Weights,
)
from services.scheduling.planner.travel import CrowFlies

TRAVEL = CrowFlies()
SOLVE_S = 5.0
CENTRE = (45.0, 4.0)  # ~0.2° of latitude or 0.25° of longitude is ~20 km here
MODES = ("car", "car", "public_transport", "bike", "walk")


# --- strategies ----------------------------------------------------------------------------------


def _clock(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


@st.composite
def _intervals(draw: st.DrawFn) -> tuple[Interval, ...]:
    """A weekday's opening: the classic hours, or 1–3 random intervals (often short) on a 5-minute grid."""
    if draw(st.integers(0, 2)) < 2:  # (hypothesis starts from the simplest draws: make those the usual case)
        return draw(
            st.sampled_from(
                [
                    ((dt.time(8, 30), dt.time(12, 30)), (dt.time(13, 30), dt.time(17, 30))),
                    ((dt.time(9), dt.time(12)), (dt.time(14), dt.time(17))),
                    ((dt.time(9), dt.time(17)),),
                    ((dt.time(8), dt.time(10)),),
                    ((dt.time(13, 30), dt.time(15)),),
                ]
            )
        )
    spans = []
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(7 * 12, 18 * 12)) * 5
        length = draw(st.integers(6, 120)) * 5  # 30 min – 10 h
        spans.append((_clock(start), _clock(min(start + length, 23 * 60 + 55))))
    return tuple(spans)


@st.composite
def _point(draw: st.DrawFn, spread: float = 1.0) -> tuple[float, float]:
    """Mostly within ~20 km of the centre; sometimes a few hundred metres from it (rounding of short legs)."""
    if draw(st.integers(0, 3)) == 3:
        near = 0.01
        return CENTRE[0] + draw(st.floats(-near, near)), CENTRE[1] + draw(st.floats(-near, near))
    return CENTRE[0] + draw(st.floats(-0.2 * spread, 0.2 * spread)), CENTRE[1] + draw(
        st.floats(-0.25 * spread, 0.25 * spread)
    )


def _subset(draw: st.DrawFn, items: list[dt.date], chance: int) -> frozenset[dt.date]:
    return frozenset(d for d in items if draw(st.integers(0, chance - 1)) == chance - 1)


@st.composite
def _lieu(draw: st.DrawFn, index: int, dates: list[dt.date]) -> Lieu:
    lat, lon = draw(_point())
    opening = {}
    for weekday in range(7):
        kind = draw(st.sampled_from(["open"] * 6 + ["closed", "missing"]))
        if kind == "open":
            opening[weekday] = draw(_intervals())
        elif kind == "closed":
            opening[weekday] = ()
    return Lieu(
        id=f"L{index}",
        insee=f"010{index:02d}",
        latitude=lat,
        longitude=lon,
        capacity=draw(st.integers(1, 20)),
        opening=opening,
        rooms=draw(st.integers(1, 2)),
        closed_dates=_subset(draw, dates, 5),
    )


@st.composite
def _conseiller(draw: st.DrawFn, index: int, lieux: list[Lieu], start: dt.date, days: int) -> Conseiller:
    availability: dict[int, frozenset[HalfDay]] = {}
    choices: list[frozenset[HalfDay]] = [frozenset(HALVES), frozenset({"am"}), frozenset({"pm"}), frozenset()]
    for weekday in range(7):
        halves = draw(st.sampled_from(choices))
        listed_but_empty: bool = draw(st.booleans())
        if halves or listed_but_empty:
            availability[weekday] = halves
    fortnightly: dict[int, dt.date] = {}
    if draw(st.booleans()):  # "every other <weekday of the horizon>", from 3 weeks before to a week after
        anchor = start + dt.timedelta(days=draw(st.integers(0, days - 1)))
        weekday = anchor.weekday()
        fortnightly[weekday] = anchor + dt.timedelta(weeks=draw(st.integers(-3, 1)))
        if not availability.get(weekday):
            availability[weekday] = frozenset(draw(st.sets(st.sampled_from(HALVES), min_size=1)))
    absences = []
    for _ in range(draw(st.integers(0, 2))):
        begins = dt.datetime.combine(start, dt.time()) + dt.timedelta(
            days=draw(st.integers(-2, days)), minutes=draw(st.integers(0, 24 * 60 - 1))
        )
        absences.append(Absence(begins, begins + dt.timedelta(minutes=draw(st.integers(15, 3 * 24 * 60)))))
    high = draw(st.one_of(st.sampled_from([20.0, 35.0, 8.0, 4.0]), st.integers(4, 80).map(lambda h: h / 2)))
    low = round(high * draw(st.sampled_from([0.0, 0.0, 0.25, 0.5, 0.8, 1.0])) * 2) / 2
    return Conseiller(
        id=f"c{index}",
        home_lieu=draw(st.sampled_from([lieu.id for lieu in lieux])),
        weekly_hours_min=low,
        weekly_hours_max=high,
        availability=availability,
        absences=tuple(absences),
        travel_mode=draw(st.sampled_from(MODES)),
        max_travel_minutes_per_day=draw(
            st.one_of(st.sampled_from([240, 120, 90, 60, 45, 30, 20]), st.integers(1, 240))
        ),
        every_other_week=fortnightly,
    )


def _slots(instance: Instance) -> list[tuple[Conseiller, Lieu, dt.date, HalfDay]]:
    return [
        (c, lieu, date, half)
        for c in instance.conseillers
        for lieu in instance.lieux
        for date in instance.dates
        for half in HALVES
    ]


@st.composite
def instances(
    draw: st.DrawFn,
    conseillers: tuple[int, int] = (1, 3),
    lieux: tuple[int, int] = (2, 5),
    days: tuple[int, int] = (1, 7),
    communes: tuple[int, int] = (1, 6),
    previous: bool = False,
) -> Instance:
    start = dt.date(2025, 1, 6) + dt.timedelta(days=draw(st.integers(0, 400)))
    n_days = draw(st.integers(*days))
    dates = [start + dt.timedelta(days=i) for i in range(n_days)]
    places = [draw(_lieu(i, dates)) for i in range(draw(st.integers(*lieux)))]
    people = [draw(_conseiller(i, places, start, n_days)) for i in range(draw(st.integers(*conseillers)))]
    towns = []
    for i in range(draw(st.integers(*communes))):
        lat, lon = draw(_point())
        demand = draw(st.sampled_from([20.0, 35.0, 60.0, 100.0, 8.0, 2.5, 0.0]))
        towns.append(Commune(f"01{i:03d}", lat, lon, draw(st.integers(100, 20000)), demand))
    weights = Weights()
    if draw(st.integers(0, 3)) == 0:
        weights = Weights(*(draw(st.integers(0, 150)) for _ in range(4)))
    instance = Instance(
        time_zone="Europe/Paris",
        start=start,
        days=n_days,
        communes=tuple(towns),
        lieux=tuple(places),
        conseillers=tuple(people),
        holidays=_subset(draw, dates, 6),
        reach_km=draw(st.sampled_from([10.0, 15.0, 30.0])),
        weights=weights,
    )
    mode = draw(st.sampled_from(["none", "none", "plausible", "plausible", "any"]))
    if mode != "none":
        slots = _slots(instance)
        if mode == "plausible":
            slots = [s for s in slots if holdable_opening(instance, s[0], s[1], s[2], s[3], TRAVEL) is not None]
        if slots:
            c, lieu, date, half = draw(st.sampled_from(slots))
            instance = dataclasses.replace(instance, pins=(Pin(c.id, lieu.id, date, half),))
    if previous and draw(st.booleans()):
        # distinct (conseiller, lieu, date, half): see test_a_previous_plan_with_two_permanences_in_one_block
        before = draw(
            st.lists(
                st.sampled_from(_slots(instance)),
                min_size=1,
                max_size=3,
                unique_by=lambda s: (s[0].id, s[1].id, s[2], s[3]),
            )
        )
        instance = dataclasses.replace(
            instance,
            previous_plan=tuple(
                Permanence(c.id, lieu.id, date, half, dt.time(9), dt.time(11)) for c, lieu, date, half in before
            ),
        )
    return instance


def _impossible_pins(instance: Instance) -> list[Pin]:
    conseillers = {c.id: c for c in instance.conseillers}
    lieux = {lieu.id: lieu for lieu in instance.lieux}
    return [
        pin
        for pin in instance.pins
        if holdable_opening(instance, conseillers[pin.conseiller], lieux[pin.lieu], pin.date, pin.half, TRAVEL) is None
    ]


# --- every returned plan keeps every hard rule -----------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(instances(previous=True))
def test_every_returned_plan_keeps_every_hard_rule(instance: Instance) -> None:
    result = cpsat.solve(instance, time_limit_s=SOLVE_S, workers=2)
    event(f"status {result.status}")
    impossible = _impossible_pins(instance)
    if impossible:
        event("an impossible pin")
        assert result.status == "INFEASIBLE", result
        for pin in impossible:
            assert any(pin.conseiller in note and pin.lieu in note and str(pin.date) in note for note in result.notes)
        return
    if result.status == "INFEASIBLE":
        event("INFEASIBLE: " + ("pinned" if instance.pins else "weekly minimum, rooms or travel"))
        return
    assert result.status in ("OPTIMAL", "FEASIBLE")
    found = violations(
        instance, result.permanences, TRAVEL, reported_short_hours=result.figures.short_hours_by_conseiller
    )
    assert found == []
    for feature in _features(instance, result.permanences):
        event(feature)


def _features(instance: Instance, plan: tuple[Permanence, ...]) -> list[str]:
    """What a plan exercises, so the statistics (--hypothesis-show-statistics) show the rules are reached."""
    features = [f"{len(plan)} permanences" if len(plan) < 4 else "4+ permanences"]
    by_half = defaultdict(set)
    by_day = defaultdict(set)
    for p in plan:
        by_half[(p.lieu, p.date, p.half)].add(p.conseiller)
        by_day[(p.conseiller, p.date)].add(p.lieu)
    if any(len(who) > 1 for who in by_half.values()):
        features.append("a lieu's two rooms in use")
    if any(len(where) > 1 for where in by_day.values()):
        features.append("a day at two lieux")
    if instance.pins:
        features.append("pinned")
    if any(
        weekly_minimum(instance, c, d - dt.timedelta(days=d.weekday()), TRAVEL)[0] > 0
        for c in instance.conseillers
        for d in instance.dates
    ):
        features.append("a weekly minimum to meet")
    if any(p.date.weekday() in c.every_other_week for p in plan for c in instance.conseillers if c.id == p.conseiller):
        features.append("a fortnightly slot held")
    return features
