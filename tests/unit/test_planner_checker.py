"""The checker catches each newer kind of violation: ateliers without seats or demand, recurrences
not held as asked, rooms shared by short blocks, a block across midday."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from services.scheduling.planner.checker import violations
from services.scheduling.planner.instance import Commune, Instance, Permanence, Recurrence
from tests.unit.test_planner_feasibility import MONDAY, TUESDAY, VALID, _base, _p

ATELIER_DEMAND = Commune("01009", 45.0, 4.0, 1000, 0, atelier_hours=10)


def with_ateliers(capacity: int = 10) -> Instance:
    base = _base()
    lieux = tuple(dataclasses.replace(lieu, capacity=capacity) for lieu in base.lieux)
    return dataclasses.replace(base, communes=(*base.communes, ATELIER_DEMAND), lieux=lieux)


def atelier(p: Permanence) -> Permanence:
    return dataclasses.replace(p, kind="atelier")


def test_an_atelier_needs_six_seats_and_atelier_demand_in_reach() -> None:
    held = atelier(_p("c2", "C", MONDAY, "pm", "13:30", "17:30"))
    assert violations(with_ateliers(), (*VALID, held)) == []
    assert any("an atelier needs 6 seats, C has 5" in s for s in violations(with_ateliers(5), (held,)))
    assert any("no commune within 15 km of C asks for ateliers" in s for s in violations(_base(), (held,)))


FRIDAY_TALK = Recurrence("r1", "A", 1, dt.time(10), dt.time(11), kind="atelier", skill="seniors")


def asked(recurrence: Recurrence = FRIDAY_TALK, skilled: str = "c2") -> Instance:
    base = _base()
    people = tuple(dataclasses.replace(c, skills=frozenset({"seniors"})) if c.id == skilled else c
                   for c in base.conseillers)  # fmt: skip
    return dataclasses.replace(base, conseillers=people, recurrences=(recurrence,))


def holding(who: str = "c2", **changes: object) -> Permanence:
    p = Permanence(who, "A", TUESDAY, "am", dt.time(10), dt.time(11), "atelier", "r1")
    return dataclasses.replace(p, **changes)  # type: ignore[arg-type]


def test_a_recurrence_held_as_asked_keeps_the_rules() -> None:
    assert violations(asked(), (holding(),)) == []


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        ((), "recurrence r1 on 2025-03-04 is held 0 time(s), not 1."),
        ((holding(), holding("c1")), "recurrence r1 on 2025-03-04 is held 2 time(s), not 1."),
        ((holding("c1"),), "c1 does not have the skill 'seniors'"),
        ((holding(end=dt.time(11, 30)),), "recurrence r1 asks for a atelier at A 10:00–11:00"),
        ((holding(kind="permanence"),), "recurrence r1 asks for a atelier"),
        ((holding(half="pm"),), "it starts in the am, not the pm"),
        ((holding(date=MONDAY),), "recurrence r1 does not fall on 2025-03-03"),
        ((holding(recurrence="r9"),), "there is no recurrence 'r9'"),
    ],
)
def test_checker_catches_a_recurrence_not_held_as_asked(plan: tuple[Permanence, ...], expected: str) -> None:
    found = violations(asked(), plan)
    assert any(expected in sentence for sentence in found), found


def test_an_occurrence_its_lieu_cannot_host_must_not_be_held() -> None:
    too_big = dataclasses.replace(FRIDAY_TALK, seats=50)
    found = violations(asked(too_big), (holding(),))
    assert "recurrence r1 on 2025-03-04 is held 1 time(s), not 0." in found
    assert any("A seats 10, fewer than the 50 asked" in s for s in found), found
    assert violations(asked(too_big), ()) == []


def test_an_occurrence_nobody_can_hold_must_not_be_held() -> None:
    nobody = asked(skilled="nobody")
    assert violations(nobody, ()) == []


def test_short_blocks_share_a_room_when_they_do_not_overlap() -> None:
    base = dataclasses.replace(_base(), lieux=tuple(dataclasses.replace(lieu, rooms=1) for lieu in _base().lieux))
    two = (Recurrence("r1", "A", 0, dt.time(9), dt.time(10)), Recurrence("r2", "A", 0, dt.time(10), dt.time(11)))
    at_nine = Permanence("c1", "A", MONDAY, "am", dt.time(9), dt.time(10), recurrence="r1")
    at_ten = Permanence("c2", "A", MONDAY, "am", dt.time(10), dt.time(11), recurrence="r2")
    assert violations(dataclasses.replace(base, recurrences=two), (at_nine, at_ten)) == []
    overlapping = (two[0], dataclasses.replace(two[1], start=dt.time(9, 30)))
    late = dataclasses.replace(at_ten, start=dt.time(9, 30))
    found = violations(dataclasses.replace(base, recurrences=overlapping), (at_nine, late))
    assert "A hosts 2 conseillers on 2025-03-03 morning (c1, c2) but has 1 room(s)." in found


def test_a_block_across_midday_takes_both_half_days() -> None:
    lunch = Recurrence("r1", "A", 0, dt.time(12), dt.time(14))
    base = _base()
    long_hours = dataclasses.replace(base.lieux[0], opening={0: ((dt.time(8), dt.time(18)),)})
    plan_for = dataclasses.replace(base, lieux=(long_hours, *base.lieux[1:]), recurrences=(lunch,))
    across = Permanence("c2", "A", MONDAY, "am", dt.time(12), dt.time(14), recurrence="r1")
    afternoon = _p("c2", "A", MONDAY, "pm", "14:00", "17:30")
    assert violations(plan_for, (across,)) == []
    found = violations(plan_for, (across, afternoon))
    assert any("c2 has 2 permanences on 2025-03-03 afternoon" in s for s in found), found
