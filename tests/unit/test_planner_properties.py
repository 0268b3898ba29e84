"""The planner against the independent checker on random small instances that also have ateliers,
recurrences (with skills), computers and dated hours: every plan returned keeps every hard rule
and reports its shortfalls truly."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from services.scheduling.planner import cpsat
from services.scheduling.planner.blocks import half_of
from services.scheduling.planner.checker import violations
from services.scheduling.planner.instance import Conseiller, Instance, Lieu, Permanence, Recurrence
from tests.unit.test_planner_feasibility import SOLVE_S, TRAVEL, _clock, _intervals, instances

SKILLS = ("seniors", "administratif")


@st.composite
def _dated_opening(draw: st.DrawFn, dates: list[dt.date]) -> dict[dt.date, tuple[tuple[dt.time, dt.time], ...]]:
    own = {}
    for date in dates:
        if draw(st.integers(0, 3)) == 0:
            own[date] = draw(st.one_of(st.just(()), _intervals()))
    return own


@st.composite
def _recurrence(draw: st.DrawFn, index: int, lieux: Sequence[Lieu], dates: list[dt.date]) -> Recurrence:
    """Mostly inside the hours of its lieu on one of the dates (else often dropped), sometimes anywhere."""
    open_days = [(lieu, date) for lieu in lieux for date in dates if lieu.hours_on(date)]
    lieu, date = draw(st.sampled_from(open_days or [(lieu, date) for lieu in lieux for date in dates]))
    opens = [span for span in lieu.hours_on(date) if span[0] >= dt.time(7)]
    if opens and draw(st.integers(0, 3)) > 0:
        first, last = draw(st.sampled_from(opens))
        start = (
            draw(st.integers(first.hour * 4 + (first.minute + 14) // 15, last.hour * 4 + last.minute // 15 - 1)) * 15
        )
        end = min(start + draw(st.sampled_from([30, 60, 90, 120, 240])), last.hour * 60 + last.minute)
    else:
        start = draw(st.sampled_from([8 * 60 + 30, 9 * 60, 10 * 60, 11 * 60 + 30, 12 * 60, 14 * 60, 16 * 60]))
        end = start + draw(st.sampled_from([60, 90, 120, 240]))
    every = draw(st.sampled_from([1, 1, 2]))
    first_date = (
        date - dt.timedelta(weeks=draw(st.sampled_from([0, 2, 1]))) if every > 1 or draw(st.booleans()) else None
    )
    return Recurrence(
        id=f"r{index}",
        lieu=lieu.id,
        weekday=date.weekday(),
        start=_clock(start),
        end=_clock(end),
        every_weeks=every,
        first_date=first_date,
        kind=draw(st.sampled_from(["permanence", "atelier"])),
        skill=draw(st.sampled_from([None, None, *SKILLS])),
        seats=draw(st.sampled_from([0, 0, 0, 8, 30])),
        needs_computers=draw(st.sampled_from([False, False, False, True])),
    )


@st.composite
def rich_instances(
    draw: st.DrawFn,
    conseillers: tuple[int, int] = (1, 3),
    lieux: tuple[int, int] = (2, 5),
    days: tuple[int, int] = (1, 7),
    communes: tuple[int, int] = (1, 6),
    recurrences: tuple[int, int] = (0, 2),
) -> Instance:
    """``instances`` of the feasibility tests, with atelier demand, computers, dated hours, skills, recurrences."""
    instance: Instance = draw(instances(conseillers, lieux, days, communes))
    towns = tuple(
        dataclasses.replace(c, atelier_hours=draw(st.sampled_from([0.0, 0.0, 7.0, 20.0]))) for c in instance.communes
    )
    places = tuple(
        dataclasses.replace(
            lieu,
            capacity=draw(st.sampled_from([lieu.capacity, 4, 12])),
            has_computers=draw(st.booleans()),
            dated_opening=draw(_dated_opening(instance.dates)),
        )
        for lieu in instance.lieux
    )
    people = tuple(
        dataclasses.replace(c, skills=frozenset(draw(st.sets(st.sampled_from(SKILLS))))) for c in instance.conseillers
    )
    asked = tuple(draw(_recurrence(i, places, instance.dates)) for i in range(draw(st.integers(*recurrences))))
    for recurrence in asked:
        if draw(st.booleans()):  # someone works that half-day (else the recurrence is mostly dropped)
            people = _also_working(people, draw(st.sampled_from(people)).id, recurrence)
    return dataclasses.replace(instance, communes=towns, lieux=places, conseillers=people, recurrences=asked)


def _also_working(conseillers: tuple[Conseiller, ...], who: str, recurrence: Recurrence) -> tuple[Conseiller, ...]:
    """The conseiller works the recurrence's half-day every week, from a home at its lieu."""
    day = recurrence.weekday
    return tuple(
        dataclasses.replace(
            c,
            home_lieu=recurrence.lieu,
            availability={**c.availability, day: c.availability.get(day, frozenset()) | {half_of(recurrence.start)}},
            every_other_week={d: first for d, first in c.every_other_week.items() if d != day},
        )
        if c.id == who
        else c
        for c in conseillers
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rich_instances())
def test_every_returned_plan_keeps_every_hard_rule_and_reports_its_shortfalls(instance: Instance) -> None:
    result = cpsat.solve(instance, time_limit_s=SOLVE_S, workers=2)
    event(f"status {result.status}")
    if result.status in ("INFEASIBLE", "UNKNOWN"):
        event(f"{result.status}: " + ("pinned" if instance.pins else "recurrences" if instance.recurrences else "?"))
        return
    assert result.status in ("OPTIMAL", "FEASIBLE")
    found = violations(
        instance, result.permanences, TRAVEL, reported_short_hours=result.figures.short_hours_by_conseiller
    )
    assert found == [], result.notes
    for feature in _features(instance, result.permanences, result.notes):
        event(feature)


def _features(instance: Instance, plan: tuple[Permanence, ...], notes: tuple[str, ...]) -> list[str]:
    """What a plan exercises, so the statistics (--hypothesis-show-statistics) show the rules are reached."""
    features = []
    if any(p.kind == "atelier" and p.recurrence is None for p in plan):
        features.append("an atelier planned")
    if any(p.recurrence for p in plan):
        features.append("a recurrence held")
    if any(p.recurrence and p.end.hour * 60 + p.end.minute - p.start.hour * 60 - p.start.minute < 120 for p in plan):
        features.append("a block shorter than two hours")
    if any("dropped" in note for note in notes):
        features.append("an occurrence dropped")
    if any(p.date in lieu.dated_opening for p in plan for lieu in instance.lieux if lieu.id == p.lieu):
        features.append("held on a date with its own hours")
    if any("short" in note for note in notes):
        features.append("a conseiller short of their minimum")
    return features
