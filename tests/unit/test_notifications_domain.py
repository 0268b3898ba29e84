"""Notifications' domain rules, without broker or database."""

from __future__ import annotations

import datetime as dt
import uuid

from services.notifications.domain.model import Permanence
from shared.events import PlannedPermanence


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
    local = Permanence.published(uuid.uuid4(), "dep:971", planned).local_start()
    assert (local.hour, local.utcoffset()) == (9, dt.timedelta(hours=-4))


def planned(kind: str = "permanence", hours: float = 3, seats: int | None = None) -> PlannedPermanence:
    starts_at = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    return PlannedPermanence(
        permanence_id=uuid.uuid4(),
        conseiller_id=uuid.uuid4(),
        commune="61293",
        lieu="EPN de Mortagne-au-Perche",
        kind=kind,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=hours),
        time_zone="Europe/Paris",
        seats=seats,
    )


def test_an_atelier_takes_as_many_usagers_as_its_seats():
    permanence = Permanence.published(uuid.uuid4(), "dep:61", planned("atelier", seats=8))
    assert (permanence.territory, permanence.capacity) == ("dep:61", 8)
    assert permanence.has_room(7)
    assert not permanence.has_room(8)


def test_an_atelier_without_seats_is_not_limited():
    permanence = Permanence.published(uuid.uuid4(), "dep:61", planned("atelier", seats=None))
    assert permanence.capacity is None
    assert permanence.has_room(1000)


def test_an_individual_permanence_takes_one_usager_per_half_hour_rounded_down_at_least_one():
    assert Permanence.published(uuid.uuid4(), "dep:61", planned(hours=3)).capacity == 6
    assert Permanence.published(uuid.uuid4(), "dep:61", planned(hours=1.75)).capacity == 3
    assert Permanence.published(uuid.uuid4(), "dep:61", planned(hours=0.25)).capacity == 1


def test_a_permanence_keeps_its_communes_name_and_an_older_event_without_it_gives_none():
    named = planned().model_copy(update={"commune_name": "Mortagne-au-Perche"})
    assert Permanence.published(uuid.uuid4(), "dep:61", named).commune_name == "Mortagne-au-Perche"
    older = PlannedPermanence.model_validate_json(planned().model_dump_json(exclude={"commune_name"}))
    assert (older.commune, older.commune_name) == ("61293", "")
    assert Permanence.published(uuid.uuid4(), "dep:61", older).commune_name == ""
