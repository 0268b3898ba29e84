"""The three services in-process on real NATS and SQLite: probes, auth, plans made by hand, the flow."""

from typing import Any

import pytest

from shared.auth import Role
from tests.integration.helpers import eventually
from tests.integration.registry_stack import ADMIN, COORDINATOR, MORTAGNE, OTHER_COORDINATOR, token
from tests.integration.services_stack import MONDAY, registered_conseiller, slot


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
async def test_every_service_refuses_missing_or_wrong_credentials(clients, service, path, headers):
    response = await clients[service].get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_scheduling_and_notifications_refuse_the_conseiller_role(clients):
    conseiller = token(Role.CONSEILLER, subject="00000000-0000-4000-8000-000000000000")
    assert (await clients["scheduling"].get("/conseillers", headers=conseiller)).status_code == 403
    assert (await clients["notifications"].get("/permanences", headers=conseiller)).status_code == 403


async def test_a_plan_needs_known_conseillers_and_a_consistent_week(clients):
    unknown = "00000000-0000-4000-8000-000000000000"
    scheduling = clients["scheduling"]
    body: dict[str, Any] = {
        "territory": MORTAGNE,
        "week_start": MONDAY.isoformat(),
        "permanences": [slot(unknown, 0, 14, 17)],
    }
    response = await scheduling.post("/plans", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "permanences", "0", "conseiller_id"]

    conseiller_id = await registered_conseiller(clients)
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"week_start": "2026-12-01"}, ["body", "week_start"]),
        ({"time_zone": "Mars/Olympus"}, ["body", "time_zone"]),
        ({"permanences": [slot(conseiller_id, 0, 17, 14)]}, ["body", "permanences", "0", "ends_at"]),
        ({"permanences": [slot(conseiller_id, 7, 9, 12)]}, ["body", "permanences", "0", "starts_at"]),
        ({"permanences": [slot(conseiller_id, 0, 9, 12), slot(conseiller_id, 0, 11, 13)]}, ["body", "permanences"]),
    ]
    for overrides, loc in cases:
        response = await scheduling.post("/plans", json={**body, **overrides}, headers=ADMIN)
        assert response.status_code == 422, overrides
        assert response.json()["detail"][0]["loc"] == loc, overrides


async def test_a_coordinator_plans_only_their_territory(clients):
    conseiller_id = await registered_conseiller(clients)
    body = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "permanences": [slot(conseiller_id, 0, 14, 17)]}
    assert (await clients["scheduling"].post("/plans", json=body, headers=OTHER_COORDINATOR)).status_code == 403
    assert (await clients["scheduling"].post("/plans", json=body, headers=COORDINATOR)).status_code == 201


async def test_a_published_plan_reaches_notifications_in_local_time(clients):
    conseiller_id = await registered_conseiller(clients)
    body = {
        "territory": MORTAGNE,
        "week_start": MONDAY.isoformat(),
        "permanences": [slot(conseiller_id, 0, 14, 17), slot(conseiller_id, 1, 9, 12, kind="atelier")],
    }
    plan = (await clients["scheduling"].post("/plans", json=body, headers=COORDINATOR)).json()
    assert plan["status"] == "draft"

    published = await clients["scheduling"].post(f"/plans/{plan['id']}/publish", headers=COORDINATOR)
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    again = await clients["scheduling"].post(f"/plans/{plan['id']}/publish", headers=COORDINATOR)
    assert again.status_code == 409

    async def received():
        items = (
            await clients["notifications"].get("/permanences", params={"plan_id": plan["id"]}, headers=ADMIN)
        ).json()
        return items if len(items) == 2 else None

    items = await eventually(received)
    assert [item["local_start"] for item in items] == ["2026-11-30T14:00:00+01:00", "2026-12-01T09:00:00+01:00"]
    assert [item["kind"] for item in items] == ["permanence", "atelier"]
    assert {(item["commune"], item["commune_name"]) for item in items} == {("61293", "Mortagne-au-Perche")}


async def test_unknown_plans_get_404(clients):
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await clients["scheduling"].get(f"/plans/{missing}", headers=ADMIN)).status_code == 404
    assert (await clients["scheduling"].post(f"/plans/{missing}/publish", headers=ADMIN)).status_code == 404
