"""The sender against the fake Twilio (real SDK, real socket) and a real database, its clock in the tests' hands."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from services.notifications.adapters.fake_twilio import Faults
from services.notifications.bootstrap import Notifications, sms_gateway
from services.notifications.domain import dispatch
from services.notifications.domain.messages import MessageKind, MessageStatus
from services.notifications.service_layer.sender import Sender
from tests.integration.bookings_stack import ADMIN, api, running_notifications
from tests.integration.helpers import eventually
from tests.integration.sender_stack import (
    OUR_NUMBER,
    PHONE,
    AnswerLost,
    booked,
    clock,
    fake_twilio,
    many_booked,
    messages,
    notifications,
    outbound,
    sender,
    smtp_sink,
    twilio_settings,
)

__all__ = ["api", "clock", "fake_twilio", "notifications", "smtp_sink"]

PARIS = ZoneInfo("Europe/Paris")


async def test_a_due_message_is_accepted_once_by_twilio_and_recorded_with_its_sid(
    api, nc, notifications, fake_twilio, clock
):
    _, fake = fake_twilio
    booking_id, _ = await booked(api, nc)
    confirmation = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    clock.now = confirmation.due_at - dt.timedelta(seconds=1)
    assert await sender(notifications, clock).send_due() == 0  # not due yet

    clock.now = confirmation.due_at
    assert await sender(notifications, clock).send_due() == 1
    assert await sender(notifications, clock).send_due() == 0

    [sms] = outbound(fake)
    log = await messages(notifications, booking_id)
    assert (sms.to, sms.from_) == (PHONE, OUR_NUMBER)
    assert sms.body.startswith("Inscription confirmée : permanence numérique")
    assert log[MessageKind.CONFIRMATION].status is MessageStatus.SENT
    assert log[MessageKind.CONFIRMATION].provider_sid == sms.sid
    assert log[MessageKind.CONFIRMATION].in_doubt_since is None
    assert log[MessageKind.REMINDER].status is MessageStatus.PENDING

    clock.now = log[MessageKind.REMINDER].due_at
    assert await sender(notifications, clock).send_due() == 1
    reminder = outbound(fake)[-1]
    assert reminder.body.startswith("Rappel : permanence numérique")
    assert len(outbound(fake)) == 2
    assert (await messages(notifications, booking_id))[MessageKind.REMINDER].provider_sid == reminder.sid


async def test_the_sms_says_the_local_time_of_the_territory(api, nc, notifications, fake_twilio, clock):
    _, fake = fake_twilio
    booking_id, permanence = await booked(api, nc)
    clock.now = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION].due_at
    await sender(notifications, clock).send_due()
    local = permanence.starts_at.astimezone(PARIS)
    hour = f"{local.hour}h" if local.minute == 0 else f"{local.hour}h{local.minute:02d}"
    assert f"à {hour}" in outbound(fake)[0].body


def quiet_evening_after(moment: dt.datetime) -> dt.datetime:
    """22:00 in Paris, the first after ``moment`` (inside the default quiet hours, 20:00–09:00)."""
    local = moment.astimezone(PARIS)
    evening = local.replace(hour=22, minute=0, second=0, microsecond=0)
    return (evening if evening > local else evening + dt.timedelta(days=1)).astimezone(dt.UTC)


async def test_nothing_is_sent_in_quiet_hours_it_waits_for_their_end(api, nc, notifications, fake_twilio, clock):
    _, fake = fake_twilio
    booking_id, _ = await booked(api, nc)
    clock.now = quiet_evening_after((await messages(notifications, booking_id))[MessageKind.CONFIRMATION].due_at)

    assert await sender(notifications, clock).send_due() == 1
    confirmation = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    assert outbound(fake) == []
    assert confirmation.status is MessageStatus.PENDING
    assert confirmation.attempts == 0  # waiting for the morning is no attempt
    assert confirmation.next_attempt_at is not None
    morning = confirmation.next_attempt_at.astimezone(PARIS)
    assert (morning.hour, morning.minute) == (9, 0)
    assert morning - clock.now.astimezone(PARIS) == dt.timedelta(hours=11)

    clock.now = confirmation.next_attempt_at - dt.timedelta(seconds=1)
    assert await sender(notifications, clock).send_due() == 0
    clock.now = confirmation.next_attempt_at
    assert await sender(notifications, clock).send_due() == 1
    assert len(outbound(fake)) == 1


async def test_messages_past_their_permanence_or_about_a_cancelled_booking_are_skipped(
    api, nc, notifications, fake_twilio, clock
):
    _, fake = fake_twilio
    late_id, permanence = await booked(api, nc, starts_in=dt.timedelta(hours=30))
    cancelled_id, _ = await booked(api, nc, phone="06 98 76 54 32")
    assert (await api.delete(f"/bookings/{cancelled_id}", headers=ADMIN)).status_code == 200

    clock.now = permanence.starts_at + dt.timedelta(minutes=1)
    await sender(notifications, clock).send_due()

    assert outbound(fake) == []
    late = await messages(notifications, late_id)
    assert {m.status for m in late.values()} == {MessageStatus.SKIPPED}
    assert late[MessageKind.CONFIRMATION].last_error == dispatch.TOO_LATE
    assert (await messages(notifications, cancelled_id))[MessageKind.CONFIRMATION].last_error == (
        dispatch.BOOKING_CANCELLED
    )


async def test_a_transient_error_is_retried_after_a_backoff(api, nc, notifications, fake_twilio, clock):
    _, fake = fake_twilio
    booking_id, _ = await booked(api, nc)
    clock.now = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION].due_at
    fake.state.set_faults(Faults(rate_503=1.0))

    await sender(notifications, clock).send_due()
    confirmation = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    assert (confirmation.status, confirmation.attempts) == (MessageStatus.PENDING, 1)
    assert confirmation.last_error == "Twilio 503 (20503)"
    assert confirmation.in_doubt_since is None  # a 503 is no acceptance
    assert confirmation.next_attempt_at == clock.now + dt.timedelta(seconds=1)  # 2 s, jitter 0: the lower half

    fake.state.set_faults(Faults())
    assert await sender(notifications, clock).send_due() == 0  # not before its backoff
    clock.now += dt.timedelta(seconds=1)
    assert await sender(notifications, clock).send_due() == 1
    assert len(outbound(fake)) == 1
    confirmation = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    assert (confirmation.status, confirmation.attempts, confirmation.last_error) == (MessageStatus.SENT, 2, None)


async def test_a_429s_retry_after_is_the_least_wait_before_the_next_attempt(api, nc, notifications, fake_twilio, clock):
    _, fake = fake_twilio
    booking_id, _ = await booked(api, nc)
    clock.now = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION].due_at
    fake.state.set_faults(Faults(rate_429=1.0, retry_after_s=30))

    await sender(notifications, clock).send_due()
    confirmation = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    assert confirmation.last_error == "Twilio 429 (20429)"
    assert confirmation.next_attempt_at == clock.now + dt.timedelta(seconds=30)  # its backoff alone: 1 s


async def test_a_5xx_leaves_the_message_in_doubt_and_the_next_attempt_asks_twilio_first(
    api, nc, notifications, fake_twilio, clock
):
    _, fake = fake_twilio
    booking_id, _ = await booked(api, nc)
    clock.now = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION].due_at
    fake.state.set_faults(Faults(rate_500=1.0))
    await sender(notifications, clock).send_due()
    confirmation = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    assert confirmation.in_doubt_since == clock.now

    fake.state.set_faults(Faults())
    clock.now += dt.timedelta(minutes=1)
    await sender(notifications, clock).send_due()
    assert len(outbound(fake)) == 1  # Twilio had not accepted it: asked, then sent once
    assert (await messages(notifications, booking_id))[MessageKind.CONFIRMATION].status is MessageStatus.SENT


async def test_an_sms_accepted_but_whose_answer_was_lost_is_found_at_twilio_not_sent_again(
    api, nc, notifications, fake_twilio, clock
):
    _, fake = fake_twilio
    booking_id, _ = await booked(api, nc)
    clock.now = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION].due_at
    real = sms_gateway(notifications.runtime.settings)
    await sender(notifications, clock, AnswerLost(real)).send_due()
    assert (await messages(notifications, booking_id))[MessageKind.CONFIRMATION].status is MessageStatus.PENDING

    clock.now += dt.timedelta(minutes=1)
    await sender(notifications, clock, real).send_due()

    [sms] = outbound(fake)
    confirmation = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    assert (confirmation.status, confirmation.provider_sid) == (MessageStatus.SENT, sms.sid)

    [sms] = outbound(fake)
    confirmation = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    assert (confirmation.status, confirmation.provider_sid) == (MessageStatus.SENT, sms.sid)


async def test_a_sender_that_died_after_sending_is_taken_over_once_its_hold_is_over(
    api, nc, notifications, fake_twilio, clock
):
    _, fake = fake_twilio
    booking_id, permanence = await booked(api, nc)
    confirmation = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    clock.now = confirmation.due_at
    hold = dt.timedelta(seconds=60)
    async with notifications.uow() as uow:  # the dead sender: claimed, sent, killed before recording
        [claimed] = await uow.messages.claim_due(clock.now, hold, limit=10, channels=("sms",))
        await uow.commit()
    await sms_gateway(notifications.runtime.settings).send(
        PHONE, dispatch.sms_text(claimed.kind, await _permanence(notifications, permanence.permanence_id))
    )

    clock.now += dt.timedelta(seconds=59)
    assert await sender(notifications, clock).send_due() == 0  # still held by the dead sender
    clock.now += dt.timedelta(seconds=1)
    assert await sender(notifications, clock).send_due() == 1

    [sms] = outbound(fake)
    confirmation = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    assert (confirmation.status, confirmation.provider_sid, confirmation.attempts) == (MessageStatus.SENT, sms.sid, 2)


async def _permanence(service: Notifications, permanence_id: uuid.UUID):
    async with service.uow() as uow:
        found = await uow.permanences.get(permanence_id)
    assert found is not None
    return found


async def test_a_permanent_error_is_recorded_failed_and_never_retried(api, nc, notifications, fake_twilio, clock):
    _, fake = fake_twilio
    booking_id, _ = await booked(api, nc)
    fake.state.unsubscribed.add(PHONE)  # opted out at Twilio: 21610
    clock.now = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION].due_at

    await sender(notifications, clock).send_due()
    clock.now += dt.timedelta(hours=1)
    await sender(notifications, clock).send_due()

    confirmation = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    assert (confirmation.status, confirmation.attempts) == (MessageStatus.FAILED, 1)
    assert confirmation.last_error == "Twilio 400 (21610)"
    assert outbound(fake) == []


async def test_a_sender_gives_up_after_its_last_attempt(api, nc, notifications, fake_twilio, clock):
    _, fake = fake_twilio
    booking_id, _ = await booked(api, nc)
    fake.state.set_faults(Faults(rate_429=1.0, retry_after_s=0))
    clock.now = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION].due_at
    for _ in range(3):
        await sender(notifications, clock, max_attempts=3).send_due()
        clock.now += dt.timedelta(minutes=1)

    confirmation = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    assert (confirmation.status, confirmation.attempts) == (MessageStatus.FAILED, 3)
    assert confirmation.last_error == "gave up after 3 attempts: Twilio 429 (20429)"


async def test_concurrent_senders_send_each_message_once(api, nc, notifications, fake_twilio, clock):
    _, fake = fake_twilio
    await many_booked(api, nc, 30)
    clock.now += dt.timedelta(hours=14)  # past every confirmation's due time
    senders = [sender(notifications, clock, batch=7, concurrency=3) for _ in range(3)]

    async def drain(one: Sender) -> None:
        while await one.send_due():
            pass

    await asyncio.gather(*(drain(one) for one in senders))
    recipients = [m.to for m in outbound(fake)]
    assert len(recipients) == len(set(recipients)) == 30


async def test_twilio_timing_out_accepted_or_not_still_gets_each_message_once(
    api, nc, notifications, fake_twilio, clock
):
    """Creates held past the SDK's timeout, half of them stored by the fake meanwhile: each attempt after one asks
    the fake first, records the one it finds, and sends only what it did not take."""
    _, fake = fake_twilio
    booking_ids = await many_booked(api, nc, 30)
    fake.state.set_faults(Faults(rate_timeout=0.3, hold_s=1.0, timeout_accepted=0.5, seed=4))
    settings = notifications.runtime.settings.model_copy(update={"twilio_timeout_s": 0.3})
    one = sender(notifications, clock, sms_gateway(settings), sms_timeout=dt.timedelta(seconds=0.3))
    clock.now += dt.timedelta(hours=14)  # past every confirmation's due time
    for _ in range(40):
        while await one.send_due():
            pass
        confirmations = [(await messages(notifications, b))[MessageKind.CONFIRMATION] for b in booking_ids]
        waiting = [m.next_attempt_at for m in confirmations if m.status is MessageStatus.PENDING and m.next_attempt_at]
        if not waiting:
            break
        clock.now = max(clock.now, min(waiting))

    assert fake.state.drawn["timeout_accepted"] > 0
    assert fake.state.drawn["timeout_not_accepted"] > 0
    recipients = [m.to for m in outbound(fake)]
    assert len(recipients) == len(set(recipients)) == 30
    assert {m.status for m in confirmations} == {MessageStatus.SENT}
    assert {m.provider_sid for m in confirmations} == {m.sid for m in outbound(fake)}


async def test_the_service_sends_a_confirmation_on_its_own(database, nats_url, nc, tmp_path, fake_twilio):
    url, fake = fake_twilio
    local = dt.datetime.now(PARIS)  # quiet hours somewhere else in the day than now
    quiet = {"quiet_start": (local + dt.timedelta(hours=6)).time(), "quiet_end": (local + dt.timedelta(hours=7)).time()}
    async with running_notifications(
        database, nats_url, tmp_path, sender_enabled=True, **quiet, **twilio_settings(url)
    ) as service:
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as client:
            await booked(client, nc)
            await eventually(lambda: _returns(outbound(fake)))
    assert outbound(fake)[0].body.startswith("Inscription confirmée")


async def _returns(value: Any) -> Any:
    return value
