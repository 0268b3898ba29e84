"""The send log through notifications' API, on SQLite and Postgres: a booking plans its messages in its own
transaction, a cancellation skips the reminder, the log is read by admins and the territory's coordinators."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from services.notifications.adapters.orm import messages
from tests.integration.bookings_stack import (
    ADMIN,
    CONSEILLER,
    COORDINATOR_GUADELOUPE,
    COORDINATOR_PERCHE,
    api,
    notifications,
    planned,
    published,
    registered,
)

__all__ = ["api", "notifications"]


async def test_a_booking_plans_a_confirmation_and_a_reminder_and_cancelling_skips_the_reminder(api, nc):
    permanence = planned()
    await published(nc, api, permanence)
    usager = await registered(api)
    body = {"usager_id": usager["id"], "permanence_id": str(permanence.permanence_id)}
    booking = (await api.post("/bookings", json=body, headers=ADMIN)).json()

    log = (await api.get(f"/bookings/{booking['id']}/messages", headers=COORDINATOR_PERCHE)).json()
    assert [(m["kind"], m["version"], m["status"], m["channel"]) for m in log] == [
        ("confirmation", 1, "pending", "sms"),
        ("reminder", 1, "pending", "sms"),
    ]
    assert usager["phone"] not in str(log)
    assert log[0]["text"].startswith("Inscription confirmée : permanence numérique ")
    assert log[1]["text"].startswith("Rappel : permanence numérique ")
    assert log[1]["text"].endswith("Pour annuler, répondez ANNULER.")

    assert (await api.delete(f"/bookings/{booking['id']}", headers=ADMIN)).status_code == 200
    log = (await api.get(f"/bookings/{booking['id']}/messages", headers=ADMIN)).json()
    assert [(m["kind"], m["status"]) for m in log] == [("confirmation", "pending"), ("reminder", "skipped")]


async def test_a_refused_booking_plans_no_message(api, nc, notifications):
    permanence = planned("atelier", seats=1)
    await published(nc, api, permanence)
    first, second = await registered(api), await registered(api, phone="06 98 76 54 32")
    for usager in (first, second):
        await api.post(
            "/bookings", json={"usager_id": usager["id"], "permanence_id": str(permanence.permanence_id)}, headers=ADMIN
        )
    async with notifications.runtime.sessions() as session:
        usagers_messaged = await session.scalar(select(func.count(func.distinct(messages.c.usager_id))))
    assert usagers_messaged == 1


async def test_the_send_log_is_for_admins_and_the_coordinators_of_the_territory(api, nc):
    permanence = planned()
    await published(nc, api, permanence)
    usager = await registered(api)
    body = {"usager_id": usager["id"], "permanence_id": str(permanence.permanence_id)}
    booking = (await api.post("/bookings", json=body, headers=ADMIN)).json()
    path = f"/bookings/{booking['id']}/messages"
    assert (await api.get(path, headers=COORDINATOR_GUADELOUPE)).status_code == 403
    assert (await api.get(path, headers=CONSEILLER)).status_code == 403
    assert (await api.get(f"/bookings/{uuid.uuid4()}/messages", headers=ADMIN)).status_code == 404
