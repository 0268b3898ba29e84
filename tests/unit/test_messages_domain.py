"""The send log's plans: which messages a booking calls for and when they are due, out of quiet hours."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

import pytest

from services.notifications.domain.bookings import Booking, BookingStatus, Usager
from services.notifications.domain.messages import (
    MessageKind,
    MessageStatus,
    SendingRules,
    on_booked,
    on_cancelled,
    on_moved,
    respecting_opt_out,
)
from services.notifications.domain.model import Permanence
from services.notifications.domain.sms_replies import OPT_OUT_REASON

PARIS = "Europe/Paris"
RULES = SendingRules()


def permanence(starts_at: dt.datetime) -> Permanence:
    return Permanence(
        id=uuid.uuid4(), plan_id=uuid.uuid4(), conseiller_id=uuid.uuid4(), commune="61293",
        lieu="EPN de Mortagne-au-Perche", kind="permanence", starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2), time_zone=PARIS, territory="dep:61", capacity=4,
    )  # fmt: skip


def booking(p: Permanence, now: dt.datetime) -> Booking:
    return Booking(uuid.uuid4(), uuid.uuid4(), p.id, BookingStatus.BOOKED, now)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def test_a_booking_calls_for_a_confirmation_now_and_a_reminder_a_day_before():
    now = utc(2026, 11, 30, 10)  # 11:00 in Paris
    p = permanence(utc(2026, 12, 3, 13))  # Thursday 14:00 in Paris
    b = booking(p, now)
    confirmation, reminder = on_booked(b, "sms", p, RULES, now)
    assert (confirmation.kind, confirmation.due_at, confirmation.version) == (MessageKind.CONFIRMATION, now, 1)
    assert (reminder.kind, reminder.due_at, reminder.version) == (MessageKind.REMINDER, utc(2026, 12, 2, 13), 1)
    assert {m.booking_id for m in (confirmation, reminder)} == {b.id}


def test_a_confirmation_booked_in_quiet_hours_is_due_when_they_end():
    now = utc(2026, 11, 30, 21)  # 22:00 in Paris
    p = permanence(utc(2026, 12, 3, 13))
    confirmation, _ = on_booked(booking(p, now), "sms", p, RULES, now)
    assert confirmation.due_at == utc(2026, 12, 1, 8)  # 09:00 in Paris


def test_a_reminder_that_would_fall_in_quiet_hours_is_moved_out_of_them():
    now = utc(2026, 11, 30, 10)
    p = permanence(utc(2026, 12, 3, 8, 30))  # 09:30 in Paris: a day before is 09:30, allowed
    assert on_booked(booking(p, now), "sms", p, RULES, now)[1].due_at == utc(2026, 12, 2, 8, 30)
    early = permanence(utc(2026, 12, 3, 7))  # hypothetical 08:00 start: a day before is quiet → 09:00
    assert on_booked(booking(early, now), "sms", early, RULES, now)[1].due_at == utc(2026, 12, 2, 8)


def test_no_reminder_when_the_booking_is_too_close_to_the_permanence():
    now = utc(2026, 11, 30, 10)
    p = permanence(utc(2026, 11, 30, 15))
    assert [m.kind for m in on_booked(booking(p, now), "sms", p, RULES, now)] == [MessageKind.CONFIRMATION]


def test_the_lead_comes_from_the_rules():
    now = utc(2026, 11, 30, 10)
    p = permanence(utc(2026, 12, 3, 13))
    rules = SendingRules(reminder_leads=(dt.timedelta(hours=2),))
    assert on_booked(booking(p, now), "email", p, rules, now)[1].due_at == utc(2026, 12, 3, 11)


def test_several_leads_plan_one_reminder_each_the_earliest_first():
    now = utc(2026, 11, 30, 10)
    p = permanence(utc(2026, 12, 3, 13))  # Thursday 14:00 in Paris
    rules = SendingRules(reminder_leads=(dt.timedelta(hours=2), dt.timedelta(days=2), dt.timedelta(days=1)))
    planned = on_booked(booking(p, now), "sms", p, rules, now)
    assert [(m.kind, m.lead_minutes, m.due_at) for m in planned] == [
        (MessageKind.CONFIRMATION, 0, now),
        (MessageKind.REMINDER, 2880, utc(2026, 12, 1, 13)),
        (MessageKind.REMINDER, 1440, utc(2026, 12, 2, 13)),
        (MessageKind.REMINDER, 120, utc(2026, 12, 3, 11)),
    ]
    assert len({m.id for m in planned}) == 4


def test_a_reminder_falling_with_an_earlier_message_is_not_planned():
    now = utc(2026, 11, 30, 22)  # 23:00 in Paris: everything waits for 09:00
    p = permanence(utc(2026, 12, 1, 12))  # Tuesday 13:00: 24 h before is quiet → 09:00, with the confirmation
    rules = SendingRules(reminder_leads=(dt.timedelta(days=1), dt.timedelta(hours=2)))
    planned = on_booked(booking(p, now), "sms", p, rules, now)
    assert [(m.kind, m.lead_minutes) for m in planned] == [(MessageKind.CONFIRMATION, 0), (MessageKind.REMINDER, 120)]


def test_a_lead_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        SendingRules(reminder_leads=(dt.timedelta(0),))


def test_a_moved_booking_has_a_new_version_a_moved_message_and_a_reminder_for_the_new_time():
    now = utc(2026, 11, 30, 10)
    old, new = permanence(utc(2026, 12, 3, 13)), permanence(utc(2026, 12, 4, 13))
    moved = booking(old, now).moved_to(new.id)
    assert (moved.permanence_id, moved.version) == (new.id, 2)
    message, reminder = on_moved(moved, "sms", new, RULES, now)
    assert (message.kind, message.version, message.due_at) == (MessageKind.MOVED, 2, now)
    assert (reminder.kind, reminder.version, reminder.due_at) == (MessageKind.REMINDER, 2, utc(2026, 12, 3, 13))


def test_a_cancelled_booking_does_not_move_and_a_cancelled_permanence_sends_one_message():
    now = utc(2026, 11, 30, 10)
    p = permanence(utc(2026, 12, 3, 13))
    cancelled = booking(p, now).cancelled(now, reason="lieu fermé")
    assert cancelled.cancel_reason == "lieu fermé"
    assert cancelled.moved_to(uuid.uuid4()) is cancelled
    assert [m.kind for m in on_cancelled(cancelled, "sms", p, RULES, now)] == [MessageKind.CANCELLED]


def usager(*, phone: str | None, email: str | None, opted_out: bool) -> Usager:
    registered = Usager.register(
        id=uuid.uuid4(), name="Odette", phone=phone, email=email, preferred_channel="sms", consent=True,
        territory="dep:61", now=utc(2026, 11, 1, 9),
    )  # fmt: skip
    return replace(registered, sms_opted_out=opted_out)


def test_an_usager_who_replied_stop_gets_no_sms_their_messages_stay_in_the_log_skipped():
    now = utc(2026, 11, 30, 10)
    p = permanence(utc(2026, 12, 3, 13))
    odette = usager(phone="06 12 34 56 78", email=None, opted_out=True)
    planned = respecting_opt_out(on_booked(booking(p, now), odette.channel(), p, RULES, now), odette)
    assert [(m.channel, m.status, m.last_error) for m in planned] == [
        ("sms", MessageStatus.SKIPPED, OPT_OUT_REASON)
    ] * 2
    still = usager(phone="06 12 34 56 78", email=None, opted_out=False)
    planned = respecting_opt_out(on_booked(booking(p, now), still.channel(), p, RULES, now), still)
    assert {m.status for m in planned} == {MessageStatus.PENDING}


def test_an_usager_who_replied_stop_and_has_an_email_is_written_to_instead():
    odette = usager(phone="06 12 34 56 78", email="odette@example.fr", opted_out=True)
    assert odette.channel() == "email"
    assert usager(phone="06 12 34 56 78", email="odette@example.fr", opted_out=False).channel() == "sms"
