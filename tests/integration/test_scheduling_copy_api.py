"""Scheduling's API over its copy of the registry: listings, scopes of roles, plans made by hand."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from services.scheduling.bootstrap import bootstrap
from services.scheduling.settings import SchedulingSettings
from shared.auth import Role, issue_token
from tests.integration.registry_history import CAMILLE, HISTORY, JULES, MONDAY, MORTAGNE, PERCHE, SUD
from tests.integration.test_scheduling_copy import applied_up_to, publish

SECRET = SecretStr("scheduling-tests-secret-0123456789abcdef")


def bearer(role: Role, *territories: str, subject: str = "someone") -> dict[str, str]:
    token = issue_token(SECRET, subject=subject, role=role, territories=territories)
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(Role.ADMIN, subject="ops")
COORDINATOR_PERCHE = bearer(Role.COORDINATOR, PERCHE, subject="coord-perche")
COORDINATOR_SUD = bearer(Role.COORDINATOR, SUD, subject="coord-sud")
COORDINATOR_BOTH = bearer(Role.COORDINATOR, PERCHE, SUD, subject="coord-both")
CONSEILLER = bearer(Role.CONSEILLER, subject=str(CAMILLE))


@pytest.fixture
async def api(database, nats_url, nc, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    """Scheduling as it runs (migrations, consumer, routes), on a copy rebuilt from the whole history."""
    for step in HISTORY:
        for event in step.events:
            sequence = await publish(nc, event)
    settings = SchedulingSettings(
        nats_url=nats_url,
        data_dir=tmp_path,
        database_url=database.url,
        database_schema=database.schema,
        auth_secret=SECRET,
        relay_interval_s=0.05,
    )
    service = bootstrap(settings)
    await service.runtime.start()
    try:
        await applied_up_to(nc, sequence)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url="http://test") as client:
            yield client
    finally:
        await service.runtime.stop()


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] >= len(page["items"])
    return [item["name"] for item in page["items"]]


async def test_admins_list_the_copy_with_filters_and_pages(api):
    assert names(await api.get("/conseillers", headers=ADMIN)) == ["Ana Payet", "Camille Lefèvre"]
    everyone = await api.get("/conseillers", params={"include_archived": True}, headers=ADMIN)
    assert names(everyone) == ["Ana Payet", "Camille Lefèvre", "Jules Martin"]
    assert names(await api.get("/conseillers", params={"territory": "dep:61"}, headers=ADMIN)) == ["Camille Lefèvre"]
    page = await api.get("/conseillers", params={"include_archived": True, "limit": 1, "offset": 1}, headers=ADMIN)
    assert names(page) == ["Camille Lefèvre"]
    assert (page.json()["total"], page.json()["limit"], page.json()["offset"]) == (3, 1, 1)
    camille = page.json()["items"][0]
    assert camille["id"] == str(CAMILLE)
    assert camille["availability"][-1] == {"weekday": 5, "half": "am", "every_weeks": 2, "from_date": "2026-12-05"}
    assert camille["territories"] == [PERCHE, "dep:61"]

    assert names(await api.get("/lieux", headers=ADMIN)) == ["EPN", "Mairie de Bazoches", "Relais solidarité"]
    with_closed = await api.get("/lieux", params={"include_closed": True, "territory": PERCHE}, headers=ADMIN)
    assert names(with_closed) == ["EPN", "Salle des fêtes"]  # Bazoches left the territory when it was redefined
    assert with_closed.json()["items"][1]["closed"] is True
    assert names(await api.get("/lieux", params={"commune": "97422"}, headers=ADMIN)) == ["Relais solidarité"]
    assert names(await api.get("/lieux", params={"limit": 2, "offset": 2}, headers=ADMIN)) == ["Relais solidarité"]

    perche = await api.get(f"/territories/{PERCHE}", headers=ADMIN)
    assert perche.status_code == 200
    body = perche.json()
    assert (body["name"], body["time_zone"]) == ("CC du Pays de Mortagne au Perche", "Europe/Paris")
    assert [c["insee"] for c in body["communes"]] == ["61097", "61293", "61327"]
    assert body["communes"][1] == MORTAGNE.model_dump()
    assert (await api.get("/territories/epci:200000000", headers=ADMIN)).status_code == 404


@pytest.mark.parametrize(
    ("params", "status"),
    [({"limit": 0}, 422), ({"limit": 501}, 422), ({"offset": -1}, 422), ({"territory": "nowhere"}, 422)],
)
async def test_bad_listing_parameters_get_422_naming_them(api, params, status):
    response = await api.get("/conseillers", params=params, headers=ADMIN)
    assert response.status_code == status
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(params))]


async def test_coordinators_see_only_their_territories(api):
    assert names(await api.get("/conseillers", headers=COORDINATOR_PERCHE)) == ["Camille Lefèvre"]
    assert names(await api.get("/conseillers", headers=COORDINATOR_SUD)) == ["Ana Payet"]
    assert names(await api.get("/conseillers", headers=COORDINATOR_BOTH)) == ["Ana Payet", "Camille Lefèvre"]
    perche_only = await api.get("/conseillers", params={"territory": PERCHE}, headers=COORDINATOR_BOTH)
    assert names(perche_only) == ["Camille Lefèvre"]
    assert names(await api.get("/lieux", headers=COORDINATOR_PERCHE)) == ["EPN"]
    assert names(await api.get("/lieux", headers=COORDINATOR_SUD)) == ["Relais solidarité"]
    assert names(await api.get("/lieux", params={"commune": "97422"}, headers=COORDINATOR_PERCHE)) == []
    assert (await api.get(f"/territories/{PERCHE}", headers=COORDINATOR_PERCHE)).status_code == 200

    for path, params in [
        ("/conseillers", {"territory": SUD}),
        ("/lieux", {"territory": SUD}),
        (f"/territories/{SUD}", {}),
        ("/territories/epci:200000000", {}),  # not theirs, known or not
    ]:
        response = await api.get(path, params=params, headers=COORDINATOR_PERCHE)
        assert response.status_code == 403, path


@pytest.mark.parametrize(
    ("path", "params"),
    [("/conseillers", {}), ("/lieux", {}), (f"/territories/{PERCHE}", {}), ("/conseillers", {"territory": PERCHE})],
)
async def test_conseillers_are_refused_and_strangers_must_authenticate(api, path, params):
    assert (await api.get(path, params=params, headers=CONSEILLER)).status_code == 403
    expired = issue_token(SECRET, subject="ops", role=Role.ADMIN, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    forged = issue_token(SecretStr("another-secret-0123456789abcdef-xyz"), subject="ops", role=Role.ADMIN)
    for headers in [{}, {"Authorization": f"Bearer {expired}"}, {"Authorization": f"Bearer {forged}"}]:
        response = await api.get(path, params=params, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def slot(conseiller_id: uuid.UUID, day: int, start: int, end: int) -> dict[str, Any]:
    date = MONDAY + dt.timedelta(days=day)
    paris = dt.timezone(dt.timedelta(hours=1))  # Paris in winter
    return {
        "conseiller_id": str(conseiller_id),
        "commune": "61293",
        "lieu": "EPN",
        "starts_at": dt.datetime.combine(date, dt.time(start), paris).isoformat(),
        "ends_at": dt.datetime.combine(date, dt.time(end), paris).isoformat(),
    }


async def test_plans_are_for_coordinators_of_their_territory_and_known_active_conseillers(api):
    body = {"territory": PERCHE, "week_start": MONDAY.isoformat(), "permanences": [slot(CAMILLE, 0, 14, 17)]}
    for headers, status in [(CONSEILLER, 403), (COORDINATOR_SUD, 403), ({}, 401)]:
        assert (await api.post("/plans", json=body, headers=headers)).status_code == status

    for permanences, message in [
        ([slot(JULES, 0, 14, 17)], "archived"),
        ([slot(uuid.uuid4(), 0, 14, 17)], "unknown conseiller"),
    ]:
        refused = await api.post("/plans", json={**body, "permanences": permanences}, headers=COORDINATOR_PERCHE)
        assert refused.status_code == 422
        [error] = refused.json()["detail"]
        assert error["loc"] == ["body", "permanences", "0", "conseiller_id"]
        assert message in error["msg"]

    drafted = await api.post("/plans", json=body, headers=COORDINATOR_PERCHE)
    assert drafted.status_code == 201, drafted.text
    plan_id = drafted.json()["id"]
    for headers, status in [(COORDINATOR_SUD, 403), (CONSEILLER, 403), (ADMIN, 200), (COORDINATOR_PERCHE, 200)]:
        assert (await api.get(f"/plans/{plan_id}", headers=headers)).status_code == status
    for headers, status in [(COORDINATOR_SUD, 403), (CONSEILLER, 403), (COORDINATOR_PERCHE, 200)]:
        assert (await api.post(f"/plans/{plan_id}/publish", headers=headers)).status_code == status
    assert (await api.post(f"/plans/{plan_id}/publish", headers=ADMIN)).status_code == 409
    assert (await api.get(f"/plans/{uuid.uuid4()}", headers=ADMIN)).status_code == 404
