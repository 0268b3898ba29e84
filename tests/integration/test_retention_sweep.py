"""Usagers anonymised after the retention, by ``privacy.anonymise_expired`` and by the service's background
sweep, on SQLite and Postgres (notifications fed published plans over a real NATS)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid

import httpx
from sqlalchemy import func, select

from services.notifications.adapters.orm import bookings, inbound_sms, messages, status_callbacks, usagers
from services.notifications.bootstrap import Notifications
from services.notifications.domain.retention import ANONYMISED_NAME, ERASED_REASON
from services.notifications.service_layer import privacy, twilio_webhooks
from tests.integration.bookings_stack import (
    ADMIN,
    api,
    notifications,
    planned,
    published,
    registered,
    running_notifications,
)
from tests.integration.helpers import eventually
from tests.integration.test_privacy import CONTACTS, EMAIL, booked, usager_row

__all__ = ["api", "notifications"]

RETENTION = dt.timedelta(days=183)


async def test_usagers_past_the_retention_are_anonymised_and_the_others_kept(api, nc, notifications, caplog):
    caplog.set_level(logging.INFO)
    soon, far = planned(), planned(starts_in=dt.timedelta(days=400))
    await published(nc, api, soon, far)
    never_booked = await registered(api, email=EMAIL)
    booked_soon = await registered(api, name="Marcel Duval")
    booked_far = await registered(api, name="Odette Leroy")
    await booked(api, booked_soon, soon.permanence_id)
    await booked(api, booked_far, far.permanence_id)
    rows_before = await counts(notifications)
    now = dt.datetime.now(dt.UTC)

    sweep = privacy.anonymise_expired
    assert await sweep(notifications.uow(), now + dt.timedelta(days=100), RETENTION, batch=1) == 0  # all recent
    assert await sweep(notifications.uow(), now + dt.timedelta(days=200), RETENTION, batch=1) == 2
    assert await sweep(notifications.uow(), now + dt.timedelta(days=200), RETENTION, batch=1) == 0  # idempotent

    for gone in (never_booked, booked_soon):
        row = await usager_row(notifications, gone["id"])
        assert row["name"] == ANONYMISED_NAME
        assert [row[c] for c in ("phone_encrypted", "phone_hash", "email_encrypted", "email_hash")] == [None] * 4
        assert row["anonymised_at"] == now + dt.timedelta(days=200)
    kept = await usager_row(notifications, booked_far["id"])  # still expected at a permanence to come
    assert (kept["name"], kept["anonymised_at"]) == ("Odette Leroy", None)
    assert kept["phone_encrypted"]
    assert kept["phone_hash"]
    assert await counts(notifications) == rows_before  # bookings and the send log stay, for the statistics
    async with notifications.runtime.sessions() as session:
        pending = await session.scalar(
            select(func.count()).where(
                messages.c.usager_id == uuid.UUID(booked_soon["id"]), messages.c.status == "pending"
            )
        )
        skipped_why = set(
            (await session.scalars(select(messages.c.last_error).where(messages.c.status == "skipped"))).all()
        )
    assert pending == 0
    assert skipped_why <= {ERASED_REASON}
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"usager {never_booked['id']}: personal data erased, past the retention" in logged
    assert all(clear not in logged for clear in CONTACTS[1:])


async def test_the_sweep_works_through_every_batch_and_does_nothing_once_asked_to_stop(api, notifications):
    people = [await registered(api, name=f"Usager {i}") for i in range(5)]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=200)
    stop = asyncio.Event()
    stop.set()
    assert await privacy.anonymise_expired(notifications.uow(), later, RETENTION, batch=2, stop=stop) == 0
    assert (await usager_row(notifications, people[0]["id"]))["anonymised_at"] is None
    assert await privacy.anonymise_expired(notifications.uow(), later, RETENTION, batch=2) == 5
    assert [(await usager_row(notifications, u["id"]))["anonymised_at"] for u in people] == [later] * 5


async def test_a_recent_booking_restarts_the_retention(api, nc, notifications):
    permanence = planned()
    await published(nc, api, permanence)
    usager = await registered(api)
    booking = await booked(api, usager, permanence.permanence_id)
    assert (await api.delete(f"/bookings/{booking['id']}", headers=ADMIN)).status_code == 200
    async with notifications.runtime.sessions() as session:  # registered long ago, booked just now
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
        await session.execute(
            usagers.update().where(usagers.c.id == uuid.UUID(usager["id"])).values(created_at=long_ago)
        )
        await session.commit()
    now = dt.datetime.now(dt.UTC)
    assert await privacy.anonymise_expired(notifications.uow(), now, RETENTION, batch=10) == 0
    assert (await usager_row(notifications, usager["id"]))["anonymised_at"] is None


async def test_usagers_whose_contacts_no_key_opens_are_anonymised_all_the_same(api, notifications):
    usager = await registered(api, email=EMAIL)
    async with notifications.runtime.sessions() as session:
        unreadable = {"phone_encrypted": "gAAAAA-no-key-opens-this", "email_encrypted": "gAAAAA-nor-this"}
        await session.execute(usagers.update().where(usagers.c.id == uuid.UUID(usager["id"])).values(**unreadable))
        await session.commit()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=200)
    assert await privacy.anonymise_expired(notifications.uow(), later, RETENTION, batch=10) == 1
    row = await usager_row(notifications, usager["id"])
    assert (row["phone_encrypted"], row["email_encrypted"], row["anonymised_at"]) == (None, None, later)


async def test_the_service_sweeps_in_the_background_and_stops_promptly(database, nats_url, nc, tmp_path):
    retention = dt.timedelta(seconds=1)
    async with running_notifications(
        database, nats_url, tmp_path, usager_retention=retention, retention_sweep_s=0.05
    ) as service:
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as client:
            permanence = planned()
            await published(nc, client, permanence)
            gone = await registered(client)
            expected = await registered(client, name="Marcel Duval")
            await booked(client, expected, permanence.permanence_id)

            async def anonymised() -> bool:
                return (await usager_row(service, gone["id"]))["anonymised_at"] is not None

            await eventually(anonymised, timeout_s=10)
            await asyncio.sleep(retention.total_seconds() + 0.3)  # several sweeps since Marcel is past it
            assert (await usager_row(service, expected["id"]))["anonymised_at"] is None

    async with running_notifications(database, nats_url, tmp_path, retention_sweep_s=3600):
        started = time.monotonic()
    assert time.monotonic() - started < 5  # the sweep waiting an hour does not hold the stop back


async def webhooks_kept(service: Notifications) -> tuple[list[str], list[str]]:
    """The sids of the inbound SMS and of the status callbacks recorded as applied."""
    async with service.runtime.sessions() as session:
        inbound = await session.scalars(select(inbound_sms.c.message_sid).order_by(inbound_sms.c.message_sid))
        statuses = await session.scalars(
            select(status_callbacks.c.message_sid).order_by(status_callbacks.c.message_sid)
        )
        return list(inbound), list(statuses)


async def test_status_callbacks_past_the_retention_are_forgotten_and_inbound_sms_kept(notifications):
    # Recorded now and swept as if 200 days later: the service's own sweep (at its start, by the real clock)
    # must find nothing to forget, whenever it runs.
    recorded = dt.datetime.now(dt.UTC)
    now = recorded + dt.timedelta(days=200)
    async with notifications.uow() as uow:
        for sid in ("SM0", "SM1", "SM2", "SM3", "SM4"):
            assert await uow.webhooks.record_status(sid, "delivered", None, recorded)
        assert await uow.webhooks.record_status("SMrecent", "delivered", "token", recorded + dt.timedelta(days=100))
        assert await uow.webhooks.record_inbound("SMreply", "token", recorded)
        await uow.commit()
    forget = twilio_webhooks.forget_expired_status_callbacks
    stop = asyncio.Event()
    stop.set()
    assert await forget(notifications.uow(), now, RETENTION, batch=2, stop=stop) == 0
    assert await forget(notifications.uow(), now, RETENTION, batch=2) == 5
    assert await forget(notifications.uow(), now, RETENTION, batch=2) == 0
    assert await webhooks_kept(notifications) == (["SMreply"], ["SMrecent"])
    async with notifications.uow() as uow:  # forgotten: a replay of it is applied (a status changes nothing twice)
        assert await uow.webhooks.record_status("SM0", "delivered", None, now)
        assert not await uow.webhooks.record_status("SMrecent", "delivered", None, now)
        assert not await uow.webhooks.record_inbound("SMreply", None, now)


async def test_the_background_sweep_forgets_old_status_callbacks(database, nats_url, nc, tmp_path):
    retention = dt.timedelta(seconds=1)
    async with running_notifications(
        database, nats_url, tmp_path, usager_retention=retention, retention_sweep_s=0.05
    ) as service:
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        async with service.uow() as uow:
            await uow.webhooks.record_status("SMold", "sent", None, long_ago)
            await uow.webhooks.record_inbound("SMreply", None, long_ago)
            await uow.commit()

        async def forgotten() -> bool:
            return await webhooks_kept(service) == (["SMreply"], [])

        await eventually(forgotten, timeout_s=10)


async def counts(notifications) -> tuple[int, int, int]:
    async with notifications.runtime.sessions() as session:
        return (
            int(await session.scalar(select(func.count()).select_from(usagers)) or 0),
            int(await session.scalar(select(func.count()).select_from(bookings)) or 0),
            int(await session.scalar(select(func.count()).select_from(messages)) or 0),
        )
