"""A lieu's hours on a given date override its weekly hours: in the model, in the checker, and
from the registry's opening hours."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from services.scheduling.domain import registry_copy as copy
from services.scheduling.planner import cpsat, scenario
from services.scheduling.planner.checker import violations
from services.scheduling.planner.from_registry import instance_for
from services.scheduling.planner.instance import Instance, Permanence
from tests.unit.test_planner import base, lieu

MONDAY, TUESDAY, WEDNESDAY = dt.date(2026, 11, 30), dt.date(2026, 12, 1), dt.date(2026, 12, 2)


def home_only(dated: dict[dt.date, tuple[tuple[dt.time, dt.time], ...]], days: int = 2) -> Instance:
    """Open Mondays and Tuesdays (08:30–12:30, 13:30–17:30), but on the dates it has its own hours."""
    every_weekday = {**base()["conseillers"][0], "availability": {day: ["am", "pm"] for day in range(5)}}
    plan_for = scenario.parse(base(days=days, lieux=[lieu("home", 48.52, 0.547)], conseillers=[every_weekday]))
    home = dataclasses.replace(plan_for.lieux[0], dated_opening=dated)
    return dataclasses.replace(plan_for, lieux=(home,))


def held(plan_for: Instance) -> set[tuple[dt.date, str, dt.time, dt.time]]:
    result = cpsat.solve(plan_for, time_limit_s=10)
    assert violations(plan_for, result.permanences) == []
    return {(p.date, p.half, p.start, p.end) for p in result.permanences}


def test_a_date_closed_or_shortened_by_its_own_hours_holds_what_they_allow():
    plan_for = home_only({MONDAY: (), TUESDAY: ((dt.time(9), dt.time(12)),)})
    assert held(plan_for) == {(TUESDAY, "am", dt.time(9), dt.time(12))}


def test_a_date_opened_on_a_weekday_usually_closed_holds_permanences():
    plan_for = home_only({WEDNESDAY: ((dt.time(13, 30), dt.time(17, 30)),)}, days=3)
    assert (WEDNESDAY, "pm", dt.time(13, 30), dt.time(17, 30)) in held(plan_for)


def test_the_checker_reads_the_dated_hours():
    plan_for = home_only({MONDAY: ((dt.time(9), dt.time(11)),)})
    weekly = Permanence("c1", "home", MONDAY, "am", dt.time(8, 30), dt.time(12, 30))
    assert any("home is not open all that time" in s for s in violations(plan_for, [weekly]))
    closed = home_only({MONDAY: ()})
    assert any("home is closed on 2026-11-30" in s for s in violations(closed, [weekly]))


def test_the_registry_hours_become_the_lieu_dated_opening_where_they_differ_from_the_week():
    territory = copy.Territory("t", "epci", "T", "Europe/Paris", "FR",
                               (copy.Commune("61293", "Mortagne", 3818, 48.52, 0.547),))  # fmt: skip
    hall = copy.Lieu(
        uuid.uuid4(), "Mairie", "mairie", None, "61293", 48.52, 0.547, 12, True, True,
        "Mo-Fr 08:30-12:30; 2026 Nov 30 off; 2026 Dec 01 09:00-11:00; 2026 Dec 02 08:30-12:30",
    )  # fmt: skip
    plan_for = instance_for(territory, [], [hall], [], {}, start=MONDAY, days=3)
    (made,) = plan_for.lieux
    assert made.dated_opening == {MONDAY: (), TUESDAY: ((dt.time(9), dt.time(11)),)}
    assert made.has_computers
    assert made.hours_on(WEDNESDAY) == ((dt.time(8, 30), dt.time(12, 30)),)
