"""Recurrences, by hand: a coordinator's standing requests are held exactly as asked, or dropped with a note."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from services.scheduling.planner import cpsat, scenario
from services.scheduling.planner.checker import violations
from services.scheduling.planner.instance import Instance, Pin, Recurrence
from services.scheduling.planner.result import PlanResult
from tests.unit.test_planner import base, lieu

MONDAY = dt.date(2026, 11, 30)
TEN, ELEVEN = dt.time(10), dt.time(11)


def instance(recurrences: list[Recurrence], **overrides: Any) -> Instance:
    return dataclasses.replace(scenario.parse(base(**overrides)), recurrences=tuple(recurrences))


def solve(plan_for: Instance) -> PlanResult:
    result = cpsat.solve(plan_for, time_limit_s=10)
    if result.status in ("OPTIMAL", "FEASIBLE"):
        assert violations(plan_for, result.permanences) == []
    return result


def held(result: PlanResult, recurrence: str) -> list[tuple[str, dt.date, dt.time, dt.time, str]]:
    return sorted(
        (p.conseiller, p.date, p.start, p.end, p.kind) for p in result.permanences if p.recurrence == recurrence
    )


def test_a_weekly_atelier_is_held_as_a_one_hour_block_and_nothing_else_that_morning():
    atelier = Recurrence("r1", "home", 0, TEN, ELEVEN, kind="atelier")
    result = solve(instance([atelier]))
    assert result.status == "OPTIMAL"
    assert held(result, "r1") == [("c1", MONDAY, TEN, ELEVEN, "atelier")]
    monday_morning = [p for p in result.permanences if p.date == MONDAY and p.half == "am"]
    assert len(monday_morning) == 1


def test_every_other_week_from_its_first_date():
    fortnightly = Recurrence("r1", "home", 0, TEN, ELEVEN, every_weeks=2, first_date=MONDAY)
    result = solve(instance([fortnightly], days=15))
    assert [date for _, date, *_ in held(result, "r1")] == [MONDAY, MONDAY + dt.timedelta(days=14)]


def test_only_a_conseiller_with_the_skill_holds_it():
    skilled = {**base()["conseillers"][0], "id": "c2"}
    plan_for = instance([Recurrence("r1", "home", 0, TEN, ELEVEN, skill="seniors")])
    people = (plan_for.conseillers[0], dataclasses.replace(scenario.parse(base(conseillers=[skilled])).conseillers[0],
                                                           skills=frozenset({"seniors"})))  # fmt: skip
    result = solve(dataclasses.replace(plan_for, conseillers=people))
    assert [who for who, *_ in held(result, "r1")] == ["c2"]


@pytest.mark.parametrize(
    ("recurrence", "why"),
    [
        (Recurrence("r1", "home", 0, TEN, ELEVEN, needs_computers=True), "home has no computers"),
        (Recurrence("r1", "home", 0, TEN, ELEVEN, seats=12), "home has 10 seats, it needs 12"),
        (Recurrence("r1", "home", 0, dt.time(18), dt.time(19)), "home is not open all that time that day"),
        (Recurrence("r1", "nowhere", 0, TEN, ELEVEN), "there is no lieu 'nowhere'"),
    ],
)
def test_an_occurrence_breaking_a_rule_of_its_lieu_is_dropped_with_a_note(recurrence, why):
    result = solve(instance([recurrence]))
    assert result.status == "OPTIMAL"
    assert held(result, "r1") == []
    assert any(why in note and "dropped" in note for note in result.notes), result.notes


def test_an_occurrence_nobody_can_hold_is_dropped_with_a_note():
    saturday = Recurrence("r1", "home", 5, TEN, ELEVEN)  # c1 does not work on Saturdays
    open_saturdays = lieu("home", 48.52, 0.547, opening={"sa": [["09:00", "12:00"]]})
    result = solve(instance([saturday], days=7, lieux=[open_saturdays]))
    assert result.status == "OPTIMAL"
    assert result.notes == ("recurrence r1 on 2026-12-05 10:00–11:00 dropped: no conseiller can hold it",)


def test_a_recurrence_and_a_pin_elsewhere_the_same_half_day_cannot_both_hold():
    pinned = Pin("c1", "village", MONDAY, "am")
    result = solve(dataclasses.replace(instance([Recurrence("r1", "home", 0, TEN, ELEVEN)]), pins=(pinned,)))
    assert result.status == "INFEASIBLE"


def test_a_replan_keeps_a_short_block_and_a_half_day_block_apart():
    # The recurrence's 10:00–11:00 and the 08:30–12:30 block share lieu, date and half-day.
    plan_for = instance([Recurrence("r1", "home", 0, TEN, ELEVEN)])
    first = solve(plan_for)
    again = solve(dataclasses.replace(plan_for, previous_plan=first.permanences))
    assert again.moved == 0
    assert {p.key for p in again.permanences} == {p.key for p in first.permanences}
    moved_to_the_block = tuple(
        dataclasses.replace(p, start=dt.time(8, 30), end=dt.time(12, 30), recurrence=None) if p.recurrence else p
        for p in first.permanences
    )
    assert again.permanences != moved_to_the_block
    assert solve(dataclasses.replace(plan_for, previous_plan=moved_to_the_block)).moved == 1


def test_a_recurrence_counts_in_the_weekly_hours():
    capped = {**base()["conseillers"][0], "weekly_hours_max": 1}
    result = solve(instance([Recurrence("r1", "home", 0, TEN, ELEVEN)], conseillers=[capped]))
    assert result.figures.hours_by_conseiller == {"c1": 1}
