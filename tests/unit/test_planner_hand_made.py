"""Hand-made plans and instances: the independent checker catches each kind of broken rule, and the
model bugs the property tests found stay fixed."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from services.scheduling.planner import cpsat
from services.scheduling.planner.checker import day_travel, findings, short_hours, violations, weekly_minimum
from services.scheduling.planner.instance import (
    HALVES,
    Absence,
    Commune,
    Conseiller,
    HalfDay,
    Instance,
    Lieu,
    Permanence,
    Pin,
)
from tests.unit.test_planner_feasibility import SOLVE_S, TRAVEL

# --- the checker catches each kind of violation -------------------------------------------------------

MONDAY = dt.date(2025, 3, 3)
TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY = (MONDAY + dt.timedelta(days=i) for i in range(1, 6))
CLASSIC = ((dt.time(8, 30), dt.time(12, 30)), (dt.time(13, 30), dt.time(17, 30)))


def _base() -> Instance:
    a = Lieu("A", "01001", 45.0, 4.0, 10, {**dict.fromkeys(range(5), CLASSIC), 5: ((dt.time(9), dt.time(12)),)})
    b = Lieu(
        "B",
        "01002",
        45.05,
        4.0,
        10,
        dict.fromkeys(range(6), ((dt.time(8), dt.time(12)), (dt.time(14), dt.time(15)))),
        rooms=2,
        closed_dates=frozenset({WEDNESDAY}),
    )
    c = Lieu("C", "01003", 45.0, 4.1, 10, dict.fromkeys(range(5), CLASSIC))
    c1 = Conseiller(
        "c1",
        "A",
        10,
        20,
        {**dict.fromkeys(range(5), frozenset(HALVES)), 5: frozenset({"am"})},
        absences=(Absence(dt.datetime(2025, 3, 6, 13), dt.datetime(2025, 3, 6, 18)),),
        max_travel_minutes_per_day=30,
        every_other_week={5: dt.date(2025, 3, 15)},
    )
    c2 = Conseiller("c2", "B", 0, 35, dict.fromkeys(range(5), frozenset(HALVES)), max_travel_minutes_per_day=60)
    return Instance(
        time_zone="Europe/Paris",
        start=MONDAY,
        days=7,
        communes=(Commune("01001", 45.02, 4.02, 1000, 10),),
        lieux=(a, b, c),
        conseillers=(c1, c2),
        holidays=frozenset({FRIDAY}),
    )


def _p(who: str, lieu: str, date: dt.date, half: HalfDay, start: str, end: str) -> Permanence:
    return Permanence(who, lieu, date, half, dt.time.fromisoformat(start), dt.time.fromisoformat(end))


VALID = (
    _p("c1", "A", MONDAY, "am", "08:30", "12:30"),
    _p("c1", "A", MONDAY, "pm", "13:30", "17:30"),
    _p("c1", "A", TUESDAY, "am", "08:30", "12:30"),
    _p("c2", "B", TUESDAY, "am", "08:30", "12:00"),
)


def test_checker_accepts_a_valid_plan_and_derives_the_scaled_minimum() -> None:
    instance = _base()
    assert violations(instance, VALID) == []
    # c1: 10 nominal half-days (the Saturday is fortnightly from the 15th); Friday is a holiday and
    # Thursday afternoon an absence: 7 workable, so 70 % of the 10 h minimum, 7 h.
    low, why = weekly_minimum(instance, instance.conseillers[0], MONDAY)
    assert low == 70, why
    assert weekly_minimum(instance, instance.conseillers[1], MONDAY)[0] == 0


@pytest.mark.parametrize(
    ("extra", "expected", "code"),
    [
        (_p("ghost", "A", WEDNESDAY, "am", "08:30", "12:30"), "there is no conseiller 'ghost'", "other"),
        (_p("c2", "Z", WEDNESDAY, "am", "08:30", "12:30"), "there is no lieu 'Z'", "other"),
        (_p("c2", "A", MONDAY + dt.timedelta(days=7), "am", "08:30", "12:30"), "outside the planned horizon", "other"),
        (_p("c2", "B", SATURDAY, "am", "08:30", "12:00"), "c2 does not work on Saturday mornings", "unavailable"),
        (_p("c1", "A", SATURDAY, "am", "09:00", "12:00"), "only every other week from 2025-03-15", "unavailable"),
        (
            _p("c1", "A", THURSDAY, "pm", "13:30", "17:30"),
            "c1 is absent from 2025-03-06 13:00 to 2025-03-06 18:00",
            "absence",
        ),
        (_p("c1", "A", FRIDAY, "am", "08:30", "12:30"), "2025-03-07 is a public holiday", "holiday"),
        (_p("c2", "B", WEDNESDAY, "am", "08:30", "12:00"), "B is closed on 2025-03-05", "lieu_closed"),
        (_p("c2", "B", THURSDAY, "pm", "14:00", "16:00"), "B is not open all that time on Thursdays", "opening_hours"),
        (_p("c2", "B", THURSDAY, "am", "08:00", "12:00"), "not within the morning's window 08:30–12:30", "time_window"),
        (_p("c2", "A", THURSDAY, "am", "13:30", "17:30"), "not within the morning's window", "time_window"),
        (_p("c2", "A", THURSDAY, "pm", "13:30", "15:00"), "lasts less than two hours", "too_short"),
        (
            _p("c1", "C", MONDAY, "am", "08:30", "12:30"),
            "c1 has 2 permanences on 2025-03-03 morning (A, C); one at most",
            "half_day_taken",
        ),
        (
            _p("c2", "A", MONDAY, "am", "08:30", "12:30"),
            "A hosts 2 conseillers on 2025-03-03 morning (c1, c2) but has 1",
            "room_taken",
        ),
        (
            dataclasses.replace(_p("c2", "A", WEDNESDAY, "am", "08:30", "12:30"), kind="atelier"),
            "no commune within 15 km of A asks for ateliers",
            "atelier_demand",
        ),
    ],
)
def test_checker_catches_a_broken_rule(extra: Permanence, expected: str, code: str) -> None:
    found = violations(_base(), (*VALID, extra))
    assert any(expected in sentence for sentence in found), found
    [finding] = [f for f in findings(_base(), (*VALID, extra)) if expected in f.sentence]
    assert finding.code == code
    assert extra in finding.permanences
    assert (finding.date, finding.half) == (extra.date, extra.half)


def test_an_off_week_is_no_absence_and_the_findings_say_how_far_over_the_limits() -> None:
    off_week = Absence(dt.datetime(2025, 3, 6, 13), dt.datetime(2025, 3, 6, 18), off_week=True)
    base = _base()
    c1 = dataclasses.replace(base.conseillers[0], absences=(off_week,))
    instance = dataclasses.replace(base, conseillers=(c1, base.conseillers[1]))
    [finding] = findings(instance, (*VALID, _p("c1", "A", THURSDAY, "pm", "13:30", "17:30")))
    assert finding.code == "unavailable"
    travel = (
        _p("c1", "C", MONDAY, "am", "08:30", "12:30"),
        _p("c1", "B", MONDAY, "pm", "14:00", "15:00"),
    )
    [far] = [f for f in findings(_base(), travel) if f.code == "daily_travel"]
    assert (far.conseiller, far.date, far.amount, far.limit) == ("c1", MONDAY, 36, 30)
    assert far.permanences == travel


def test_checker_allows_as_many_conseillers_as_rooms() -> None:
    two = (_p("c1", "B", WEDNESDAY, "am", "08:30", "12:00"), _p("c2", "B", WEDNESDAY, "am", "08:30", "12:00"))
    reopened = dataclasses.replace(
        _base(), lieux=tuple(dataclasses.replace(lieu, closed_dates=frozenset()) for lieu in _base().lieux)
    )
    assert violations(reopened, (*VALID, *two)) == []  # B has two rooms
    one_room = dataclasses.replace(reopened, lieux=tuple(dataclasses.replace(lieu, rooms=1) for lieu in reopened.lieux))
    assert violations(one_room, (*VALID, *two)) == [
        "B hosts 2 conseillers on 2025-03-05 morning (c1, c2) but has 1 room(s)."
    ]


def test_checker_catches_too_many_weekly_hours_and_a_misreported_shortfall() -> None:
    week = [
        _p("c1", "A", date, half, *(("08:30", "12:30") if half == "am" else ("13:30", "17:30")))
        for date in (MONDAY, TUESDAY, WEDNESDAY)
        for half in HALVES
    ]
    found = violations(_base(), week)
    assert any("c1 works 24 h in the week of 2025-03-03, above the contract's 20 h" in s for s in found), found
    [over] = [f for f in findings(_base(), week) if f.code == "weekly_hours"]
    assert (over.conseiller, over.date, over.amount, over.limit, over.permanences) == (
        "c1",
        MONDAY,
        24,
        20,
        tuple(week),
    )
    # The minimum is soft: a plan below it keeps the rules, and must report the hours short.
    assert violations(_base(), week[:1]) == []
    assert short_hours(_base(), week[:1]) == {"c1": 3.0}  # 4 h of the 7 h due
    found = violations(_base(), week[:1], reported_short_hours={})
    assert found == ["c1 is 3 h short of their minimum, but the plan reports 0 h."], found
    assert violations(_base(), week[:1], reported_short_hours={"c1": 3.0}) == []


def test_checker_catches_too_much_travel() -> None:
    plan = (
        _p("c1", "C", MONDAY, "am", "08:30", "12:30"),
        _p("c1", "B", MONDAY, "pm", "14:00", "15:00"),
        _p("c1", "A", TUESDAY, "am", "08:30", "12:30"),
    )
    found = violations(_base(), plan)
    assert any("c1 travels 36 min on 2025-03-03 (home → C → B → home), above the limit of 30" in s for s in found), (
        found
    )
    minutes, _ = day_travel(_base(), _base().conseillers[0], [plan[1], plan[0]])
    assert minutes == TRAVEL.minutes((45.0, 4.0), (45.0, 4.1), "car") + 15 + TRAVEL.minutes(
        (45.05, 4.0), (45.0, 4.0), "car"
    )


def test_checker_catches_a_missing_pin() -> None:
    pinned = dataclasses.replace(_base(), pins=(Pin("c1", "A", WEDNESDAY, "am"),))
    assert violations(pinned, VALID) == ["pin c1 at A on 2025-03-05 morning is not in the plan."]
    [broken] = findings(pinned, VALID)
    assert (broken.code, broken.conseiller, broken.lieu, broken.date, broken.half) == (
        "pin_broken", "c1", "A", WEDNESDAY, "am",
    )  # fmt: skip
    assert violations(pinned, (*VALID, _p("c1", "A", WEDNESDAY, "am", "08:30", "12:30"))) == []


def test_checker_follows_the_fortnight() -> None:
    second_week = dataclasses.replace(_base(), start=MONDAY + dt.timedelta(days=7), holidays=frozenset())
    fortnightly = _p("c1", "A", dt.date(2025, 3, 15), "am", "09:00", "12:00")
    assert not any("every other week" in s for s in violations(second_week, (fortnightly,)))
    four_weeks_on = dataclasses.replace(second_week, start=MONDAY + dt.timedelta(days=28))
    assert not any(
        "every other week" in s
        for s in violations(four_weeks_on, (dataclasses.replace(fortnightly, date=dt.date(2025, 4, 12)),))
    )
    three_weeks_on = dataclasses.replace(second_week, start=MONDAY + dt.timedelta(days=21))
    assert any(
        "every other week" in s
        for s in violations(three_weeks_on, (dataclasses.replace(fortnightly, date=dt.date(2025, 4, 5)),))
    )


def test_an_impossible_pin_makes_the_solve_infeasible_with_a_note() -> None:
    on_a_holiday = dataclasses.replace(_base(), pins=(Pin("c1", "A", FRIDAY, "am"),))
    result = cpsat.solve(on_a_holiday, time_limit_s=SOLVE_S)
    assert result.status == "INFEASIBLE"
    assert any("c1" in note and "A" in note and "2025-03-07" in note for note in result.notes), result.notes


# --- model bugs these tests found, fixed: they stay as regression tests -----------------------------


def test_a_previous_plan_with_two_permanences_in_one_block() -> None:
    """A permanence and an atelier in the same morning at the same lieu (what a scenario's previous
    plan may well hold) share one (conseiller, lieu, date, half) key."""
    lieu = Lieu("L0", "01000", 45.0, 4.0, 10, {0: CLASSIC})
    twice = Instance(
        time_zone="Europe/Paris",
        start=MONDAY,
        days=1,
        communes=(Commune("01000", 45.0, 4.0, 1000, 20.0),),
        lieux=(lieu,),
        conseillers=(Conseiller("c0", "L0", 0, 20, {0: frozenset(HALVES)}),),
        previous_plan=(
            _p("c0", "L0", MONDAY, "am", "09:00", "10:30"),
            dataclasses.replace(_p("c0", "L0", MONDAY, "am", "10:30", "12:00"), kind="atelier"),
        ),
    )
    result = cpsat.solve(twice, time_limit_s=SOLVE_S)
    assert result.status == "OPTIMAL", result.status


def test_the_daily_travel_limit_counts_the_route_home_morning_afternoon_home() -> None:
    """Home between two lieux 0.85 km either side: 1 min to each, but 3 min from one to the other
    (each leg rounded). The day's route is 1 + 3 + 1 = 5 min; the model counts 2 × 1 + 2 × 1 = 4."""
    east, west = 4.0 - 0.0108, 4.0 + 0.0108
    tight = Instance(
        time_zone="Europe/Paris",
        start=MONDAY,
        days=1,
        communes=(),
        lieux=(
            Lieu("H", "01000", 45.0, 4.0, 10, {}),
            Lieu("A", "01001", 45.0, east, 10, {0: ((dt.time(8, 30), dt.time(10, 30)),)}),
            Lieu("P", "01002", 45.0, west, 10, {0: ((dt.time(13, 30), dt.time(15, 30)),)}),
        ),
        conseillers=(Conseiller("c0", "H", 4, 4, {0: frozenset(HALVES)}, max_travel_minutes_per_day=4),),
    )
    from tests.unit.test_planner_brute_force import objective  # it imports this module's strategies

    result = cpsat.solve(tight, time_limit_s=SOLVE_S)
    assert result.status in ("OPTIMAL", "INFEASIBLE")
    if result.status == "OPTIMAL":  # it holds A then P: 5 minutes of travel, over the limit of 4
        assert violations(tight, result.permanences) == []
        assert result.objective == objective(tight, result.permanences)  # the brute force's valuation
