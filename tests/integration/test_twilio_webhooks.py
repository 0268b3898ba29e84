"""Twilio's webhooks into notifications, on SQLite and Postgres: requests signed exactly as Twilio signs them
(``RequestValidator.compute_signature`` over the public URL and the form), STOP/START and delivery statuses."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import pytest
from sqlalchemy import select, update

from services.notifications.adapters.orm import early_delivery_statuses, messages, usagers
from services.notifications.domain.sms import NOTHING_TO_CANCEL_TEXT
from tests.integration.bookings_stack import ADMIN, planned, published
from tests.integration.webhooks_stack import (
    E164,
    INBOUND,
    PHONE,
    PUBLIC,
    STATUS,
    api,
    booked_usager,
    confirmation_of,
    delivery_of,
    notifications,
    reply,
    signed,
    state,
    twilio,
)

__all__ = ["api", "notifications"]  # fixtures


@pytest.mark.parametrize("body", ["STOP", "Arrêt ", " stop.", "arret!", "Unsubscribe"])
async def test_a_stop_opts_the_usager_out_and_skips_their_pending_sms(api, nc, notifications, body, caplog):
    caplog.set_level(logging.DEBUG)
    usager, booking = await booked_usager(api, nc)
    assert await state(notifications, usager["id"]) == (False, ["pending", "pending"])

    answer = await twilio(api, INBOUND, reply(body))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/xml")
    assert answer.text.endswith("<Response/>")
    assert await state(notifications, usager["id"]) == (True, ["skipped", "skipped"])
    log = (await api.get(f"/bookings/{booking['id']}/messages", headers=ADMIN)).json()
    assert all("STOP" in m["last_error"] for m in log)
    for clear in (E164, PHONE, "612345678"):
        assert clear not in caplog.text
        assert clear not in answer.text


@pytest.mark.parametrize("body", ["ANNULER", "annuler.", " Annulé ", "annulation"])
async def test_annuler_cancels_the_next_booking_and_answers_which(api, nc, notifications, body, caplog):
    caplog.set_level(logging.DEBUG)
    usager, later = await booked_usager(api, nc)
    sooner = planned(starts_in=dt.timedelta(hours=47))  # its reminder is due after its confirmation, at any hour
    await published(nc, api, sooner)
    booking = await api.post("/bookings", json={"usager_id": usager["id"], "permanence_id": str(sooner.permanence_id)},
                             headers=ADMIN)  # fmt: skip
    assert booking.status_code == 201, booking.text

    answer = await twilio(api, INBOUND, reply(body))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/xml")
    assert "<Message>Annulation enregistrée : votre permanence numérique du " in answer.text
    assert "EPN de Mortagne-au-Perche. Merci de nous avoir prévenus.</Message>" in answer.text
    cancelled = (await api.get(f"/bookings/{booking.json()['id']}/messages", headers=ADMIN)).json()
    assert [(m["kind"], m["status"]) for m in cancelled] == [("confirmation", "pending"), ("reminder", "skipped")]
    seats = (await api.get(f"/permanences/{sooner.permanence_id}/bookings", headers=ADMIN)).json()
    assert [(b["status"], b["cancel_reason"]) for b in seats["items"]] == [
        ("cancelled", "cancelled by the usager, by SMS")
    ]
    kept = (await api.get(f"/permanences/{later['permanence_id']}/bookings", headers=ADMIN)).json()
    assert [b["status"] for b in kept["items"]] == ["booked"]  # only the next one is cancelled
    assert PHONE not in caplog.text
    assert E164 not in caplog.text

    again = await twilio(api, INBOUND, reply(body))  # the later one, then nothing left
    assert "Annulation enregistrée" in again.text
    nothing = await twilio(api, INBOUND, reply(body))
    assert nothing.text.endswith(f"<Response><Message>{NOTHING_TO_CANCEL_TEXT}</Message></Response>")


async def test_annuler_from_an_unknown_number_changes_nothing_and_says_so(api, nc, notifications):
    await booked_usager(api, nc)
    answer = await twilio(api, INBOUND, reply("ANNULER", sender="+33698765432"))
    assert answer.text.endswith(f"<Message>{NOTHING_TO_CANCEL_TEXT}</Message></Response>")


async def test_start_opts_the_usager_back_in(api, nc, notifications):
    usager, _ = await booked_usager(api, nc)
    assert (await twilio(api, INBOUND, reply("STOP"))).status_code == 200
    assert (await twilio(api, INBOUND, reply("start"))).status_code == 200
    opted_out, _ = await state(notifications, usager["id"])
    assert not opted_out
    async with notifications.runtime.sessions() as session:
        opted_out_at = await session.scalar(
            select(usagers.c.opted_out_at).where(usagers.c.id == uuid.UUID(usager["id"]))
        )
    assert opted_out_at is None


@pytest.mark.parametrize("body", ["Merci", "stop les rappels svp", "", "OUI"])
async def test_other_replies_change_nothing(api, nc, notifications, body):
    usager, _ = await booked_usager(api, nc)
    answer = await twilio(api, INBOUND, reply(body))
    assert answer.status_code == 200
    assert await state(notifications, usager["id"]) == (False, ["pending", "pending"])


async def test_a_stop_from_a_number_no_usager_has_is_answered_and_changes_nothing(api, nc, notifications):
    usager, _ = await booked_usager(api, nc)
    assert (await twilio(api, INBOUND, reply("STOP", sender="+33698765432"))).status_code == 200
    assert (await twilio(api, INBOUND, reply("STOP", sender="not a number"))).status_code == 200
    assert await state(notifications, usager["id"]) == (False, ["pending", "pending"])


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"X-Twilio-Signature": ""}, id="empty"),
        pytest.param({"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA=="}, id="forged"),
        pytest.param(signed(INBOUND, reply("STOP"), token="another-account-token"), id="other-token"),
        pytest.param(signed(INBOUND, reply("STOP"), url=PUBLIC + STATUS), id="other-url"),
        pytest.param(signed(INBOUND, reply("STOP"), url="http://notifications:8003" + INBOUND), id="request-host"),
    ],
)
async def test_an_unsigned_or_badly_signed_request_is_403_and_changes_nothing(api, nc, notifications, headers):
    usager, _ = await booked_usager(api, nc)
    params = reply("STOP")
    answer = await api.post(INBOUND, data=params, headers=headers)
    assert answer.status_code == 403
    assert E164 not in answer.text
    assert await state(notifications, usager["id"]) == (False, ["pending", "pending"])


async def test_a_signature_over_other_parameters_is_403(api, nc, notifications):
    usager, _ = await booked_usager(api, nc)
    headers = signed(INBOUND, reply("Merci"))
    assert (await api.post(INBOUND, data=reply("STOP"), headers=headers)).status_code == 403
    assert await state(notifications, usager["id"]) == (False, ["pending", "pending"])


async def test_a_status_callback_records_the_delivery_on_the_message_with_that_sid(api, nc, notifications, caplog):
    caplog.set_level(logging.DEBUG)
    _, booking = await booked_usager(api, nc)
    sid = "SM" + uuid.uuid4().hex
    async with notifications.runtime.sessions() as session:
        confirmation = await session.scalar(
            select(messages.c.id).where(
                messages.c.booking_id == uuid.UUID(booking["id"]), messages.c.kind == "confirmation"
            )
        )
        await session.execute(update(messages).where(messages.c.id == confirmation).values(provider_sid=sid))
        await session.commit()

    params = {
        "MessageSid": sid,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "To": E164,
        "From": "+33700000000",
    }
    answer = await twilio(api, STATUS, params)
    assert answer.status_code == 200, answer.text
    log = {m["kind"]: m for m in (await api.get(f"/bookings/{booking['id']}/messages", headers=ADMIN)).json()}
    assert (log["confirmation"]["delivery_status"], log["confirmation"]["delivery_error_code"]) == (
        "undelivered",
        "30003",
    )
    assert log["reminder"]["delivery_status"] is None

    delivered = {"MessageSid": sid, "MessageStatus": "delivered", "To": E164}
    assert (await twilio(api, STATUS, delivered)).status_code == 200
    log = {m["kind"]: m for m in (await api.get(f"/bookings/{booking['id']}/messages", headers=ADMIN)).json()}
    assert (log["confirmation"]["delivery_status"], log["confirmation"]["delivery_error_code"]) == ("delivered", None)
    assert E164 not in caplog.text


async def test_a_status_never_replaces_a_later_one(api, nc, notifications):
    _, booking = await booked_usager(api, nc)
    sid = "SM" + uuid.uuid4().hex
    async with notifications.uow() as uow:
        await uow.messages.record_sent(await confirmation_of(notifications, booking), dt.datetime.now(dt.UTC), sid)
        await uow.commit()
    for status, expected in [
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("sending", "delivered"),
        ("queued", "delivered"),  # late, not replayed: "sent" again would be (test_twilio_replays)
    ]:
        assert (await twilio(api, STATUS, {"MessageSid": sid, "MessageStatus": status})).status_code == 200
        assert await delivery_of(api, booking) == expected


async def test_a_status_that_overtakes_the_senders_record_is_applied_when_it_is_recorded(api, nc, notifications):
    _, booking = await booked_usager(api, nc)
    sid = "SM" + uuid.uuid4().hex
    for status in ("sent", "delivered", "sending"):  # the send's answer is not recorded yet
        assert (await twilio(api, STATUS, {"MessageSid": sid, "MessageStatus": status})).status_code == 200
    assert await delivery_of(api, booking) is None

    async with notifications.uow() as uow:
        await uow.messages.record_sent(await confirmation_of(notifications, booking), dt.datetime.now(dt.UTC), sid)
        await uow.commit()
    assert await delivery_of(api, booking) == "delivered"
    async with notifications.runtime.sessions() as session:
        assert (await session.execute(select(early_delivery_statuses))).first() is None


async def test_a_status_for_an_unknown_sid_is_200_and_logged_without_the_number(api, caplog):
    caplog.set_level(logging.DEBUG)
    sid = "SM" + uuid.uuid4().hex
    answer = await twilio(api, STATUS, {"MessageSid": sid, "MessageStatus": "delivered", "To": E164})
    assert answer.status_code == 200
    assert sid in caplog.text
    assert E164 not in caplog.text
    assert E164 not in answer.text


async def test_a_badly_signed_status_callback_is_403_and_changes_nothing(api, nc, notifications):
    _, booking = await booked_usager(api, nc)
    sid = "SM" + uuid.uuid4().hex
    async with notifications.runtime.sessions() as session:
        await session.execute(
            update(messages).where(messages.c.booking_id == uuid.UUID(booking["id"])).values(provider_sid=None)
        )
        confirmation = await session.scalar(
            select(messages.c.id).where(
                messages.c.booking_id == uuid.UUID(booking["id"]), messages.c.kind == "confirmation"
            )
        )
        await session.execute(update(messages).where(messages.c.id == confirmation).values(provider_sid=sid))
        await session.commit()
    params = {"MessageSid": sid, "MessageStatus": "delivered"}
    for headers in ({}, signed(STATUS, params, url=PUBLIC + INBOUND), signed(STATUS, params, token="another-token")):
        assert (await api.post(STATUS, data=params, headers=headers)).status_code == 403
    log = (await api.get(f"/bookings/{booking['id']}/messages", headers=ADMIN)).json()
    assert [m["delivery_status"] for m in log] == [None, None]
