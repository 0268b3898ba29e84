"""Usagers and bookings: the rules, without broker or database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest

from services.notifications.domain.bookings import (
    AlreadyBooked,
    BookedContacts,
    Booking,
    BookingStatus,
    NoConsent,
    PermanenceStarted,
    RuleBroken,
    Usager,
    book,
    booked_by_channel,
    channel_of,
)
from services.notifications.domain.contacts import InvalidEmail, InvalidPhone, NoContact
from services.notifications.domain.model import Permanence

NOW = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
MOBILE = "06 12 34 56 78"
LANDLINE = "02 33 85 11 11"


def usager(**overrides: Any) -> Usager:
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "name": "Yvette Morin",
        "phone": MOBILE,
        "email": None,
        "preferred_channel": "sms",
        "consent": True,
        "territory": "dep:61",
        "now": NOW,
    }
    return Usager.register(**{**fields, **overrides})


def permanence(starts_in: dt.timedelta = dt.timedelta(days=1), capacity: int | None = 8) -> Permanence:
    return Permanence(
        id=uuid.uuid4(),
        plan_id=uuid.uuid4(),
        conseiller_id=uuid.uuid4(),
        commune="61293",
        lieu="EPN de Mortagne-au-Perche",
        kind="atelier",
        starts_at=NOW + starts_in,
        ends_at=NOW + starts_in + dt.timedelta(hours=2),
        time_zone="Europe/Paris",
        territory="dep:61",
        capacity=capacity,
    )


def test_an_usager_is_registered_with_a_mobile_in_e164_and_sms():
    u = usager()
    assert u.phone is not None
    assert (u.phone.e164, u.phone.mobile, u.channel()) == ("+33612345678", True, "sms")


def test_an_usager_who_chose_sms_without_a_mobile_is_refused_on_the_phone_field():
    with pytest.raises(InvalidPhone) as refused:
        usager(phone=LANDLINE)
    assert refused.value.field == "phone"


def test_an_usager_with_a_landline_and_an_email_who_chose_email_is_written_to():
    assert usager(phone=LANDLINE, email="yvette@laposte.net", preferred_channel="email").channel() == "email"


def test_an_usager_without_any_contact_is_refused():
    with pytest.raises(NoContact):
        usager(phone=None, email=None)
    with pytest.raises(NoContact):
        usager(phone="  ", email="")


@pytest.mark.parametrize(
    ("field", "value", "error"), [("phone", "06 12", InvalidPhone), ("email", "yvette@", InvalidEmail)]
)
def test_an_invalid_contact_names_its_field_and_not_its_value(field, value, error):
    with pytest.raises(error) as refused:
        usager(**{field: value})
    assert refused.value.field == field
    assert value not in str(refused.value)


def test_an_usager_needs_a_name():
    with pytest.raises(RuleBroken) as refused:
        usager(name="  ")
    assert refused.value.field == "name"


def test_an_usager_repr_shows_no_contact():
    u = usager(email="yvette@laposte.net")
    assert "612345678" not in repr(u)
    assert "yvette@" not in repr(u)


def test_a_booking_needs_the_usager_consent():
    with pytest.raises(NoConsent):
        book(uuid.uuid4(), usager(consent=False), permanence(), None, NOW)


def test_a_permanence_that_has_started_cannot_be_booked():
    with pytest.raises(PermanenceStarted):
        book(uuid.uuid4(), usager(), permanence(starts_in=dt.timedelta(0)), None, NOW)
    with pytest.raises(PermanenceStarted):
        book(uuid.uuid4(), usager(), permanence(starts_in=-dt.timedelta(minutes=5)), None, NOW)


def test_an_usager_has_one_active_booking_per_permanence():
    u, p = usager(), permanence()
    first = book(uuid.uuid4(), u, p, None, NOW)
    assert first.status is BookingStatus.BOOKED
    with pytest.raises(AlreadyBooked):
        book(uuid.uuid4(), u, p, first, NOW)
    assert book(uuid.uuid4(), u, p, None, NOW).active  # after a cancellation, booked again


def test_cancelling_is_idempotent_and_keeps_the_first_cancellation_time():
    booking = Booking(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), BookingStatus.BOOKED, NOW)
    once = booking.cancelled(NOW + dt.timedelta(hours=1))
    twice = once.cancelled(NOW + dt.timedelta(hours=2))
    assert (once.status, once.cancelled_at) == (BookingStatus.CANCELLED, NOW + dt.timedelta(hours=1))
    assert twice == once


def test_capacity_counts_seats_already_taken():
    assert permanence(capacity=8).has_room(7)
    assert not permanence(capacity=8).has_room(8)
    assert permanence(capacity=None).has_room(10_000)


@pytest.mark.parametrize("phone", [None, MOBILE, LANDLINE])
@pytest.mark.parametrize("email", [None, "yvette.morin@laposte.net"])
@pytest.mark.parametrize("preferred", ["sms", "email"])
@pytest.mark.parametrize("stopped", [False, True])
def test_the_channel_read_from_which_contacts_there_are_is_the_usagers_own(phone, email, preferred, stopped):
    try:
        registered = usager(phone=phone, email=email, preferred_channel=preferred)
    except (InvalidPhone, NoContact):
        return  # never registered: never booked
    who = dataclasses.replace(registered, sms_opted_out=stopped)
    assert channel_of(has_phone=phone is not None, has_email=email is not None, preferred=preferred,
                      sms_opted_out=stopped) == who.channel()  # fmt: skip
    assert channel_of(has_phone=False, has_email=False, preferred=preferred, sms_opted_out=stopped) is None


def test_bookings_are_counted_by_the_channel_their_usagers_are_told_by_if_they_are_told():
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    booked = [
        BookedContacts(first, has_phone=True, has_email=False, preferred_channel="sms", sms_opted_out=False, bookings=2),
        BookedContacts(first, has_phone=True, has_email=True, preferred_channel="email", sms_opted_out=False, bookings=1),
        BookedContacts(first, has_phone=True, has_email=True, preferred_channel="sms", sms_opted_out=True, bookings=1),
        BookedContacts(first, has_phone=False, has_email=False, preferred_channel="sms", sms_opted_out=False, bookings=4),
        BookedContacts(second, has_phone=False, has_email=True, preferred_channel="sms", sms_opted_out=False, bookings=1),
        # replied STOP and has no e-mail: told nothing, counted nowhere
        BookedContacts(second, has_phone=True, has_email=False, preferred_channel="sms", sms_opted_out=True, bookings=3),
        BookedContacts(uuid.uuid4(), has_phone=True, has_email=False, preferred_channel="sms", sms_opted_out=False,
                       bookings=1),
    ]  # fmt: skip
    assert booked_by_channel([first, second, third], booked) == {
        first: {"sms": 2, "email": 2},
        second: {"sms": 0, "email": 1},
        third: {"sms": 0, "email": 0},
    }
