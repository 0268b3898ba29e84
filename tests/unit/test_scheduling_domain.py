"""Scheduling's domain rules (plans, and the copy of the registry the planner reads), without broker or database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from services.scheduling.domain.model import Permanence, Plan, PlanError, PlanStatus
from services.scheduling.domain.registry_copy import (
    HALF_DAYS,
    AvailabilitySlot,
    Commune,
    Territory,
)
from services.scheduling.service_layer.registry_copy import REGISTRY_EVENTS
from shared.events import CATALOGUE, PermanenceCancelled, PermanenceMoved, PlanPublished
from tests.unit.scheduling_builders import MONDAY, SATURDAY, absence, conseiller, draft, permanence

# --- plans ----------------------------------------------------------------------------------


def test_publishing_a_plan_emits_its_permanences_in_order_with_the_time_zone():
    who = conseiller()
    later, earlier = permanence(who, 2, 14, 17), permanence(who, 0, 8, 12)
    plan = draft(later, earlier, who=who)

    plan.publish()

    assert plan.status is PlanStatus.PUBLISHED
    assert plan.version == 2
    [event] = plan.events
    assert isinstance(event, PlanPublished)
    assert [p.permanence_id for p in event.permanences] == [earlier.id, later.id]
    assert {p.time_zone for p in event.permanences} == {"Indian/Reunion"}


def test_an_atelier_is_published_with_its_lieu_capacity_as_seats_and_a_permanence_without():
    who = conseiller()
    lieu_id = uuid.uuid4()
    atelier = dataclasses.replace(permanence(who, 0, 9, 11), kind="atelier", lieu_id=lieu_id)
    individual = dataclasses.replace(permanence(who, 0, 14, 17), lieu_id=lieu_id)
    unknown_lieu = dataclasses.replace(permanence(who, 1, 9, 11), kind="atelier")
    plan = draft(atelier, individual, unknown_lieu, who=who)

    plan.publish(capacities={lieu_id: 8})

    [event] = plan.events
    assert isinstance(event, PlanPublished)
    assert [p.seats for p in event.permanences] == [8, None, None]


def test_a_published_plan_names_each_commune_and_one_it_has_no_name_for_is_empty():
    who = conseiller()
    elsewhere = dataclasses.replace(permanence(who, 1, 9, 11), commune="97411")
    plan = draft(permanence(who, 0, 9, 11), elsewhere, who=who)

    plan.publish(commune_names={"97422": "Le Tampon", "97416": "Saint-Pierre"})

    [event] = plan.events
    assert isinstance(event, PlanPublished)
    assert [(p.commune, p.commune_name) for p in event.permanences] == [("97422", "Le Tampon"), ("97411", "")]


def test_a_plan_is_published_once_and_never_empty():
    who = conseiller()
    plan = draft(permanence(who, 0, 8, 12), who=who)
    plan.publish()
    with pytest.raises(PlanError, match="already published"):
        plan.publish()
    with pytest.raises(PlanError, match="empty"):
        draft(who=who).publish()


def test_a_plan_refuses_what_cannot_happen():
    who = conseiller()
    stranger = conseiller()
    with pytest.raises(PlanError) as refused:
        draft(permanence(stranger, 0, 8, 12), who=who)
    assert refused.value.field == "permanences.0.conseiller_id"
    with pytest.raises(PlanError, match="Monday"):
        draft(who=who, week_start=MONDAY + dt.timedelta(days=1))
    with pytest.raises(PlanError, match="time zone"):
        draft(who=who, zone="Europe/Atlantis")
    with pytest.raises(PlanError, match="two places"):
        draft(permanence(who, 0, 8, 12), permanence(who, 0, 11, 13), who=who)
    with pytest.raises(PlanError, match="not in the week"):
        draft(permanence(who, 7, 8, 12), who=who)


def test_a_plan_refuses_an_archived_conseiller_naming_the_permanence():
    who = conseiller()
    gone = dataclasses.replace(who, archived=True)
    with pytest.raises(PlanError, match="archived") as refused:
        draft(permanence(who, 0, 8, 12), permanence(who, 1, 8, 12), who=gone)
    assert refused.value.field == "permanences.0.conseiller_id"


def test_week_bounds_are_read_in_the_territory_time_zone():
    """Monday 01:00 in La Réunion is still Sunday in UTC: it belongs to the week all the same."""
    who = conseiller()
    early = permanence(who, 0, 1, 3)
    assert early.starts_at.astimezone(dt.UTC).date() == MONDAY - dt.timedelta(days=1)
    assert draft(early, who=who).permanences == [early]


# --- the copy of the registry ---------------------------------------------------------------


def test_a_weekly_slot_occurs_on_its_weekday_only():
    monday_morning = AvailabilitySlot(weekday=0, half="am")
    assert [monday_morning.occurs_on(MONDAY + dt.timedelta(days=d)) for d in range(8)] == [
        True,
        *[False] * 6,
        True,
    ]


def test_every_other_saturday_counts_from_its_first_date():
    """Thionville: a drop-in every other Saturday, from its first one."""
    slot = AvailabilitySlot(weekday=5, half="am", every_weeks=2, from_date=SATURDAY)
    saturdays = [SATURDAY + dt.timedelta(weeks=w) for w in range(-1, 5)]
    assert [slot.occurs_on(day) for day in saturdays] == [False, True, False, True, False, True]


def test_a_slot_starting_later_does_not_occur_before():
    slot = AvailabilitySlot(weekday=4, half="pm", from_date=MONDAY + dt.timedelta(days=4))
    friday = MONDAY + dt.timedelta(days=4)
    assert not slot.occurs_on(friday - dt.timedelta(weeks=1))
    assert slot.occurs_on(friday)
    assert slot.occurs_on(friday + dt.timedelta(weeks=3))


def test_an_absence_covers_half_days_from_start_to_end_included():
    who = conseiller()
    away = absence(who, (MONDAY, "pm"), (MONDAY + dt.timedelta(days=2), "am"))
    covered = [away.covers(MONDAY + dt.timedelta(days=d), half) for d in range(4) for half in HALF_DAYS]
    assert covered == [False, True, True, True, True, False, False, False]


def test_a_conseiller_is_available_on_a_slot_unless_absent_or_archived():
    tuesday = MONDAY + dt.timedelta(days=1)
    who = conseiller(AvailabilitySlot(1, "am"), AvailabilitySlot(1, "pm"), AvailabilitySlot(4, "pm"))
    assert who.is_available(tuesday, "am")
    assert not who.is_available(tuesday + dt.timedelta(days=1), "am")  # Wednesday: no slot
    assert not who.is_available(MONDAY + dt.timedelta(days=4), "am")  # Friday morning: no slot

    ill = absence(who, (tuesday, "am"), (tuesday, "am"))
    someone_else = dataclasses.replace(ill, id=uuid.uuid4(), conseiller_id=uuid.uuid4(), start_half="pm")
    assert not who.is_available(tuesday, "am", [ill])
    assert who.is_available(tuesday, "pm", [ill, someone_else])
    assert not dataclasses.replace(who, archived=True).is_available(tuesday, "am")


def test_a_conseiller_works_in_their_territories_and_a_territory_covers_its_communes():
    who = conseiller(territories=("epci:249740101", "dep:974"))
    assert who.works_in("dep:974")
    assert not who.works_in("dep:971")
    sud = Territory(
        "epci:249740101", "epci", "CA du Sud", "Indian/Reunion", "RE", (Commune("97422", "Le Tampon", 80_000),)
    )
    assert sud.covers("97422")
    assert not sud.covers("97411")


def test_the_copy_takes_every_registry_event_of_the_catalogue():
    """A new registry event must be given a place in the copy (or deliberately left out here)."""
    registry_events = {event_type for event_type in CATALOGUE.values() if event_type.context() == "registry"}
    assert set(REGISTRY_EVENTS) == registry_events


def test_publishing_a_replan_tells_what_moved_and_what_was_cancelled():
    import uuid as _uuid
    from zoneinfo import ZoneInfo

    from services.scheduling.domain.model import Permanence, Plan, PlanError, PlanStatus
    from shared.events import PermanenceCancelled, PermanenceMoved, PlanPublished

    paris = ZoneInfo("Europe/Paris")
    who = conseiller()
    monday = dt.date(2026, 11, 30)

    def at(day: int, hour: int, lieu: str) -> Permanence:
        start = dt.datetime.combine(monday + dt.timedelta(days=day), dt.time(hour), paris)
        return Permanence(_uuid.uuid4(), who.id, "61293", lieu, "permanence", start, start + dt.timedelta(hours=3))

    stays, moves, goes = at(0, 9, "EPN"), at(1, 9, "Mairie"), at(2, 14, "EPN")
    published = Plan.draft(_uuid.uuid4(), "epci:200036069", monday, "Europe/Paris", [stays, moves, goes], {who.id: who})
    published.publish()
    moved_to = at(1, 14, "Mairie")  # same lieu, same day, the afternoon
    replan = Plan.draft(
        _uuid.uuid4(), "epci:200036069", monday, "Europe/Paris", [stays, moved_to], {who.id: who},
        replaces=published, reason="absence mardi matin",
    )  # fmt: skip
    with pytest.raises(PlanError, match="with the plan it replaces"):
        replan.publish()

    replan.publish(replacing=published, commune_names={"61293": "Mortagne-au-Perche"})

    assert published.status is PlanStatus.REPLACED
    published_event, moved, cancelled = replan.events
    assert isinstance(published_event, PlanPublished)
    assert isinstance(moved, PermanenceMoved)
    assert isinstance(cancelled, PermanenceCancelled)
    assert (moved.permanence_id, moved.to.permanence_id, cancelled.permanence_id) == (moves.id, moved_to.id, goes.id)
    assert {p.commune_name for p in published_event.permanences} == {moved.to.commune_name} == {"Mortagne-au-Perche"}
    assert {moved.reason, cancelled.reason} == {"absence mardi matin"}


def test_the_changes_of_a_replan_are_what_its_publication_tells():
    paris = ZoneInfo("Europe/Paris")
    who = conseiller()

    def at(day: int, hour: int, lieu: str) -> Permanence:
        start = dt.datetime.combine(MONDAY + dt.timedelta(days=day), dt.time(hour), paris)
        return Permanence(uuid.uuid4(), who.id, "61293", lieu, "permanence", start, start + dt.timedelta(hours=3))

    stays, moves, goes = at(0, 9, "EPN"), at(1, 9, "Mairie"), at(2, 14, "EPN")
    published = Plan.draft(uuid.uuid4(), "epci:200036069", MONDAY, "Europe/Paris", [goes, moves, stays], {who.id: who})
    published.publish()
    moved_to, new = at(1, 14, "Mairie"), at(3, 9, "Mairie")
    replan = Plan.draft(
        uuid.uuid4(), "epci:200036069", MONDAY, "Europe/Paris", [new, stays, moved_to], {who.id: who},
        replaces=published,
    )  # fmt: skip

    changes = replan.changes_from(published)

    assert changes.reason == "re-planned"
    assert [(c.old, c.to) for c in changes.changes] == [(moves, moved_to), (goes, None)]
    assert (changes.kept, changes.added) == ((stays,), (new,))
    replan.publish(replacing=published)
    moved, cancelled = replan.events[1:]
    assert isinstance(moved, PermanenceMoved)
    assert isinstance(cancelled, PermanenceCancelled)
    assert (moved.permanence_id, moved.to.permanence_id, cancelled.permanence_id) == (moves.id, moved_to.id, goes.id)
