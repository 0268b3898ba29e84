"""Usagers and bookings through notifications' API, on SQLite and Postgres, fed by published plans over NATS."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections import Counter

import pytest
from sqlalchemy import select

from services.notifications.adapters.orm import permanences, usagers
from services.notifications.domain.dispatch import sms_text
from services.notifications.domain.messages import MessageKind
from tests.integration.bookings_stack import (
    ADMIN,
    CONSEILLER,
    COORDINATOR_GUADELOUPE,
    COORDINATOR_PERCHE,
    GUADELOUPE,
    OTHER_CONSEILLER,
    PERCHE,
    api,
    notifications,
    planned,
    published,
    registered,
)

__all__ = ["api", "notifications"]

PHONE, E164 = "06 12 34 56 78", "+33612345678"
EMAIL = "yvette.morin@laposte.net"


async def test_an_usager_is_registered_and_read_back_with_contacts_decrypted(api):
    usager = await registered(api, email=EMAIL)
    assert (usager["phone"], usager["email"], usager["channel"]) == (E164, EMAIL, "sms")

    answer = await api.get(f"/usagers/{usager['id']}", headers=COORDINATOR_PERCHE)
    assert answer.status_code == 200
    assert answer.json() == usager
    assert (await api.get(f"/usagers/{uuid.uuid4()}", headers=ADMIN)).status_code == 404


@pytest.mark.parametrize(
    ("contacts", "field"),
    [
        ({"phone": "06 12"}, "phone"),
        ({"phone": None, "email": "yvette.morin@"}, "email"),
        ({"phone": "02 33 85 11 11", "preferred_channel": "sms"}, "phone"),
        ({"phone": None, "email": None}, "phone"),
        ({"name": " "}, "name"),
    ],
)
async def test_an_unreachable_usager_is_422_naming_the_field_without_repeating_the_contact(api, contacts, field):
    body = {"name": "Yvette Morin", "phone": PHONE, "consent": True, "territory": PERCHE, **contacts}
    answer = await api.post("/usagers", json=body, headers=ADMIN)
    assert answer.status_code == 422
    assert [error["loc"] for error in answer.json()["detail"]] == [["body", field]]
    for value in contacts.values():
        if value and value.strip():
            assert value not in answer.text


async def test_a_malformed_body_is_422_without_echoing_the_contact(api):
    body = {"name": "Yvette Morin", "phone": PHONE, "email": EMAIL, "consent": "maybe", "territory": PERCHE}
    answer = await api.post("/usagers", json=body, headers=ADMIN)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "consent"]
    assert PHONE not in answer.text
    assert EMAIL not in answer.text


async def test_the_usagers_row_holds_neither_the_phone_number_nor_the_email(api, notifications):
    usager = await registered(api, email=EMAIL)
    async with notifications.runtime.sessions() as session:
        row = (await session.execute(select(usagers).where(usagers.c.id == uuid.UUID(usager["id"])))).mappings().one()
    stored = " ".join(str(value) for value in row.values())
    for clear in (PHONE, E164, "612345678", "0612345678", EMAIL, "yvette.morin"):
        assert clear not in stored
    assert all(row[column] for column in ("phone_encrypted", "email_encrypted", "phone_hash", "email_hash"))
    assert row["name"] == "Yvette Morin"


async def test_booking_then_cancelling_gives_the_seat_back_and_cancelling_twice_changes_nothing(api, nc, notifications):
    atelier = planned("atelier", seats=1)
    await published(nc, api, atelier)
    first, second = await registered(api), await registered(api, name="Marcel Duval")

    booked = await api.post(
        "/bookings", json={"usager_id": first["id"], "permanence_id": str(atelier.permanence_id)}, headers=ADMIN
    )
    assert booked.status_code == 201, booked.text
    assert (booked.json()["status"], booked.json()["version"], booked.json()["cancel_reason"]) == ("booked", 1, None)
    full = await api.post(
        "/bookings", json={"usager_id": second["id"], "permanence_id": str(atelier.permanence_id)}, headers=ADMIN
    )
    assert full.status_code == 409
    assert "full" in full.json()["detail"]

    cancelled = await api.delete(f"/bookings/{booked.json()['id']}", headers=ADMIN)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = await api.delete(f"/bookings/{booked.json()['id']}", headers=ADMIN)
    assert again.status_code == 200
    assert again.json() == cancelled.json()
    assert await seats_taken(notifications, atelier.permanence_id) == 0

    now_booked = await api.post(
        "/bookings", json={"usager_id": second["id"], "permanence_id": str(atelier.permanence_id)}, headers=ADMIN
    )
    assert now_booked.status_code == 201
    assert (await api.get(f"/usagers/{second['id']}", headers=ADMIN)).json()["last_booking_at"] is not None


async def test_an_usager_is_booked_once_per_permanence(api, nc):
    permanence = planned()
    await published(nc, api, permanence)
    usager = await registered(api)
    body = {"usager_id": usager["id"], "permanence_id": str(permanence.permanence_id)}
    assert (await api.post("/bookings", json=body, headers=ADMIN)).status_code == 201
    twice = await api.post("/bookings", json=body, headers=ADMIN)
    assert twice.status_code == 409
    assert "already booked" in twice.json()["detail"]


async def test_an_usager_booked_concurrently_into_the_same_permanence_is_booked_once(api, nc, notifications):
    atelier = planned("atelier", seats=20)
    await published(nc, api, atelier)
    usager = await registered(api)
    body = {"usager_id": usager["id"], "permanence_id": str(atelier.permanence_id)}
    answers = await asyncio.gather(*(api.post("/bookings", json=body, headers=ADMIN) for _ in range(10)))
    assert Counter(a.status_code for a in answers) == {201: 1, 409: 9}
    assert await seats_taken(notifications, atelier.permanence_id) == 1


async def test_a_permanence_that_has_started_cannot_be_booked(api, nc):
    started = planned(starts_in=-dt.timedelta(minutes=10))
    await published(nc, api, started)
    usager = await registered(api)
    answer = await api.post(
        "/bookings", json={"usager_id": usager["id"], "permanence_id": str(started.permanence_id)}, headers=ADMIN
    )
    assert answer.status_code == 409
    assert "started" in answer.json()["detail"]


async def test_an_usager_without_consent_cannot_be_booked(api, nc):
    permanence = planned()
    await published(nc, api, permanence)
    usager = await registered(api, consent=False)
    answer = await api.post(
        "/bookings", json={"usager_id": usager["id"], "permanence_id": str(permanence.permanence_id)}, headers=ADMIN
    )
    assert answer.status_code == 409


async def test_unknown_usagers_permanences_and_bookings_are_404(api, nc):
    permanence = planned()
    await published(nc, api, permanence)
    usager = await registered(api)
    unknown = str(uuid.uuid4())
    for body in (
        {"usager_id": unknown, "permanence_id": str(permanence.permanence_id)},
        {"usager_id": usager["id"], "permanence_id": unknown},
    ):
        assert (await api.post("/bookings", json=body, headers=ADMIN)).status_code == 404
    assert (await api.delete(f"/bookings/{unknown}", headers=ADMIN)).status_code == 404
    assert (await api.get(f"/permanences/{unknown}/bookings", headers=ADMIN)).status_code == 404


async def test_the_bookings_of_a_permanence_come_in_pages(api, nc):
    permanence = planned(hours=3)  # 6 appointments
    await published(nc, api, permanence)
    for name in ("Yvette", "Marcel", "Odette"):
        usager = await registered(api, name=name)
        body = {"usager_id": usager["id"], "permanence_id": str(permanence.permanence_id)}
        assert (await api.post("/bookings", json=body, headers=ADMIN)).status_code == 201
    page = (
        await api.get(
            f"/permanences/{permanence.permanence_id}/bookings", params={"limit": 2, "offset": 1}, headers=ADMIN
        )
    ).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 2, 1, 2)


async def test_an_individual_permanence_takes_one_usager_per_half_hour(api, nc):
    permanence = planned(hours=1)
    await published(nc, api, permanence)
    answers = []
    for name in ("Yvette", "Marcel", "Odette"):
        usager = await registered(api, name=name)
        body = {"usager_id": usager["id"], "permanence_id": str(permanence.permanence_id)}
        answers.append((await api.post("/bookings", json=body, headers=ADMIN)).status_code)
    assert answers == [201, 201, 409]


async def test_coordinators_act_in_their_territories_only(api, nc):
    permanence = planned()
    await published(nc, api, permanence)
    usager = await registered(api, headers=COORDINATOR_PERCHE)
    body = {"usager_id": usager["id"], "permanence_id": str(permanence.permanence_id)}

    outsider = COORDINATOR_GUADELOUPE
    assert (
        await api.post(
            "/usagers", json={"name": "X", "phone": PHONE, "consent": True, "territory": PERCHE}, headers=outsider
        )
    ).status_code == 403
    assert (await api.get(f"/usagers/{usager['id']}", headers=outsider)).status_code == 403
    assert (await api.post("/bookings", json=body, headers=outsider)).status_code == 403
    assert (await api.get(f"/permanences/{permanence.permanence_id}/bookings", headers=outsider)).status_code == 403

    booked = await api.post("/bookings", json=body, headers=COORDINATOR_PERCHE)
    assert booked.status_code == 201
    assert (await api.delete(f"/bookings/{booked.json()['id']}", headers=outsider)).status_code == 403
    assert (await api.delete(f"/bookings/{booked.json()['id']}", headers=COORDINATOR_PERCHE)).status_code == 200


async def test_a_conseiller_acts_on_the_permanences_they_hold_and_the_usagers_of_their_territories(api, nc):
    theirs, someone_elses = planned(), planned(conseiller_id=uuid.uuid4())
    await published(nc, api, theirs, someone_elses)
    usager = await registered(api, headers=CONSEILLER)
    guadeloupe = {"name": "X", "phone": "0690 12 34 56", "consent": True, "territory": GUADELOUPE}
    assert (await api.post("/usagers", json=guadeloupe, headers=CONSEILLER)).status_code == 403
    assert (await api.get(f"/usagers/{usager['id']}", headers=CONSEILLER)).status_code == 200
    assert (await api.get(f"/usagers/{usager['id']}", headers=OTHER_CONSEILLER)).status_code == 403

    mine = {"usager_id": usager["id"], "permanence_id": str(theirs.permanence_id)}
    not_mine = {"usager_id": usager["id"], "permanence_id": str(someone_elses.permanence_id)}
    assert (await api.post("/bookings", json=mine, headers=CONSEILLER)).status_code == 201
    assert (await api.post("/bookings", json=not_mine, headers=CONSEILLER)).status_code == 403
    assert (await api.get(f"/permanences/{theirs.permanence_id}/bookings", headers=CONSEILLER)).status_code == 200
    assert (await api.get(f"/permanences/{theirs.permanence_id}/bookings", headers=OTHER_CONSEILLER)).status_code == 403


async def test_thirty_concurrent_bookings_fill_an_atelier_of_eight_seats_exactly(api, nc, notifications):
    atelier = planned("atelier", seats=8)
    await published(nc, api, atelier)
    people = [await registered(api, name=f"Usager {i}") for i in range(30)]

    answers = await asyncio.gather(
        *(
            api.post(
                "/bookings", json={"usager_id": u["id"], "permanence_id": str(atelier.permanence_id)}, headers=ADMIN
            )
            for u in people
        )
    )

    assert Counter(a.status_code for a in answers) == {201: 8, 409: 22}
    assert await seats_taken(notifications, atelier.permanence_id) == 8
    page = (await api.get(f"/permanences/{atelier.permanence_id}/bookings", headers=ADMIN)).json()
    assert page["total"] == 8


async def test_the_logs_of_a_booking_flow_hold_no_phone_number_or_email(api, nc, caplog):
    caplog.set_level(logging.DEBUG)
    permanence = planned()
    await published(nc, api, permanence)
    usager = await registered(api, email=EMAIL)
    await api.post(
        "/usagers", json={"name": "Y", "phone": "02 33 85 11 11", "consent": True, "territory": PERCHE}, headers=ADMIN
    )
    booked = await api.post(
        "/bookings", json={"usager_id": usager["id"], "permanence_id": str(permanence.permanence_id)}, headers=ADMIN
    )
    await api.get(f"/usagers/{usager['id']}", headers=ADMIN)
    await api.delete(f"/bookings/{booked.json()['id']}", headers=ADMIN)

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert booked.json()["id"] in logged  # the flow was logged…
    for clear in (PHONE, E164, "612345678", "02 33 85 11 11", "233851111", EMAIL, "yvette.morin"):
        assert clear not in logged  # …without a contact


async def seats_taken(notifications, permanence_id: uuid.UUID) -> int:
    async with notifications.runtime.sessions() as session:
        return int(await session.scalar(select(permanences.c.booked).where(permanences.c.id == permanence_id)) or 0)


async def test_a_published_permanence_is_named_by_its_commune_in_every_sms_not_by_its_insee_code(
    api, nc, notifications
):
    permanence = planned(lieu="EPN")
    await published(nc, api, permanence)

    async with notifications.uow() as uow:
        stored = await uow.permanences.get(permanence.permanence_id)
    assert stored is not None
    assert (stored.commune, stored.commune_name) == ("61293", "Mortagne-au-Perche")
    for kind in MessageKind:
        text = sms_text(kind, stored)
        assert "EPN, Mortagne-au-Perche" in text, text
        assert "61293" not in text, text
    [listed] = (await api.get("/permanences", params={"plan_id": str(stored.plan_id)}, headers=ADMIN)).json()
    assert (listed["commune"], listed["commune_name"]) == ("61293", "Mortagne-au-Perche")
