"""Twilio's webhooks replayed (captured, validly signed, POSTed again): 403 "replayed" and nothing changes, on SQLite
and Postgres; a request that failed before its commit left no record, so Twilio's retry of it is applied."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from services.notifications.adapters import orm
from services.notifications.adapters.fake_twilio import Faults
from services.notifications.adapters.fake_twilio.state import FakeTwilioState
from services.notifications.adapters.fake_twilio.webhooks import incoming_params, post_signed
from services.notifications.bootstrap import Notifications
from tests.integration.bookings_stack import ADMIN, planned, published
from tests.integration.helpers import eventually
from tests.integration.webhooks_stack import (
    E164,
    INBOUND,
    PHONE,
    PUBLIC,
    STATUS,
    TOKEN,
    api,
    booked_usager,
    confirmation_of,
    delivery_of,
    notifications,
    reply,
    signed,
    state,
)

__all__ = ["api", "notifications"]  # fixtures

IDEMPOTENCY = "I-Twilio-Idempotency-Token"
TABLES = ("bookings", "permanences", "usagers", "messages", "early_delivery_statuses", "inbound_sms",
          "status_callbacks")  # fmt: skip


async def everything(notifications: Notifications) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of what a webhook can change (the outbox aside: the relay marks its rows as it publishes them)."""
    async with notifications.runtime.sessions() as session:
        return {
            name: sorted(tuple(row) for row in await session.execute(select(orm.metadata.tables[name])))
            for name in TABLES
        }


def headers(path: str, params: dict[str, str], token: str | None) -> dict[str, str]:
    return {**signed(path, params), **({IDEMPOTENCY: token} if token else {})}


AGAIN = {
    "twilio-retry": "token-1",  # the same token: Twilio retrying it (or a replay copying the header)
    "other-token": "token-2",
    "no-token": None,
}


async def booked_twice(api: httpx.AsyncClient, nc) -> tuple[dict[str, Any], str, str]:
    """An usager booked into two permanences: the ids of the sooner booking and of the later one."""
    usager, later = await booked_usager(api, nc)
    sooner = planned(starts_in=dt.timedelta(hours=47))
    await published(nc, api, sooner)
    body = {"usager_id": usager["id"], "permanence_id": str(sooner.permanence_id)}
    booking = await api.post("/bookings", json=body, headers=ADMIN)
    assert booking.status_code == 201, booking.text
    return usager, booking.json()["id"], later["id"]


async def booking_status(notifications: Notifications, booking_id: str) -> str | None:
    async with notifications.runtime.sessions() as session:
        bookings = orm.bookings
        return await session.scalar(select(bookings.c.status).where(bookings.c.id == uuid.UUID(booking_id)))


@pytest.mark.parametrize("again", AGAIN.values(), ids=AGAIN.keys())
async def test_a_replayed_annuler_is_403_and_the_next_booking_stays(api, nc, notifications, again, caplog):
    caplog.set_level(logging.DEBUG)
    _, sooner, later = await booked_twice(api, nc)
    params = reply("ANNULER")
    first = await api.post(INBOUND, data=params, headers=headers(INBOUND, params, "token-1"))
    assert "Annulation enregistrée" in first.text
    assert (await booking_status(notifications, sooner), await booking_status(notifications, later)) == (
        "cancelled",
        "booked",
    )
    before = await everything(notifications)

    replayed = await api.post(INBOUND, data=params, headers=headers(INBOUND, params, again))
    assert (replayed.status_code, replayed.json()) == (403, {"detail": "replayed"})
    assert await everything(notifications) == before
    assert await booking_status(notifications, later) == "booked"
    refusal = next(r for r in caplog.records if params["MessageSid"] in r.getMessage() and "refused" in r.getMessage())
    assert refusal.levelno == (logging.INFO if again == "token-1" else logging.WARNING)
    for clear in (E164, PHONE, "612345678"):
        assert clear not in caplog.text


