"""Permanences moved or cancelled by scheduling, through a real NATS, on SQLite and Postgres: the usagers
booked follow (or are cancelled) and are told once, however often the event comes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

import httpx
from sqlalchemy import select

from services.notifications.adapters.orm import inbox, messages
from services.notifications.bootstrap import Notifications
from services.notifications.service_layer.permanence_changes import PERMANENCE_CHANGES_CONSUMER
from shared.events import Envelope, Event, PermanenceCancelled, PermanenceMoved
from tests.integration.bookings_stack import ADMIN, api, notifications, planned, published, registered
from tests.integration.helpers import eventually

__all__ = ["api", "notifications"]


async def booked_two(nc, api: httpx.AsyncClient) -> tuple[uuid.UUID, list[str]]:
    permanence = planned()
    await published(nc, api, permanence)
    booking_ids = []
    for phone in ("06 12 34 56 78", "06 98 76 54 32"):
        usager = await registered(api, phone=phone)
        body = {"usager_id": usager["id"], "permanence_id": str(permanence.permanence_id)}
        answer = await api.post("/bookings", json=body, headers=ADMIN)
        assert answer.status_code == 201, answer.text
        booking_ids.append(answer.json()["id"])
    return permanence.permanence_id, booking_ids


async def delivered_three_times(nc, notifications: Notifications, event: Event) -> None:
    """The event, then again with the same id (as a redelivery would), then a fresh one with the same content;
    returns once notifications has applied the last one (the consumer takes them in stream order)."""
    first = Envelope.wrap(event, producer="scheduling")
    fresh = Envelope.wrap(event, producer="scheduling")
    js = nc.jetstream()
    await js.publish(event.subject, first.to_bytes(), headers={"Nats-Msg-Id": str(first.event_id)})
    await js.publish(event.subject, first.to_bytes())  # no Nats-Msg-Id: NATS lets it through, the inbox must not
    await js.publish(event.subject, fresh.to_bytes(), headers={"Nats-Msg-Id": str(fresh.event_id)})

    async def applied() -> bool:
        async with notifications.runtime.sessions() as session:
            seen = await session.scalar(
                select(inbox.c.event_id).where(
                    inbox.c.consumer == PERMANENCE_CHANGES_CONSUMER, inbox.c.event_id == fresh.event_id
                )
            )
        return seen is not None

    await eventually(applied)


async def kinds_per_booking(notifications: Notifications) -> Counter[tuple[str, str, int, str]]:
    async with notifications.runtime.sessions() as session:
        rows = await session.execute(
            select(messages.c.booking_id, messages.c.kind, messages.c.version, messages.c.status)
        )
    return Counter((str(booking_id), kind, version, status) for booking_id, kind, version, status in rows)


async def test_a_moved_permanence_takes_its_bookings_along_and_tells_each_usager_once(api, nc, notifications):
    old_id, booking_ids = await booked_two(nc, api)
    to = planned(starts_in=dt.timedelta(days=3))
    event = PermanenceMoved(plan_id=uuid.uuid4(), permanence_id=old_id, to=to, reason="le lieu est fermé ce jour-là")
    await delivered_three_times(nc, notifications, event)

    moved = (await api.get(f"/permanences/{to.permanence_id}/bookings", headers=ADMIN)).json()
    assert sorted(b["id"] for b in moved["items"] if b["status"] == "booked") == sorted(booking_ids)
    assert (await api.get(f"/permanences/{old_id}/bookings", headers=ADMIN)).json()["total"] == 0
    async with notifications.uow() as uow:
        assert (await uow.permanences.booked(to.permanence_id), await uow.permanences.booked(old_id)) == (2, 0)
        new = await uow.permanences.get(to.permanence_id)
    assert new is not None
    assert new.commune_name == "Mortagne-au-Perche"  # the place the usagers are told of is named
    log = await kinds_per_booking(notifications)
    for booking_id in booking_ids:
        assert log[(booking_id, "moved", 2, "pending")] == 1
        assert log[(booking_id, "reminder", 1, "skipped")] == 1
        assert log[(booking_id, "reminder", 2, "pending")] == 1
    assert sum(count for (_, kind, _, _), count in log.items() if kind == "moved") == 2


async def test_a_cancelled_permanence_cancels_its_bookings_with_the_reason_and_tells_each_usager_once(
    api, nc, notifications
):
    permanence_id, booking_ids = await booked_two(nc, api)
    event = PermanenceCancelled(plan_id=uuid.uuid4(), permanence_id=permanence_id, reason="conseiller absent")
    await delivered_three_times(nc, notifications, event)

    for booking_id in booking_ids:
        async with notifications.uow() as uow:
            booking = await uow.bookings.get(uuid.UUID(booking_id))
        assert booking is not None
        assert (booking.status.value, booking.cancel_reason) == ("cancelled", "conseiller absent")
    log = await kinds_per_booking(notifications)
    for booking_id in booking_ids:
        assert log[(booking_id, "cancelled", 1, "pending")] == 1
        assert log[(booking_id, "reminder", 1, "skipped")] == 1
    assert sum(count for (_, kind, _, _), count in log.items() if kind == "cancelled") == 2
