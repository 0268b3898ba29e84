"""Recurrences of a lieu: the registry's rules for them, and their place in the lieu's events."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pydantic
import pytest

from services.registry.domain.errors import Conflict, RuleBroken
from services.registry.domain.places import Lieu
from services.registry.domain.recurrences import MAX_RECURRENCES, Recurrence
from shared.events import LieuChanged, LieuOpened, RecurrenceFields

HOURS = "Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00; PH off"
ATELIER = {
    "weekday": 4, "start": dt.time(16), "end": dt.time(17), "kind": "atelier", "skill": "smartphone", "seats": 8,
    "needs_computers": True,
}  # fmt: skip
FORTNIGHTLY = {
    "weekday": 5, "start": "09:00", "end": "12:00", "every_weeks": 2, "from_date": "2026-12-05", "kind": "permanence",
}  # fmt: skip


def lieu(*recurrences: dict[str, Any], **overrides: Any) -> Lieu:
    values = {
        "name": "Médiathèque de Mortagne", "kind": "partenaire", "structure_id": None, "commune": "61293",
        "address": "", "latitude": 48.52, "longitude": 0.55, "capacity": 12, "has_computers": True,
        "accessible": True, "opening_hours": HOURS, "recurrences": list(recurrences),
    }  # fmt: skip
    return Lieu.open(uuid.uuid4(), **{**values, **overrides})


def refused_field(*recurrences: dict[str, Any], **overrides: Any) -> str:
    with pytest.raises(RuleBroken) as refused:
        lieu(*recurrences, **overrides)
    return refused.value.field


def test_a_lieu_opens_with_its_recurrences_and_its_event_carries_them():
    kept = uuid.uuid4()
    place = lieu(ATELIER, {**FORTNIGHTLY, "id": str(kept)})
    atelier, fortnightly = place.recurrences
    assert atelier == Recurrence(
        id=atelier.id, weekday=4, start=dt.time(16), end=dt.time(17), kind="atelier", skill="smartphone", seats=8,
        needs_computers=True,
    )  # fmt: skip
    assert (fortnightly.id, fortnightly.every_weeks, fortnightly.from_date) == (kept, 2, dt.date(2026, 12, 5))
    assert (fortnightly.start, fortnightly.end, fortnightly.seats) == (dt.time(9), dt.time(12), 0)
    [event] = place.events
    assert isinstance(event, LieuOpened)
    assert event.recurrences == [
        RecurrenceFields(
            recurrence_id=atelier.id, weekday=4, start=dt.time(16), end=dt.time(17), kind="atelier",
            skill="smartphone", seats=8, needs_computers=True,
        ),
        RecurrenceFields(
            recurrence_id=kept, weekday=5, start=dt.time(9), end=dt.time(12), every_weeks=2,
            from_date=dt.date(2026, 12, 5), kind="permanence",
        ),
    ]  # fmt: skip


def test_a_lieu_without_recurrences_has_none():
    assert lieu().recurrences == ()
    assert lieu().events[0].recurrences == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end": dt.time(15)}, "end"),  # ends before it starts
        ({"end": dt.time(16)}, "end"),  # empty
        ({"start": dt.time(16, 45)}, "end"),  # 15 minutes: under 30
        ({"start": dt.time(8), "end": dt.time(9)}, "start"),  # before opening
        ({"start": dt.time(12), "end": dt.time(14)}, "start"),  # during the lunch break
        ({"start": dt.time(16), "end": dt.time(18)}, "end"),  # past closing
        ({"start": dt.time(11), "end": dt.time(15)}, "end"),  # across the lunch break
        ({"weekday": 6}, "weekday"),  # closed on Sundays
        ({"weekday": 7}, "weekday"),
        ({"seats": 13}, "seats"),  # capacity is 12
        ({"seats": -1}, "seats"),
        ({"every_weeks": 5}, "every_weeks"),
        ({"every_weeks": 2}, "from_date"),  # fortnightly needs its first date
        ({"from_date": "2026-12-05"}, "from_date"),  # a Saturday, not a Friday
        ({"kind": "cours"}, "kind"),
        ({"skill": "Démarches en ligne"}, "skill"),
        ({"start": "16:00:30"}, "start"),  # whole minutes
        ({"start": "4pm"}, "start"),
        ({"id": "not-a-uuid"}, "id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_recurrence_breaking_a_rule_is_refused_naming_its_field(change, field):
    assert refused_field({**ATELIER, **change}) == f"recurrences.0.{field}"


def test_the_field_named_is_the_one_of_the_recurrence_at_fault():
    assert refused_field(FORTNIGHTLY, {**ATELIER, "end": dt.time(16, 15)}) == "recurrences.1.end"


def test_needing_computers_is_for_lieux_that_have_them():
    assert refused_field(ATELIER, has_computers=False) == "recurrences.0.needs_computers"
    assert lieu({**ATELIER, "needs_computers": False}, has_computers=False).recurrences[0].seats == 8


def test_a_recurrence_lies_within_the_weekly_hours_whatever_the_dated_exceptions():
    hours = f"{HOURS}; 2026 Dec 25 off; 2026 Dec 27 16:00-17:00"
    assert len(lieu(ATELIER, opening_hours=hours).recurrences) == 1  # Friday the 25th only cancels one
    assert refused_field({**ATELIER, "weekday": 6}, opening_hours=hours) == "recurrences.0.weekday"


def test_two_recurrences_of_a_lieu_may_not_share_an_id():
    same = str(uuid.uuid4())
    assert refused_field({**ATELIER, "id": same}, {**FORTNIGHTLY, "id": same}) == "recurrences.1.id"


def test_a_lieu_holds_at_most_fifty_recurrences():
    assert len(lieu(*[ATELIER] * MAX_RECURRENCES).recurrences) == MAX_RECURRENCES
    assert refused_field(*[ATELIER] * (MAX_RECURRENCES + 1)) == "recurrences"


def test_a_skill_is_read_as_a_conseillers_skill():
    assert lieu({**ATELIER, "skill": " Smartphone "}).recurrences[0].skill == "smartphone"


def test_changing_recurrences_is_a_new_version_with_a_lieu_changed_event():
    place = lieu(ATELIER)
    atelier = place.recurrences[0]
    place.change(1, recurrences=[atelier, FORTNIGHTLY])
    assert (place.version, [r.kind for r in place.recurrences]) == (2, ["atelier", "permanence"])
    assert place.recurrences[0] is atelier  # kept as it was, id included
    changed = place.events[-1]
    assert isinstance(changed, LieuChanged)
    assert [r.recurrence_id for r in changed.recurrences] == [r.id for r in place.recurrences]
    place.change(2, recurrences=list(place.recurrences))  # the same list: no new version, no event
    assert (place.version, len(place.events)) == (2, 2)
    place.change(2, recurrences=[])
    assert (place.version, place.recurrences, place.events[-1].recurrences) == (3, (), [])  # type: ignore[attr-defined]
    with pytest.raises(Conflict, match="stale"):
        place.change(2, recurrences=[ATELIER])


def test_other_changes_keep_the_recurrences():
    place = lieu(ATELIER)
    before = place.recurrences
    place.change(1, name="Médiathèque du Perche")
    assert (place.version, place.recurrences) == (2, before)
    assert len(place.events[-1].recurrences) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"opening_hours": "Mo-Fr 09:00-12:00"}, "recurrences.0.start"),
        ({"capacity": 6}, "recurrences.0.seats"),
        ({"has_computers": False}, "recurrences.0.needs_computers"),
    ],
)
def test_a_change_of_the_lieu_that_its_recurrences_no_longer_fit_is_refused(changes, field):
    place = lieu(ATELIER)
    with pytest.raises(RuleBroken) as refused:
        place.change(1, **changes)
    assert refused.value.field == field
    assert (place.version, len(place.recurrences)) == (1, 1)


def test_lieu_events_from_before_recurrences_still_parse():
    event = lieu().events[0]
    payload = event.model_dump(mode="json", exclude={"recurrences"})
    assert LieuOpened.model_validate(payload).recurrences == []


def test_the_event_contract_refuses_a_fortnightly_recurrence_without_its_first_date():
    with pytest.raises(pydantic.ValidationError, match="a recurrence every N weeks needs the from_date"):
        RecurrenceFields(
            recurrence_id=uuid.uuid4(), weekday=5, start=dt.time(9), end=dt.time(12), every_weeks=2, kind="permanence"
        )
