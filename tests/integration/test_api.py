"""The services' HTTP APIs, in-process, on real NATS and SQLite: auth, validation, probes, flow."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.notifications.bootstrap import bootstrap as notifications
from services.notifications.settings import NotificationsSettings
from services.registry.bootstrap import bootstrap as registry
from services.registry.settings import RegistrySettings
from services.scheduling.bootstrap import bootstrap as scheduling
from services.scheduling.settings import SchedulingSettings
from tests.integration.helpers import eventually

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2026, 11, 30)


@pytest.fixture
async def clients(nats_url, nc, tmp_path) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    common: dict[str, Any] = {
        "nats_url": nats_url,
        "data_dir": tmp_path,
        "api_token": TOKEN,
        "relay_interval_s": 0.05,
    }
    services: dict[str, Any] = {
        "registry": registry(RegistrySettings(**common)),
        "scheduling": scheduling(SchedulingSettings(**common)),
        "notifications": notifications(NotificationsSettings(**common)),
    }
    for service in services.values():
        await service.runtime.start()
    clients = {
        name: httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url="http://test")
        for name, service in services.items()
    }
    try:
        yield clients
    finally:
        for name, service in services.items():
            await clients[name].aclose()
            await service.runtime.stop()


async def register(clients, **overrides):
    body = {"name": "Camille Lefèvre", "home_commune": "61293", "weekly_hours": 35, **overrides}
    return await clients["registry"].post("/conseillers", json=body, headers=AUTH)


def slot(conseiller_id: str, day: int, start: int, end: int, **overrides):
    date = MONDAY + dt.timedelta(days=day)
    return {
        "conseiller_id": conseiller_id,
        "commune": "61293",
        "lieu": "EPN de Mortagne-au-Perche",
        "starts_at": dt.datetime.combine(date, dt.time(start), PARIS).isoformat(),
        "ends_at": dt.datetime.combine(date, dt.time(end), PARIS).isoformat(),
        **overrides,
    }


async def copied_conseiller(clients, conseiller_id: str) -> None:
    async def known():
        listing = (await clients["scheduling"].get("/conseillers", headers=AUTH)).json()
        return any(c["id"] == conseiller_id for c in listing)

    await eventually(known)


async def test_probes_answer_without_credentials(clients):
    for client in clients.values():
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "nats": "ok"}


@pytest.mark.parametrize(
    ("service", "path"),
    [("registry", "/conseillers"), ("scheduling", "/conseillers"), ("notifications", "/permanences")],
)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eA=="}])
async def test_every_route_refuses_missing_or_wrong_credentials(clients, service, path, headers):
    response = await clients[service].get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"home_commune": "6129"}, "home_commune"),
        ({"name": "   "}, "name"),
        ({"weekly_hours": 0}, "weekly_hours"),
        ({"weekly_hours": "lots"}, "weekly_hours"),
        ({"unknown": 1}, "unknown"),
    ],
)
async def test_bad_conseiller_input_gets_422_naming_the_field(clients, overrides, field):
    response = await register(clients, **overrides)
    assert response.status_code == 422
    assert field in {str(part) for error in response.json()["detail"] for part in error["loc"]}


async def test_a_plan_needs_known_conseillers_and_a_consistent_week(clients):
    unknown = "00000000-0000-4000-8000-000000000000"
    scheduling = clients["scheduling"]
    body = {
        "territory": "epci:200036069",
        "week_start": MONDAY.isoformat(),
        "permanences": [slot(unknown, 0, 14, 17)],
    }
    response = await scheduling.post("/plans", json=body, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "permanences", "0", "conseiller_id"]

    conseiller_id = (await register(clients)).json()["id"]
    await copied_conseiller(clients, conseiller_id)
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"week_start": "2026-12-01"}, ["body", "week_start"]),
        ({"time_zone": "Mars/Olympus"}, ["body", "time_zone"]),
        ({"permanences": [slot(conseiller_id, 0, 17, 14)]}, ["body", "permanences", "0", "ends_at"]),
        ({"permanences": [slot(conseiller_id, 7, 9, 12)]}, ["body", "permanences", "0", "starts_at"]),
        (
            {"permanences": [slot(conseiller_id, 0, 9, 12), slot(conseiller_id, 0, 11, 13)]},
            ["body", "permanences"],
        ),
    ]
    for overrides, loc in cases:
        response = await scheduling.post("/plans", json={**body, **overrides}, headers=AUTH)
        assert response.status_code == 422, overrides
        assert response.json()["detail"][0]["loc"] == loc, overrides


async def test_a_published_plan_reaches_notifications_in_local_time(clients):
    conseiller_id = (await register(clients)).json()["id"]
    assert (await clients["registry"].get(f"/conseillers/{conseiller_id}", headers=AUTH)).status_code == 200
    await copied_conseiller(clients, conseiller_id)
    body = {
        "territory": "epci:200036069",
        "week_start": MONDAY.isoformat(),
        "permanences": [slot(conseiller_id, 0, 14, 17), slot(conseiller_id, 1, 9, 12, kind="atelier")],
    }
    plan = (await clients["scheduling"].post("/plans", json=body, headers=AUTH)).json()
    assert plan["status"] == "draft"

    published = await clients["scheduling"].post(f"/plans/{plan['id']}/publish", headers=AUTH)
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    again = await clients["scheduling"].post(f"/plans/{plan['id']}/publish", headers=AUTH)
    assert again.status_code == 409

    async def received():
        items = (
            await clients["notifications"].get("/permanences", params={"plan_id": plan["id"]}, headers=AUTH)
        ).json()
        return items if len(items) == 2 else None

    items = await eventually(received)
    assert [item["local_start"] for item in items] == [
        "2026-11-30T14:00:00+01:00",
        "2026-12-01T09:00:00+01:00",
    ]
    assert [item["kind"] for item in items] == ["permanence", "atelier"]


async def test_unknown_resources_get_404(clients):
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await clients["registry"].get(f"/conseillers/{missing}", headers=AUTH)).status_code == 404
    assert (await clients["scheduling"].get(f"/plans/{missing}", headers=AUTH)).status_code == 404
    assert (await clients["scheduling"].post(f"/plans/{missing}/publish", headers=AUTH)).status_code == 404
