"""Domain rules of the three services, without broker or database."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from services.notifications.domain.model import Permanence as BookablePermanence
from services.registry.domain.model import Conseiller, InvalidConseiller
from services.scheduling.domain.model import ConseillerCopy, Permanence, Plan, PlanError, PlanStatus
from shared.events import ConseillerRegistered, PlannedPermanence, PlanPublished

REUNION = ZoneInfo("Indian/Reunion")
MONDAY = dt.date(2026, 11, 30)


def test_registering_a_conseiller_records_the_event():
    conseiller = Conseiller.register(uuid.uuid4(), "  Camille   Lefèvre ", "97422", 35)
    assert conseiller.name == "Camille Lefèvre"
    assert conseiller.events == [
        ConseillerRegistered(
            conseiller_id=conseiller.id, name="Camille Lefèvre", home_commune="97422", weekly_hours=35
        )
    ]


@pytest.mark.parametrize(
    ("name", "commune", "hours", "field"),
    [
        (" ", "61293", 35, "name"),
        ("Ana", "6129", 35, "home_commune"),
        ("Ana", "2C004", 35, "home_commune"),
        ("Ana", "61293", 0, "weekly_hours"),
        ("Ana", "61293", 49, "weekly_hours"),
    ],
)
def test_a_conseiller_with_bad_data_is_refused_naming_the_field(name, commune, hours, field):
    with pytest.raises(InvalidConseiller) as refused:
        Conseiller.register(uuid.uuid4(), name, commune, hours)
    assert refused.value.field == field


def conseiller() -> ConseillerCopy:
    return ConseillerCopy(uuid.uuid4(), "Ana", "97422", 35)


def permanence(who: ConseillerCopy, day: int, start: int, end: int) -> Permanence:
    date = MONDAY + dt.timedelta(days=day)
    return Permanence(
        uuid.uuid4(),
        who.id,
        "97422",
        "Relais solidarité",
        "permanence",
        dt.datetime.combine(date, dt.time(start), REUNION),
        dt.datetime.combine(date, dt.time(end), REUNION),
    )


def draft(
    *items: Permanence, who: ConseillerCopy, week_start: dt.date = MONDAY, zone="Indian/Reunion"
) -> Plan:
    return Plan.draft(uuid.uuid4(), "epci:249740101", week_start, zone, list(items), {who.id: who})


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


def test_week_bounds_are_read_in_the_territory_time_zone():
    """Monday 01:00 in La Réunion is still Sunday in UTC: it belongs to the week all the same."""
    who = conseiller()
    early = permanence(who, 0, 1, 3)
    assert early.starts_at.astimezone(dt.UTC).date() == MONDAY - dt.timedelta(days=1)
    assert draft(early, who=who).permanences == [early]


def test_a_bookable_permanence_shows_local_time():
    planned = PlannedPermanence(
        permanence_id=uuid.uuid4(),
        conseiller_id=uuid.uuid4(),
        commune="97134",
        lieu="Mairie de Vieux-Habitants",
        starts_at=dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC),
        time_zone="America/Guadeloupe",
    )
    local = BookablePermanence.published(uuid.uuid4(), planned).local_start()
    assert (local.hour, local.utcoffset()) == (9, dt.timedelta(hours=-4))
