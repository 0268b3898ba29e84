"""What the sender does with a due message (send, wait, skip), its backoff, and the rate limit per sender."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

import pytest

from services.notifications.adapters.rate_limit import TokenBucket
from services.notifications.domain.bookings import Booking, BookingStatus, Usager
from services.notifications.domain.contacts import parse_phone
from services.notifications.domain.dispatch import (
    BOOKING_CANCELLED,
    NO_EMAIL,
    SUPERSEDED,
    TOO_LATE,
    Backoff,
    Postpone,
    Send,
    Skip,
    decide,
    sms_text,
)
from services.notifications.domain.messages import Message, MessageKind, MessageStatus
from services.notifications.domain.model import Permanence
from services.notifications.domain.quiet_hours import QuietHours
from services.notifications.domain.sms_replies import OPT_OUT_REASON

QUIET = QuietHours(dt.time(20), dt.time(9))
# Tuesday 8 December 2026, 14:00 in Paris (UTC+1); 16:00 in La Réunion (UTC+4).
START = dt.datetime(2026, 12, 8, 13, 0, tzinfo=dt.UTC)
NOON = dt.datetime(2026, 12, 7, 11, 0, tzinfo=dt.UTC)  # the day before, 12:00 in Paris


def permanence(time_zone: str = "Europe/Paris", kind: str = "permanence") -> Permanence:
    return Permanence(
        id=uuid.uuid4(), plan_id=uuid.uuid4(), conseiller_id=uuid.uuid4(), commune="61293",
        lieu="Mairie de Mortagne-au-Perche", kind=kind, starts_at=START, ends_at=START + dt.timedelta(hours=2),
        time_zone=time_zone, territory="dep:61", capacity=4, commune_name="Mortagne-au-Perche",
    )  # fmt: skip


USAGER = Usager(
    id=uuid.uuid4(), name="Yvette Morin", phone=parse_phone("06 12 34 56 78"), email=None,
    preferred_channel="sms", consent=True, territory="dep:61", created_at=NOON,
)  # fmt: skip
BOOKING = Booking(uuid.uuid4(), USAGER.id, uuid.uuid4(), BookingStatus.BOOKED, NOON)


def message(kind: MessageKind = MessageKind.REMINDER, version: int = 1, channel: str = "sms") -> Message:
    return Message(
        id=uuid.uuid4(), booking_id=BOOKING.id, usager_id=USAGER.id, kind=kind, version=version,
        channel=channel, due_at=NOON, status=MessageStatus.PENDING, created_at=NOON,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_due_message_goes_out_in_the_day():
    assert decide(message(), BOOKING, permanence(), USAGER, QUIET, NOON) == Send()


def test_a_message_due_at_night_waits_for_the_morning_of_its_territory():
    night = dt.datetime(2026, 12, 7, 21, 30, tzinfo=dt.UTC)  # 22:30 in Paris, 01:30 in La Réunion
    assert decide(message(), BOOKING, permanence(), USAGER, QUIET, night) == Postpone(
        dt.datetime(2026, 12, 8, 8, 0, tzinfo=dt.UTC)  # 09:00 in Paris
    )
    assert decide(message(), BOOKING, permanence("Indian/Reunion"), USAGER, QUIET, night) == Postpone(
        dt.datetime(2026, 12, 8, 5, 0, tzinfo=dt.UTC)  # 09:00 in La Réunion
    )


def test_a_message_whose_quiet_hours_end_after_the_permanence_began_is_not_sent():
    early = replace(permanence(), starts_at=dt.datetime(2026, 12, 8, 7, 30, tzinfo=dt.UTC))  # 08:30 in Paris
    night = dt.datetime(2026, 12, 7, 21, 30, tzinfo=dt.UTC)
    assert decide(message(), BOOKING, early, USAGER, QUIET, night) == Skip(TOO_LATE)


def test_a_message_is_not_sent_once_its_permanence_has_begun():
    assert decide(message(MessageKind.CONFIRMATION), BOOKING, permanence(), USAGER, QUIET, START) == Skip(TOO_LATE)


def test_a_message_about_an_earlier_version_of_a_moved_booking_is_not_sent():
    moved = replace(BOOKING, version=2)
    assert decide(message(version=1), moved, permanence(), USAGER, QUIET, NOON) == Skip(SUPERSEDED)
    assert decide(message(MessageKind.MOVED, version=2), moved, permanence(), USAGER, QUIET, NOON) == Send()


def test_only_the_cancellation_notice_goes_out_about_a_cancelled_booking():
    cancelled = BOOKING.cancelled(NOON, "the permanence is cancelled")
    assert decide(message(), cancelled, permanence(), USAGER, QUIET, NOON) == Skip(BOOKING_CANCELLED)
    assert decide(message(MessageKind.CANCELLED), cancelled, permanence(), USAGER, QUIET, NOON) == Send()


def test_no_sms_to_an_usager_who_replied_stop_and_no_mail_without_an_address():
    stopped = replace(USAGER, sms_opted_out=True)
    assert decide(message(), BOOKING, permanence(), stopped, QUIET, NOON) == Skip(OPT_OUT_REASON)
    assert decide(message(channel="email"), BOOKING, permanence(), USAGER, QUIET, NOON) == Skip(NO_EMAIL)


def test_the_sms_text_is_the_same_each_time_and_in_local_time():
    reunion = permanence("Indian/Reunion", kind="atelier")
    text = sms_text(MessageKind.REMINDER, reunion)
    assert text == sms_text(MessageKind.REMINDER, reunion)
    assert text.startswith("Rappel : atelier numérique mar. 8 déc. à 17h")


def test_the_sms_names_the_commune_by_its_name_never_by_its_insee_code():
    epn = replace(permanence(), lieu="EPN")
    text = sms_text(MessageKind.REMINDER, epn)
    assert "EPN, Mortagne-au-Perche. Pour annuler" in text
    assert "61293" not in text
    older = sms_text(MessageKind.REMINDER, replace(epn, commune_name=""))  # copied before names were sent
    assert ", EPN. Pour annuler" in older
    assert "61293" not in older


@pytest.mark.parametrize(
    ("attempts", "jitter", "retry_after", "seconds"),
    [(1, 0.0, None, 1), (1, 1.0, None, 2), (3, 0.0, None, 4), (3, 1.0, None, 8), (20, 1.0, None, 600),
     (1, 0.0, 30, 30), (5, 1.0, 1, 32)],
)  # fmt: skip
def test_backoff_doubles_up_to_its_cap_and_respects_retry_after(attempts, jitter, retry_after, seconds):
    assert Backoff().delay(attempts, jitter, retry_after) == dt.timedelta(seconds=seconds)


async def test_the_token_bucket_spaces_calls_at_its_rate():
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(4, burst=1, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        await bucket.take()
    assert now[0] == pytest.approx(1.0)  # the first at once, then one every 0.25 s
    assert slept == pytest.approx([0.25] * 4)
    now[0] += 10  # idle: the bucket refills to its burst only
    await bucket.take()
    await bucket.take()
    assert slept == pytest.approx([0.25] * 5)


def test_a_token_bucket_needs_a_positive_rate():
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(0)


def test_a_sender_holds_its_messages_longer_than_a_send_can_take():
    from services.notifications.service_layer.sender import SenderPolicy
    from services.notifications.settings import NotificationsSettings

    with pytest.raises(ValueError, match="hold must be longer"):
        SenderPolicy(hold=dt.timedelta(seconds=10), email_timeout=dt.timedelta(seconds=30))
    with pytest.raises(ValueError, match="SENDER_HOLD_S"):
        NotificationsSettings(sender_hold_s=20, smtp_timeout_s=30)
    assert NotificationsSettings(sender_hold_s=3, smtp_timeout_s=1, twilio_timeout_s=1).sender_policy.hold.seconds == 3


def test_reminder_leads_are_read_from_a_list_of_durations():
    from services.notifications.settings import NotificationsSettings

    leads = NotificationsSettings(reminder_leads="P1D, PT2H").sending_rules.reminder_leads
    assert leads == (dt.timedelta(days=1), dt.timedelta(hours=2))
    for wrong in ("bientôt", "P1D,-PT1H"):
        with pytest.raises(ValueError, match="REMINDER_LEADS"):
            NotificationsSettings(reminder_leads=wrong)
