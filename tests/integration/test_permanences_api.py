"""Notifications' list of published permanences: an admin sees them all, a coordinator their territories' only."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import event, update

from services.notifications.adapters.orm import usagers
from tests.integration.bookings_stack import (
    ADMIN,
    CONSEILLER,
    COORDINATOR_GUADELOUPE,
    COORDINATOR_PERCHE,
    GUADELOUPE,
    api,
    notifications,
    planned,
    published,
    registered,
)

__all__ = ["api", "notifications"]


async def test_a_coordinator_lists_only_the_permanences_of_their_territories(api, nc):
    perche, guadeloupe = planned(), planned()
    await published(nc, api, perche)
    await published(nc, api, guadeloupe, territory=GUADELOUPE)

    async def listed(who: dict[str, str]) -> set[str]:
        answer = await api.get("/permanences", headers=who)
        assert answer.status_code == 200, answer.text
        return {p["id"] for p in answer.json()}

    assert await listed(ADMIN) == {str(perche.permanence_id), str(guadeloupe.permanence_id)}
    assert await listed(COORDINATOR_PERCHE) == {str(perche.permanence_id)}
    assert await listed(COORDINATOR_GUADELOUPE) == {str(guadeloupe.permanence_id)}
    assert (await api.get("/permanences", headers=CONSEILLER)).status_code == 403
    assert (await api.get("/permanences")).status_code == 401


async def test_each_permanence_counts_its_active_bookings_by_the_channel_usagers_are_told_by(api, notifications, nc):
    first, second, third = planned(hours=3), planned(), planned()  # 3 h: six seats
    await published(nc, api, first, second, third)
    by_sms = await registered(api)
    by_email = await registered(api, email="yvette.morin@laposte.net", preferred_channel="email")
    email_only = await registered(api, phone=None, email="jean.morin@laposte.net")
    stopped_sms = await registered(api, email="rose.morin@laposte.net")  # replied STOP: e-mail from then on
    erased = await registered(api, email="paul.morin@laposte.net")
    cancelled = await registered(api)
    for usager in (by_sms, by_email, email_only, stopped_sms, erased, cancelled):
        await book(api, usager, first)
    await book(api, by_sms, second)
    booking = await book(api, cancelled, second)
    assert (await api.delete(f"/bookings/{booking['id']}", headers=ADMIN)).status_code == 200
    async with notifications.runtime.sessions() as session, session.begin():
        await session.execute(
            update(usagers).where(usagers.c.id == uuid.UUID(stopped_sms["id"])).values(sms_opted_out=True)
        )
        anonymised = {"phone_encrypted": None, "phone_hash": None, "email_encrypted": None, "email_hash": None,
                      "name": "anonyme", "anonymised_at": dt.datetime.now(dt.UTC)}  # fmt: skip
        await session.execute(update(usagers).where(usagers.c.id == uuid.UUID(erased["id"])).values(**anonymised))

    statements: list[str] = []
    event.listen(notifications.runtime.engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    async def listed(**params: Any) -> tuple[list[dict[str, Any]], int]:
        statements.clear()
        answer = await api.get("/permanences", params=params, headers=COORDINATOR_PERCHE)
        assert answer.status_code == 200, answer.text
        return answer.json(), sum("FROM bookings" in s for s in statements)

    everything, queries = await listed()
    assert {p["id"]: p["booked"] for p in everything} == {
        str(first.permanence_id): {"sms": 2, "email": 3},  # the usager erased: neither
        str(second.permanence_id): {"sms": 1, "email": 0},  # a cancelled booking: none
        str(third.permanence_id): {"sms": 0, "email": 0},
    }
    assert queries == 1, "one query of the bookings per listing, not one per permanence"
    one, queries = await listed(limit=1)
    assert (len(one), queries) == (1, 1)


async def book(api, usager, permanence) -> dict[str, Any]:
    body = {"usager_id": usager["id"], "permanence_id": str(permanence.permanence_id)}
    answer = await api.post("/bookings", json=body, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    return answer.json()