@pytest.mark.parametrize(
    ("replies", "replayed", "opted_out"),
    [
        pytest.param(["STOP", "START"], 0, False, id="stop-after-start"),
        pytest.param(["STOP", "START", "STOP"], 1, True, id="start-after-stop"),
    ],
)
async def test_a_replayed_stop_or_start_is_403_and_the_opt_out_stays(
    api, nc, notifications, replies, replayed, opted_out
):
    usager, _ = await booked_usager(api, nc)
    sent = [reply(body) for body in replies]
    for params in sent:
        assert (await api.post(INBOUND, data=params, headers=headers(INBOUND, params, "token"))).status_code == 200
    before = await everything(notifications)
    assert (await state(notifications, usager["id"]))[0] is opted_out

    again = sent[replayed]
    assert (await api.post(INBOUND, data=again, headers=headers(INBOUND, again, "token"))).status_code == 403
    assert await everything(notifications) == before
    assert len(before["inbound_sms"]) == len(replies)


async def test_a_replayed_status_callback_is_403_and_a_late_one_is_not(api, nc, notifications):
    _, booking = await booked_usager(api, nc)
    sid = "SM" + uuid.uuid4().hex
    async with notifications.uow() as uow:
        await uow.messages.record_sent(await confirmation_of(notifications, booking), dt.datetime.now(dt.UTC), sid)
        await uow.commit()

    async def callback(status: str, **more: str) -> int:
        params = {"MessageSid": sid, "MessageStatus": status, "To": E164, **more}
        return (await api.post(STATUS, data=params, headers=headers(STATUS, params, None))).status_code

    assert await callback("delivered") == 200
    assert await callback("undelivered", ErrorCode="30003") == 200  # the carrier's final word
    assert await delivery_of(api, booking) == "undelivered"
    assert await callback("sent") == 200  # late (out of order), not replayed: it changes nothing
    before = await everything(notifications)
    for status in ("delivered", "sent", "undelivered"):
        assert await callback(status) == 403
    assert await everything(notifications) == before
    assert await delivery_of(api, booking) == "undelivered"


async def test_a_replayed_status_for_a_sid_no_message_has_yet_is_403(api, notifications):
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "MessageStatus": "sent"}
    assert (await api.post(STATUS, data=params, headers=headers(STATUS, params, None))).status_code == 200
    before = await everything(notifications)
    assert len(before["early_delivery_statuses"]) == 1
    assert (await api.post(STATUS, data=params, headers=headers(STATUS, params, None))).status_code == 403
    assert await everything(notifications) == before


async def test_the_same_reply_posted_twice_at_once_is_applied_once(api, nc, notifications):
    _, sooner, later = await booked_twice(api, nc)
    params = reply("ANNULER")
    answers = await asyncio.gather(
        *(api.post(INBOUND, data=params, headers=headers(INBOUND, params, "token")) for _ in range(2))
    )
    assert sorted(answer.status_code for answer in answers) == [200, 403]
    assert (await booking_status(notifications, sooner), await booking_status(notifications, later)) == (
        "cancelled",
        "booked",
    )


