"""An usager's data exported and erased on request, and erased after the retention, on SQLite and Postgres
(notifications fed published plans over a real NATS)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from sqlalchemy import func, select

from services.notifications.adapters.orm import bookings, messages, usagers
from services.notifications.domain.retention import ANONYMISED_NAME, ERASED_REASON
from services.notifications.service_layer import privacy
from shared.auth import Principal, Role
from shared.events import PermanenceMoved
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
from tests.integration.test_bookings_api import seats_taken
from tests.integration.test_permanence_changes import delivered_three_times

__all__ = ["api", "notifications"]

PHONE, E164 = "06 12 34 56 78", "+33612345678"
EMAIL = "yvette.morin@laposte.net"
OPS = Principal("ops", Role.ADMIN)
CONTACTS = ("Yvette", PHONE, E164, "612345678", EMAIL, "yvette.morin")


async def booked(api, usager: dict[str, Any], permanence_id: uuid.UUID, headers=ADMIN) -> dict[str, Any]:
    body = {"usager_id": usager["id"], "permanence_id": str(permanence_id)}
    answer = await api.post("/bookings", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    booking: dict[str, Any] = answer.json()
    return booking


async def usager_row(notifications, usager_id: str) -> dict[str, Any]:
    async with notifications.runtime.sessions() as session:
        row = (await session.execute(select(usagers).where(usagers.c.id == uuid.UUID(usager_id)))).mappings().one()
    return dict(row)


async def messages_of(notifications, usager_id: str) -> list[dict[str, Any]]:
    async with notifications.runtime.sessions() as session:
        query = select(messages).where(messages.c.usager_id == uuid.UUID(usager_id))
        return [dict(row) for row in (await session.execute(query)).mappings()]


async def test_the_export_holds_everything_about_the_usager_and_nothing_of_anyone_else(api, nc):
    first, second = planned(), planned(starts_in=dt.timedelta(days=5), hours=3)
    await published(nc, api, first, second)
    yvette = await registered(api, email=EMAIL)
    marcel = await registered(api, name="Marcel Duval", phone="06 98 76 54 32")
    hers = await booked(api, yvette, first.permanence_id)
    cancelled = await booked(api, yvette, second.permanence_id)
    assert (await api.delete(f"/bookings/{cancelled['id']}", headers=ADMIN)).status_code == 200
    his = await booked(api, marcel, first.permanence_id)

    answer = await api.get(f"/usagers/{yvette['id']}/export", headers=COORDINATOR_PERCHE)
    assert answer.status_code == 200, answer.text
    export = answer.json()

    usager = export["usager"]
    read = (await api.get(f"/usagers/{yvette['id']}", headers=ADMIN)).json()
    assert {key: usager[key] for key in read} == read
    assert usager["last_booking_at"] is not None
    assert (usager["name"], usager["phone"], usager["email"], usager["channel"]) == ("Yvette Morin", E164, EMAIL, "sms")
    assert (usager["consent"], usager["sms_opted_out"], usager["anonymised_at"]) == (True, False, None)
    exported = {b["id"]: b for b in export["bookings"]}
    assert set(exported) == {hers["id"], cancelled["id"]}
    assert exported[hers["id"]]["status"] == "booked"
    assert exported[cancelled["id"]]["status"] == "cancelled"
    where = exported[hers["id"]]
    assert (where["lieu"], where["commune"], where["commune_name"], where["permanence_id"]) == (
        first.lieu, "61293", "Mortagne-au-Perche", str(first.permanence_id)
    )  # fmt: skip
    assert dt.datetime.fromisoformat(where["starts_at"]) == first.starts_at
    assert {m["booking_id"] for m in export["messages"]} == {hers["id"], cancelled["id"]}
    assert {m["kind"] for m in export["messages"]} >= {"confirmation", "reminder"}
    assert all(m["status"] in {"pending", "skipped"} and m["due_at"] for m in export["messages"])
    for other in (marcel["id"], his["id"], "Marcel", "+33698765432"):
        assert other not in answer.text


async def test_erasure_anonymises_the_usager_and_keeps_their_bookings_and_send_log(api, nc, notifications):
    to_come, other = planned("atelier", seats=3), planned()
    await published(nc, api, to_come, other)
    yvette = await registered(api, email=EMAIL, preferred_channel="email")
    booking = await booked(api, yvette, to_come.permanence_id)
    await booked(api, await registered(api, name="Marcel Duval", phone="06 98 76 54 32"), other.permanence_id)
    logged_before = await messages_of(notifications, yvette["id"])
    assert any(m["status"] == "pending" for m in logged_before)

    answer = await api.delete(f"/usagers/{yvette['id']}", headers=COORDINATOR_PERCHE)
    assert answer.status_code == 200, answer.text
    erased = answer.json()
    assert (erased["name"], erased["phone"], erased["email"], erased["channel"]) == (ANONYMISED_NAME, None, None, None)
    assert erased["anonymised_at"] is not None
    assert (erased["territory"], erased["created_at"]) == (yvette["territory"], yvette["created_at"])
    for clear in CONTACTS:
        assert clear not in answer.text

    row = await usager_row(notifications, yvette["id"])
    assert [row[c] for c in ("phone_encrypted", "phone_hash", "email_encrypted", "email_hash")] == [None] * 4
    assert row["name"] == ANONYMISED_NAME
    assert row["anonymised_at"] is not None
    stored = " ".join(str(value) for value in row.values())
    assert all(clear not in stored for clear in CONTACTS)

    async with notifications.runtime.sessions() as session:
        kept = (await session.execute(select(bookings).where(bookings.c.id == uuid.UUID(booking["id"])))).mappings()
        kept_booking = kept.one()
    assert (kept_booking["status"], kept_booking["cancel_reason"]) == ("cancelled", ERASED_REASON)
    assert await seats_taken(notifications, to_come.permanence_id) == 0
    logged_after = await messages_of(notifications, yvette["id"])
    assert {m["id"] for m in logged_after} == {m["id"] for m in logged_before}  # the send log stays
    assert all(m["status"] != "pending" for m in logged_after)
    assert all(m["last_error"] == ERASED_REASON for m in logged_after if m["status"] == "skipped")

    again = await api.delete(f"/usagers/{yvette['id']}", headers=ADMIN)
    assert again.status_code == 200
    assert again.json() == erased
    assert (await api.get(f"/usagers/{yvette['id']}", headers=ADMIN)).json() == erased
    export = (await api.get(f"/usagers/{yvette['id']}/export", headers=ADMIN)).json()
    assert (export["usager"]["phone"], export["usager"]["email"]) == (None, None)
    assert [b["id"] for b in export["bookings"]] == [booking["id"]]
    body = {"usager_id": yvette["id"], "permanence_id": str(other.permanence_id)}
    refused = await api.post("/bookings", json=body, headers=ADMIN)
    assert refused.status_code == 409
    assert "erased" in refused.json()["detail"]


async def test_a_booking_into_a_permanence_under_way_is_kept_at_erasure_as_a_statistic(api, nc, notifications):
    permanence = planned(starts_in=dt.timedelta(minutes=30))
    await published(nc, api, permanence)
    usager = await registered(api)
    booking = await booked(api, usager, permanence.permanence_id)
    under_way = permanence.starts_at + dt.timedelta(minutes=10)

    erased = await privacy.erase_usager(uuid.UUID(usager["id"]), notifications.uow(), OPS, under_way)

    assert erased.anonymised_at == under_way
    async with notifications.uow() as uow:
        kept = await uow.bookings.get(uuid.UUID(booking["id"]))
    assert kept is not None
    assert kept.active
    assert await seats_taken(notifications, permanence.permanence_id) == 1


async def test_export_and_erasure_are_for_those_who_may_read_the_usager(api, nc, notifications):
    usager = await registered(api, email=EMAIL)
    export, erase = f"/usagers/{usager['id']}/export", f"/usagers/{usager['id']}"
    for path in (export, erase):
        method = api.get if path == export else api.delete
        assert (await method(path)).status_code == 401
        assert (await method(path, headers={"Authorization": "Bearer forged"})).status_code == 401
        assert (await method(path, headers=COORDINATOR_GUADELOUPE)).status_code == 403
        assert (await method(path, headers=CONSEILLER)).status_code == 403  # holds no permanence in the Perche
        unknown = path.replace(usager["id"], str(uuid.uuid4()))
        assert (await method(unknown, headers=ADMIN)).status_code == 404
    row = await usager_row(notifications, usager["id"])
    assert row["anonymised_at"] is None
    assert all(row[c] for c in ("phone_encrypted", "phone_hash", "email_encrypted", "email_hash"))


async def test_after_erasure_the_same_phone_number_registers_a_new_usager_found_by_it(api, notifications):
    before = await registered(api, email=EMAIL)
    assert (await api.delete(f"/usagers/{before['id']}", headers=ADMIN)).status_code == 200
    after = await registered(api, email=EMAIL)
    assert (after["phone"], after["email"], after["anonymised_at"]) == (E164, EMAIL, None)
    assert after["id"] != before["id"]

    async with notifications.uow() as uow:
        found = await uow.usagers.with_phone(E164)
        phone_hash = uow.cipher.lookup_hash(E164)
    assert found == uuid.UUID(after["id"])
    async with notifications.runtime.sessions() as session:
        holders = (await session.scalars(select(usagers.c.id).where(usagers.c.phone_hash == phone_hash))).all()
        total = await session.scalar(select(func.count()).select_from(usagers))
    assert holders == [uuid.UUID(after["id"])]
    assert total == 2


async def test_the_logs_of_export_and_erasure_hold_no_contact(api, nc, caplog):
    caplog.set_level(logging.DEBUG)
    permanence = planned()
    await published(nc, api, permanence)
    usager = await registered(api, email=EMAIL)
    await booked(api, usager, permanence.permanence_id)
    assert (await api.get(f"/usagers/{usager['id']}/export", headers=ADMIN)).status_code == 200
    assert (await api.delete(f"/usagers/{usager['id']}", headers=ADMIN)).status_code == 200

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"usager {usager['id']}: personal data erased" in logged
    assert f"usager {usager['id']}: data exported" in logged
    for clear in CONTACTS[1:]:  # the name is in aiosqlite's DEBUG lines of its statements (not ours)
        assert clear not in logged


async def test_a_permanence_moved_after_its_usager_was_erased_takes_the_booking_along_telling_no_one(
    api, nc, notifications
):
    permanence = planned(starts_in=dt.timedelta(minutes=30))
    await published(nc, api, permanence)
    usager = await registered(api)
    booking = await booked(api, usager, permanence.permanence_id)
    under_way = permanence.starts_at + dt.timedelta(minutes=10)
    await privacy.erase_usager(uuid.UUID(usager["id"]), notifications.uow(), OPS, under_way)

    to = planned(starts_in=dt.timedelta(days=3))
    moved = PermanenceMoved(plan_id=uuid.uuid4(), permanence_id=permanence.permanence_id, to=to, reason="fermé")
    await delivered_three_times(nc, notifications, moved)

    async with notifications.uow() as uow:
        kept = await uow.bookings.get(uuid.UUID(booking["id"]))
    assert kept is not None
    assert (kept.permanence_id, kept.version, kept.active) == (to.permanence_id, 2, True)
    logged = await messages_of(notifications, usager["id"])
    assert {m["kind"] for m in logged} <= {"confirmation", "reminder"}  # no "moved" to an erased usager
    assert all(m["status"] != "pending" for m in logged)
