"""A draft's permanences moved by hand: what a move keeps, what it refuses, and the ids a re-plan gives."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest

from services.scheduling.domain.model import Permanence, Plan, PlanError
from services.scheduling.domain.registry_copy import AvailabilitySlot, Lieu
from tests.unit.scheduling_builders import MONDAY, REUNION, conseiller, draft, permanence


def lieu(name: str = "Médiathèque du Tampon", commune: str = "97422") -> Lieu:
    return Lieu(
        uuid.uuid4(), name, "structure", None, commune, -21.27, 55.51, 12, True, True, "Mo-Fr 08:00-18:00"
    )  # fmt: skip


def test_a_draft_permanence_moves_keeping_its_id_kind_and_pin():
    who, other = conseiller(), conseiller(AvailabilitySlot(1, "am"))
    first = dataclasses.replace(permanence(who, 0, 8, 12), kind="atelier", pinned=True)
    plan = Plan.draft(uuid.uuid4(), "epci:249740101", MONDAY, "Indian/Reunion", [first], {who.id: who})
    there = lieu()
    starts = dt.datetime.combine(MONDAY + dt.timedelta(days=1), dt.time(9), REUNION)

    moved = plan.move(
        first.id, other, there, starts, starts + dt.timedelta(hours=3), replaced=None, fresh_id=uuid.uuid4()
    )

    assert moved == Permanence(
        first.id, other.id, "97422", "Médiathèque du Tampon", "atelier", starts, starts + dt.timedelta(hours=3),
        there.id, pinned=True,
    )  # fmt: skip
    assert (plan.permanences, plan.version) == ([moved], 2)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"permanence_id": uuid.uuid4()}, "permanence_id"),
        ({"conseiller": None}, "conseiller_id"),
        ({"archived": True}, "conseiller_id"),
        ({"lieu": None}, "lieu_id"),
        ({"ends_at": (0, 7)}, "ends_at"),
        ({"starts_at": (7, 9), "ends_at": (7, 12)}, "starts_at"),
        ({"ends_at": (1, 1)}, "ends_at"),  # over two days
        ({"starts_at": (2, 15), "ends_at": (2, 17)}, "permanences"),  # in two places at once
    ],
)
def test_a_move_refuses_what_cannot_happen(change, field):
    who = conseiller()
    first, busy = permanence(who, 0, 8, 12), permanence(who, 2, 14, 17)
    plan = draft(first, busy, who=who)
    arguments = {
        "permanence_id": first.id,
        "conseiller": dataclasses.replace(who, archived=change.pop("archived", False)),
        "lieu": lieu(),
        "starts_at": (0, 9),
        "ends_at": (0, 11),
        **change,
    }
    for time in ("starts_at", "ends_at"):
        day, hour = arguments[time]
        arguments[time] = dt.datetime.combine(MONDAY + dt.timedelta(days=day), dt.time(hour), REUNION)

    with pytest.raises(PlanError) as refused:
        plan.move(**arguments, replaced=None, fresh_id=uuid.uuid4())

    assert refused.value.field == field
    assert (plan.permanences, plan.version) == ([first, busy], 1)


def test_only_a_draft_is_moved_by_hand():
    who = conseiller()
    first = permanence(who, 0, 8, 12)
    plan = draft(first, who=who)
    plan.publish()
    with pytest.raises(PlanError, match="only a draft") as refused:
        plan.move(first.id, who, lieu(), first.starts_at, first.ends_at, replaced=None, fresh_id=uuid.uuid4())
    assert refused.value.field == "status"


def test_in_a_replan_a_moved_permanence_gets_a_new_id_and_its_own_back_once_moved_back():
    who = conseiller()
    there = lieu()
    published_one, published_two = (
        dataclasses.replace(permanence(who, day, 8, 12), lieu_id=there.id, lieu=there.name) for day in (0, 1)
    )
    published = draft(published_one, published_two, who=who)
    published.publish()
    new = dataclasses.replace(permanence(who, 2, 8, 12), lieu_id=there.id, lieu=there.name)
    replan = Plan.draft(
        uuid.uuid4(), "epci:249740101", MONDAY, "Indian/Reunion", [published_one, new], {who.id: who},
        replaces=published,
    )  # fmt: skip
    fresh = uuid.uuid4()

    def move(p: Permanence, day: int, start: int, end: int) -> Permanence:
        at = MONDAY + dt.timedelta(days=day)
        return replan.move(
            p.id, who, there, dt.datetime.combine(at, dt.time(start), REUNION),
            dt.datetime.combine(at, dt.time(end), REUNION), replaced=published, fresh_id=fresh,
        )  # fmt: skip

    away = move(published_one, 3, 8, 12)
    assert away.id == fresh, "the usagers booked into it must be told"
    assert [c.old.id for c in replan.changes_from(published).changes] == [published_one.id, published_two.id]
    back = move(away, 0, 8, 12)
    assert back.id == published_one.id, "moved back where it was: nothing to tell"
    assert [p.id for p in replan.changes_from(published).kept] == [published_one.id]
    assert move(new, 4, 8, 12).id == new.id, "nobody could book a permanence of the draft alone"
    onto = move(replan.permanences[1], 1, 8, 12)
    assert onto.id == published_two.id, "onto a published permanence left out: it is kept after all"
    assert replan.changes_from(published).changes == ()
    with pytest.raises(PlanError, match="with the plan it replaces"):
        replan.move(new.id, who, there, new.starts_at, new.ends_at, replaced=None, fresh_id=fresh)


def test_a_replan_replaces_the_published_plan_a_draft_replaces_and_never_a_replaced_one():
    who = conseiller()
    fresh = draft(permanence(who, 0, 8, 12), who=who)
    assert fresh.replanned_from(None) is None, "a draft of its own replaces nothing"
    published = draft(permanence(who, 0, 8, 12), who=who)
    published.publish()
    assert published.replanned_from(None) is published
    replan = Plan.draft(
        uuid.uuid4(), "epci:249740101", MONDAY, "Indian/Reunion", [], {who.id: who}, replaces=published
    )  # fmt: skip
    assert replan.replanned_from(published) is published
    with pytest.raises(PlanError, match="no longer published"):
        replan.replanned_from(None)
    dataclasses.replace(replan, permanences=[permanence(who, 1, 8, 12)]).publish(replacing=published)
    with pytest.raises(PlanError, match="no longer published"):
        replan.replanned_from(published)
    with pytest.raises(PlanError, match="was replaced"):
        published.replanned_from(None)
