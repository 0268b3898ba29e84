"""Retention of usagers' personal data: when an usager is due for anonymisation, and what is left of them."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.notifications.domain.bookings import Usager, UsagerAnonymised, book
from services.notifications.domain.model import Permanence
from services.notifications.domain.retention import (
    ANONYMISED_NAME,
    DEFAULT_RETENTION,
    anonymised,
    due_for_anonymisation,
    last_activity,
)

NOW = dt.datetime(2027, 6, 1, 12, 0, tzinfo=dt.UTC)
RETENTION = dt.timedelta(days=183)


def usager(*, registered: dt.timedelta, last_booked: dt.timedelta | None = None, **overrides: object) -> Usager:
    """An usager registered ``registered`` ago, who last booked ``last_booked`` ago (never, when None)."""
    registered_usager = Usager.register(
        id=uuid.uuid4(),
        name="Yvette Morin",
        phone="06 12 34 56 78",
        email="yvette.morin@laposte.net",
        preferred_channel="sms",
        consent=True,
        territory="dep:61",
        now=NOW - registered,
    )
    if last_booked is not None:
        registered_usager = registered_usager.booked(NOW - last_booked)
    return registered_usager


def test_the_default_retention_is_six_months():
    assert dt.timedelta(days=182) < DEFAULT_RETENTION < dt.timedelta(days=185)


def test_an_usager_who_never_booked_is_due_once_their_registration_is_older_than_the_retention():
    assert due_for_anonymisation(usager(registered=RETENTION + dt.timedelta(seconds=1)), [], NOW, RETENTION)
    assert not due_for_anonymisation(usager(registered=RETENTION), [], NOW, RETENTION)
    assert not due_for_anonymisation(usager(registered=dt.timedelta(days=1)), [], NOW, RETENTION)


def test_the_retention_runs_from_the_last_booking_not_from_the_registration():
    recent = usager(registered=dt.timedelta(days=900), last_booked=dt.timedelta(days=30))
    assert last_activity(recent) == NOW - dt.timedelta(days=30)
    assert not due_for_anonymisation(recent, [], NOW, RETENTION)

    old = usager(registered=dt.timedelta(days=900), last_booked=dt.timedelta(days=200))
    assert due_for_anonymisation(old, [], NOW, RETENTION)


def test_an_usager_booked_into_a_permanence_that_has_not_ended_is_kept_however_old_their_booking():
    old = usager(registered=dt.timedelta(days=900), last_booked=dt.timedelta(days=400))
    assert not due_for_anonymisation(old, [NOW + dt.timedelta(days=3)], NOW, RETENTION)
    assert not due_for_anonymisation(old, [NOW - dt.timedelta(days=300), NOW + dt.timedelta(hours=1)], NOW, RETENTION)


def test_active_bookings_into_permanences_that_have_ended_do_not_keep_an_usager():
    old = usager(registered=dt.timedelta(days=900), last_booked=dt.timedelta(days=400))
    assert due_for_anonymisation(old, [NOW - dt.timedelta(days=390), NOW], NOW, RETENTION)


def test_the_retention_is_configurable():
    someone = usager(registered=dt.timedelta(days=40))
    assert due_for_anonymisation(someone, [], NOW, dt.timedelta(days=30))
    assert not due_for_anonymisation(someone, [], NOW, dt.timedelta(days=365))


def test_anonymising_erases_the_name_and_contacts_and_keeps_what_counts():
    someone = usager(registered=dt.timedelta(days=900), last_booked=dt.timedelta(days=200))
    erased = anonymised(someone, NOW)
    assert (erased.name, erased.phone, erased.email, erased.anonymised_at) == (ANONYMISED_NAME, None, None, NOW)
    kept = ("id", "territory", "preferred_channel", "consent", "created_at", "last_booking_at", "sms_opted_out")
    assert all(getattr(erased, name) == getattr(someone, name) for name in kept)
    assert "Yvette" not in repr(erased)


def test_an_anonymised_usager_is_not_due_again_and_anonymising_twice_changes_nothing():
    erased = anonymised(usager(registered=dt.timedelta(days=900)), NOW)
    assert not due_for_anonymisation(erased, [], NOW + dt.timedelta(days=1000), RETENTION)
    assert anonymised(erased, NOW + dt.timedelta(days=1)) is erased


def test_an_anonymised_usager_cannot_be_booked():
    erased = anonymised(usager(registered=dt.timedelta(days=900)), NOW)
    permanence = Permanence(
        id=uuid.uuid4(), plan_id=uuid.uuid4(), conseiller_id=uuid.uuid4(), commune="61293", lieu="EPN",
        kind="permanence", starts_at=NOW + dt.timedelta(days=2), ends_at=NOW + dt.timedelta(days=2, hours=2),
        time_zone="Europe/Paris", territory="dep:61", capacity=4,
    )  # fmt: skip
    with pytest.raises(UsagerAnonymised):
        book(uuid.uuid4(), erased, permanence, None, NOW)
