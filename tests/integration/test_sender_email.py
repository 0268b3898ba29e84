"""The sender's e-mails through the SMTP sink, and what reaches the logs while it sends."""

from __future__ import annotations

import datetime as dt
import logging

from services.notifications.bootstrap import sms_gateway
from services.notifications.domain.messages import MessageKind, MessageStatus
from tests.integration.bookings_stack import api
from tests.integration.sender_stack import (
    PHONE,
    AnswerLost,
    booked,
    clock,
    fake_twilio,
    messages,
    notifications,
    sender,
    smtp_sink,
)

__all__ = ["api", "clock", "fake_twilio", "notifications", "smtp_sink"]


async def test_an_usager_who_chose_email_gets_their_messages_by_email(api, nc, notifications, smtp_sink, clock):
    booking_id, _ = await booked(api, nc, phone=None, email="yvette.morin@example.fr", preferred_channel="email")
    confirmation = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    clock.now = confirmation.due_at
    await sender(notifications, clock).send_due()

    [mail] = smtp_sink.received()
    assert mail["To"] == "yvette.morin@example.fr"
    assert mail["Message-ID"] == f"<{confirmation.id}@tournees.localhost>"
    assert mail["Subject"].startswith("Inscription confirmée : permanence numérique le ")
    assert "Bonjour Yvette Morin," in mail.get_content()
    assert (await messages(notifications, booking_id))[MessageKind.CONFIRMATION].status is MessageStatus.SENT


async def test_an_email_whose_answer_was_lost_is_sent_again_with_the_same_message_id(
    api, nc, notifications, smtp_sink, clock
):
    booking_id, _ = await booked(api, nc, phone=None, email="yvette.morin@example.fr", preferred_channel="email")
    clock.now = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION].due_at
    smtp_sink.faults.data_delay_s = 2.0  # stored, but answered after the client's 1 s timeout
    await sender(notifications, clock).send_due()
    in_doubt = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    assert (in_doubt.status, in_doubt.in_doubt_since) == (MessageStatus.PENDING, clock.now)

    smtp_sink.faults.data_delay_s = 0.0
    clock.now += dt.timedelta(minutes=1)
    await sender(notifications, clock).send_due()
    first, second = smtp_sink.received()
    assert first["Message-ID"] == second["Message-ID"] == f"<{in_doubt.id}@tournees.localhost>"
    assert (await messages(notifications, booking_id))[MessageKind.CONFIRMATION].status is MessageStatus.SENT


async def test_a_refused_address_is_failed_not_retried(api, nc, notifications, smtp_sink, clock):
    booking_id, _ = await booked(api, nc, phone=None, email="parti@example.fr", preferred_channel="email")
    smtp_sink.faults.rcpt_replies["parti@example.fr"] = "550 5.1.1 Mailbox unavailable"
    clock.now = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION].due_at
    await sender(notifications, clock).send_due()
    confirmation = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    assert (confirmation.status, confirmation.last_error) == (MessageStatus.FAILED, "SMTP 550 recipient refused")
    assert smtp_sink.received() == []


async def test_no_phone_number_nor_address_reaches_the_logs_even_at_debug(
    api, nc, notifications, fake_twilio, smtp_sink, clock, caplog
):
    caplog.set_level(logging.DEBUG)
    sms_id, _ = await booked(api, nc)
    mail_id, _ = await booked(api, nc, phone=None, email="yvette.morin@example.fr", preferred_channel="email")
    clock.now = (await messages(notifications, sms_id))[MessageKind.REMINDER].due_at
    real = sms_gateway(notifications.runtime.settings)
    await sender(notifications, clock, AnswerLost(real)).send_due()  # the SMS in doubt: Twilio is asked later
    clock.now += dt.timedelta(minutes=1)
    await sender(notifications, clock).send_due()

    assert {m.status for m in (await messages(notifications, sms_id)).values()} == {MessageStatus.SENT}
    assert {m.status for m in (await messages(notifications, mail_id)).values()} == {MessageStatus.SENT}
    assert len(smtp_sink.received()) == 2
    theirs = ("uvicorn.access", "mail.log")  # the fake Twilio's server and the SMTP sink, in this process
    ours = "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records if r.name not in theirs)
    for personal in (PHONE, "0612345678", "06 12 34 56 78", "612345678", "yvette.morin@example.fr"):
        assert personal not in ours, personal
