"""Notifications alone on a real NATS and a SQLite or Postgres database, fed published plans, for the booking tests."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from services.notifications.bootstrap import Notifications, bootstrap
from services.notifications.settings import NotificationsSettings
from shared.auth import Role, issue_token
from shared.events import Envelope, PlannedPermanence, PlanPublished
from tests.integration.helpers import eventually

SECRET = SecretStr("notifications-tests-secret-0123456789abcdef")
PERCHE = "dep:61"
GUADELOUPE = "dep:971"
CONSEILLER_ID = uuid.uuid4()


def bearer(role: Role, *territories: str, subject: str = "someone") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject=subject, role=role, territories=territories)}"}


ADMIN = bearer(Role.ADMIN, subject="ops")
COORDINATOR_PERCHE = bearer(Role.COORDINATOR, PERCHE, subject="coord-perche")
COORDINATOR_GUADELOUPE = bearer(Role.COORDINATOR, GUADELOUPE, subject="coord-971")
CONSEILLER = bearer(Role.CONSEILLER, subject=str(CONSEILLER_ID))
OTHER_CONSEILLER = bearer(Role.CONSEILLER, subject=str(uuid.uuid4()))


@asynccontextmanager
async def running_notifications(database, nats_url: str, tmp_path, **settings: Any) -> AsyncIterator[Notifications]:
    """Notifications started on the test database and NATS (``settings``: any more of its settings); its sender
    only runs when ``sender_enabled=True`` is given (the sender's tests drive it with a clock of their own)."""
    service = bootstrap(
        NotificationsSettings(
            nats_url=nats_url,
            data_dir=tmp_path,
            database_url=database.url,
            database_schema=database.schema,
            auth_secret=SECRET,
            relay_interval_s=0.05,
            **{"sender_enabled": False, **settings},
        )
    )
    await service.runtime.start()
    try:
        yield service
    finally:
        await service.runtime.stop()


@pytest.fixture
async def notifications(database, nats_url, nc, tmp_path) -> AsyncIterator[Notifications]:
    async with running_notifications(database, nats_url, tmp_path) as service:
        yield service


@pytest.fixture
async def api(notifications) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=notifications.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as client:
        yield client


def planned(
    kind: str = "permanence",
    *,
    starts_in: dt.timedelta = dt.timedelta(days=2),
    hours: float = 2,
    seats: int | None = None,
    conseiller_id: uuid.UUID = CONSEILLER_ID,
    lieu: str = "EPN de Mortagne-au-Perche",
) -> PlannedPermanence:
    starts_at = dt.datetime.now(dt.UTC).replace(microsecond=0) + starts_in
    return PlannedPermanence(
        permanence_id=uuid.uuid4(),
        conseiller_id=conseiller_id,
        commune="61293",
        commune_name="Mortagne-au-Perche",
        lieu=lieu,
        kind=kind,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=hours),
        time_zone="Europe/Paris",
        seats=seats,
    )


async def published(nc, api: httpx.AsyncClient, *permanences: PlannedPermanence, territory: str = PERCHE) -> None:
    """Publish a plan as scheduling's relay does, and wait until notifications has copied it."""
    event = PlanPublished(
        plan_id=uuid.uuid4(), territory=territory, week_start=dt.date(2026, 11, 30), permanences=list(permanences)
    )
    envelope = Envelope.wrap(event, producer="scheduling")
    await nc.jetstream().publish(event.subject, envelope.to_bytes(), headers={"Nats-Msg-Id": str(envelope.event_id)})

    async def copied() -> bool:
        answer = await api.get("/permanences", params={"plan_id": str(event.plan_id)}, headers=ADMIN)
        return answer.status_code == 200 and len(answer.json()) == len(permanences)

    await eventually(copied)


async def registered(api: httpx.AsyncClient, headers: dict[str, str] = ADMIN, **overrides: Any) -> dict[str, Any]:
    body = {"name": "Yvette Morin", "phone": "06 12 34 56 78", "consent": True, "territory": PERCHE, **overrides}
    answer = await api.post("/usagers", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    usager: dict[str, Any] = answer.json()
    return usager
