"""Twilio's webhooks into notifications (on SQLite and Postgres) for their tests: requests signed exactly as Twilio
signs them (``RequestValidator.compute_signature`` over the public URL and the form), a booked usager, and what the
webhooks change."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from services.notifications.adapters.orm import messages, usagers
from services.notifications.bootstrap import Notifications
from tests.integration.bookings_stack import ADMIN, planned, published, registered, running_notifications

TOKEN = "twilio-tests-auth-token-0123456789"
PUBLIC = "https://tournees.example.fr"
INBOUND, STATUS = "/webhooks/twilio/inbound", "/webhooks/twilio/status"
PHONE, E164 = "06 12 34 56 78", "+33612345678"


@pytest.fixture
async def notifications(database, nats_url, nc, tmp_path) -> AsyncIterator[Notifications]:
    settings = {"twilio_auth_token": SecretStr(TOKEN), "public_base_url": PUBLIC}
    async with running_notifications(database, nats_url, tmp_path, **settings) as service:
        yield service


@pytest.fixture
async def api(notifications) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=notifications.app)
    # The Host Twilio's requests reach us with (behind the proxy) is not the public URL they are signed over.
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications:8003") as client:
        yield client


def signed(path: str, params: dict[str, str], *, url: str | None = None, token: str = TOKEN) -> dict[str, str]:
    signature = RequestValidator(token).compute_signature(url or PUBLIC + path, params)
    return {"X-Twilio-Signature": signature}


async def twilio(api: httpx.AsyncClient, path: str, params: dict[str, str], **signing: Any) -> httpx.Response:
    return await api.post(path, data=params, headers=signed(path, params, **signing))


def reply(body: str, sender: str = E164) -> dict[str, str]:
    return {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32, "From": sender,
            "To": "+33700000000", "Body": body, "NumMedia": "0"}  # fmt: skip


async def booked_usager(api: httpx.AsyncClient, nc) -> tuple[dict[str, Any], dict[str, Any]]:
    permanence = planned()
    await published(nc, api, permanence)
    usager = await registered(api, phone=PHONE)
    body = {"usager_id": usager["id"], "permanence_id": str(permanence.permanence_id)}
    booking = await api.post("/bookings", json=body, headers=ADMIN)
    assert booking.status_code == 201, booking.text
    return usager, booking.json()


async def state(notifications: Notifications, usager_id: str) -> tuple[bool, list[str]]:
    async with notifications.runtime.sessions() as session:
        opted_out = await session.scalar(select(usagers.c.sms_opted_out).where(usagers.c.id == uuid.UUID(usager_id)))
        statuses = (
            await session.scalars(
                select(messages.c.status).where(messages.c.usager_id == uuid.UUID(usager_id)).order_by(messages.c.kind)
            )
        ).all()
    return bool(opted_out), list(statuses)


async def confirmation_of(notifications: Notifications, booking: dict[str, Any]) -> uuid.UUID:
    async with notifications.runtime.sessions() as session:
        found = await session.scalar(
            select(messages.c.id).where(
                messages.c.booking_id == uuid.UUID(booking["id"]), messages.c.kind == "confirmation"
            )
        )
    assert found is not None
    return found


async def delivery_of(api: httpx.AsyncClient, booking: dict[str, Any]) -> str | None:
    log = {m["kind"]: m for m in (await api.get(f"/bookings/{booking['id']}/messages", headers=ADMIN)).json()}
    status: str | None = log["confirmation"]["delivery_status"]
    return status
