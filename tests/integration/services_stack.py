"""The three services in-process on real NATS and SQLite, for the API tests."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
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
from tests.integration.registry_stack import (
    ADMIN,
    SECRET,
    RunningRegistry,
    mortagne_with_a_conseiller,
    template_database,
)

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2026, 11, 30)


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    return template_database(tmp_path_factory.mktemp("registry-template"))


@contextlib.asynccontextmanager
async def running_services(
    template: Path, nats_url: str, tmp_path: Path, *, common: dict[str, Any], **own: dict[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    """The three services started in-process (the registry on a copy of ``template``), with ``common`` settings
    for all and ``own[name]`` for one; stopped after."""
    shutil.copy(template, tmp_path / "registry.db")
    base = {"nats_url": nats_url, "data_dir": tmp_path, "auth_secret": SECRET, "relay_interval_s": 0.05, **common}
    services: dict[str, Any] = {
        "registry": registry(RegistrySettings(**base, **own.get("registry", {}))),
        "scheduling": scheduling(SchedulingSettings(**base, **own.get("scheduling", {}))),
        "notifications": notifications(NotificationsSettings(**base, **own.get("notifications", {}))),
    }
    for service in services.values():
        await service.runtime.start()
    try:
        yield services
    finally:
        for service in services.values():
            await service.runtime.stop()


@pytest.fixture
async def clients(template, nats_url, nc, tmp_path) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    async with running_services(template, nats_url, tmp_path, common={"metrics_interval_s": 0.1}) as services:
        clients = {
            name: httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url=f"http://{name}")
            for name, service in services.items()
        }
        try:
            yield clients
        finally:
            for client in clients.values():
                await client.aclose()


def slot(conseiller_id: str, day: int, start: int, end: int, **overrides: Any) -> dict[str, Any]:
    date = MONDAY + dt.timedelta(days=day)
    return {
        "conseiller_id": conseiller_id,
        "commune": "61293",
        "lieu": "EPN de Mortagne-au-Perche",
        "starts_at": dt.datetime.combine(date, dt.time(start), PARIS).isoformat(),
        "ends_at": dt.datetime.combine(date, dt.time(end), PARIS).isoformat(),
        **overrides,
    }


async def registered_conseiller(clients) -> str:
    """Mortagne set up in the registry, and its conseiller in scheduling's copy."""
    setup = await mortagne_with_a_conseiller(RunningRegistry(None, clients["registry"]))
    conseiller_id: str = setup["conseiller"]["id"]

    async def copied():
        listing = (await clients["scheduling"].get("/conseillers", headers=ADMIN)).json()["items"]
        return any(c["id"] == conseiller_id for c in listing)

    await eventually(copied)
    return conseiller_id


async def _ok(request) -> bool:
    return (await request).status_code == 200


async def finished(client: httpx.AsyncClient, response: httpx.Response, headers: dict[str, str]) -> dict[str, Any]:
    """The solve request ``response`` answered with (202), once the solver has finished it."""
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    for _ in range(6):
        request: dict[str, Any] = (await client.get(location, params={"wait": 30}, headers=headers)).json()
        if request["status"] in ("done", "failed"):
            return request
    raise AssertionError(f"solve {location} still {request['status']} after 3 minutes")


async def solved_plan(client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """Ask for a plan, wait for the solver, and read the draft."""
    request = await finished(client, await client.post("/plans/solve", json=body, headers=headers), headers)
    assert request["status"] == "done", request
    plan: dict[str, Any] = (await client.get(f"/plans/{request['plan_id']}", headers=headers)).json()
    return plan
