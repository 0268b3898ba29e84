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
    local = Permanence.published(uuid.uuid4(), planned).local_start()
    assert (local.hour, local.utcoffset()) == (9, dt.timedelta(hours=-4))