@pytest.fixture
async def lenient(notifications) -> AsyncIterator[httpx.AsyncClient]:
    """A client that gets the 500 of a request that failed, as Twilio does, instead of the app's exception."""
    transport = httpx.ASGITransport(app=notifications.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications:8003") as client:
        yield client


async def refuse_writes(notifications: Notifications, table: str, *, refused: bool = True) -> None:
    """The database refuses every UPDATE of ``table`` (a trigger raising) from now, or no more."""
    async with notifications.runtime.sessions() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        if not refused:
            await session.execute(text(f"DROP TRIGGER refuse_writes{f' ON {table}' if postgres else ''}"))
        elif postgres:
            await session.execute(
                text("CREATE OR REPLACE FUNCTION refuse_writes() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$ BEGIN RAISE EXCEPTION 'the database refuses writes'; END $$")
            )  # fmt: skip
            await session.execute(
                text(
                    f"CREATE TRIGGER refuse_writes BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_writes()"
                )
            )
        else:
            await session.execute(
                text(f"CREATE TRIGGER refuse_writes BEFORE UPDATE ON {table} "
                     "BEGIN SELECT RAISE(ABORT, 'the database refuses writes'); END")
            )  # fmt: skip
        await session.commit()


@pytest.mark.parametrize(("body", "table"), [("ANNULER", "bookings"), ("STOP", "usagers")])
async def test_a_reply_that_failed_before_its_commit_is_applied_when_posted_again(
    lenient, api, nc, notifications, body, table, caplog
):
    caplog.set_level(logging.DEBUG)
    await booked_twice(api, nc)
    params = reply(body)
    await refuse_writes(notifications, table)
    before = await everything(notifications)
    failed = await lenient.post(INBOUND, data=params, headers=headers(INBOUND, params, "token"))
    assert failed.status_code == 500
    assert await everything(notifications) == before  # nothing applied, nor recorded

    await refuse_writes(notifications, table, refused=False)
    retried = await lenient.post(INBOUND, data=params, headers=headers(INBOUND, params, "token"))
    assert retried.status_code == 200, retried.text
    after = await everything(notifications)
    assert after[table] != before[table]
    assert [row[0] for row in after["inbound_sms"]] == [params["MessageSid"]]
    assert (await lenient.post(INBOUND, data=params, headers=headers(INBOUND, params, "token"))).status_code == 403
    assert E164 not in caplog.text


async def test_a_status_callback_that_failed_before_its_commit_is_applied_when_posted_again(
    lenient, api, nc, notifications
):
    _, booking = await booked_usager(api, nc)
    sid = "SM" + uuid.uuid4().hex
    async with notifications.uow() as uow:
        await uow.messages.record_sent(await confirmation_of(notifications, booking), dt.datetime.now(dt.UTC), sid)
        await uow.commit()
    params = {"MessageSid": sid, "MessageStatus": "delivered"}
    await refuse_writes(notifications, "messages")
    assert (await lenient.post(STATUS, data=params, headers=headers(STATUS, params, "token"))).status_code == 500
    await refuse_writes(notifications, "messages", refused=False)
    assert await delivery_of(api, booking) is None
    assert (await lenient.post(STATUS, data=params, headers=headers(STATUS, params, "token"))).status_code == 200
    assert await delivery_of(api, booking) == "delivered"
    assert (await lenient.post(STATUS, data=params, headers=headers(STATUS, params, "token"))).status_code == 403


async def test_the_fake_twilios_retry_of_a_failed_reply_is_applied_once(lenient, api, nc, notifications, caplog):
    """The fake retries a webhook answered 500 as Twilio does (same parameters, signature and token): the retry after
    the database came back is applied, and the same request again is refused as Twilio's retry."""
    caplog.set_level(logging.DEBUG)
    _, sooner, later = await booked_twice(api, nc)
    fake = FakeTwilioState("AC" + "0" * 32, TOKEN, Faults(), lambda: dt.datetime.now(dt.UTC))
    sms = fake.add(to="+33700000000", from_=E164, body="ANNULER", direction="inbound", status="received")
    await refuse_writes(notifications, "bookings")
    delivery = asyncio.create_task(post_signed(lenient, fake, PUBLIC + INBOUND, incoming_params(sms)))

    async def refused_once() -> bool:
        return bool(fake.callbacks)

    await eventually(refused_once)
    await refuse_writes(notifications, "bookings", refused=False)
    assert await delivery == 200
    attempts = fake.callbacks
    assert (attempts[0].status_code, attempts[-1].status_code) == (500, 200)
    assert len({a.idempotency_token for a in attempts}) == 1
    assert (await booking_status(notifications, sooner), await booking_status(notifications, later)) == (
        "cancelled",
        "booked",
    )

    last = attempts[-1]
    again = await api.post(INBOUND, data=last.params, headers={"X-Twilio-Signature": last.signature,
                                                                IDEMPOTENCY: last.idempotency_token})  # fmt: skip
    assert again.status_code == 403
    assert await booking_status(notifications, later) == "booked"
    assert f"inbound SMS {sms.sid} again, with the same idempotency token" in caplog.text
    assert E164 not in caplog.text
