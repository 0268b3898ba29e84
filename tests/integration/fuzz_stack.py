"""The three services for schemathesis (``test_api_fuzz.py``): started in schemathesis' own ASGI event loop on
real NATS and databases, seeded with a territory and what hangs off it, and the seeded ids for its generator."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import nats
import requests
from fastapi import FastAPI
from hypothesis import strategies as st
from schemathesis.python import asgi

from services.notifications.bootstrap import bootstrap as notifications
from services.notifications.settings import NotificationsSettings
from services.registry.bootstrap import bootstrap as registry
from services.registry.settings import RegistrySettings
from services.scheduling.bootstrap import bootstrap as scheduling
from services.scheduling.settings import SchedulingSettings
from shared.auth import Role
from tests.conftest import Database, fresh_streams
from tests.integration.registry_stack import ADMIN, MORTAGNE, SECRET, RunningRegistry, mortagne_with_a_conseiller
from tests.integration.services_stack import PARIS

SERVICES = ("registry", "scheduling", "notifications")


@dataclass
class FuzzStack:
    apps: dict[str, FastAPI]
    clients: dict[str, asgi.ASGIClient]
    seeded: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    """Per service, values of records that exist, by the name of the parameter or field that takes them."""
    conseiller_id: str = ""


def start(nats_url: str, data_dir: Path, template: Path, databases: dict[str, Database] | None) -> FuzzStack:
    """The services started in schemathesis' event loop (their lifespan: migrations, NATS, relay, subscribers);
    with ``databases``, each on its own Postgres schema, else on SQLite files (the registry's from ``template``).
    No solver and no sender: the API is what is fuzzed."""
    asyncio.run(_fresh_streams(nats_url))
    common: dict[str, Any] = {"nats_url": nats_url, "data_dir": data_dir, "auth_secret": SECRET}
    if databases is None:
        shutil.copy(template, data_dir / "registry.db")
    settings = {
        "registry": RegistrySettings(**common, **_database(databases, "registry")),
        "scheduling": SchedulingSettings(**common, **_database(databases, "scheduling"), solver_enabled=False),
        "notifications": NotificationsSettings(**common, **_database(databases, "notifications"), sender_enabled=False),
    }
    apps = {
        "registry": registry(cast(RegistrySettings, settings["registry"])).app,
        "scheduling": scheduling(cast(SchedulingSettings, settings["scheduling"])).app,
        "notifications": notifications(cast(NotificationsSettings, settings["notifications"])).app,
    }
    clients = {name: asgi.get_client(cast(asgi.ASGIApp, app)).__enter__() for name, app in apps.items()}
    return FuzzStack(apps, clients)


def stop() -> None:
    asgi.shutdown_lifespans()


def _database(databases: dict[str, Database] | None, name: str) -> dict[str, Any]:
    if databases is None:
        return {}
    return {"database_url": databases[name].url, "database_schema": databases[name].schema}


async def _fresh_streams(nats_url: str) -> None:
    client = await nats.connect(nats_url)
    try:
        await fresh_streams(client)
    finally:
        await client.close()


def ok(client: requests.Session, method: str, path: str, who: dict[str, str] = ADMIN, **kwargs: Any) -> Any:
    response = client.request(method, path, headers=who, **kwargs)
    assert response.status_code < 300, (method, path, response.status_code, response.text)
    return response.json()


def eventually_ok(client: requests.Session, path: str, ready: Any = bool, timeout_s: float = 15) -> Any:
    """GET ``path`` until it answers 200 with a body ``ready`` accepts."""
    end = time.monotonic() + timeout_s
    while True:
        response = client.get(path, headers=ADMIN)
        if response.status_code == 200 and ready(response.json()):
            return response.json()
        if time.monotonic() > end:
            raise AssertionError(f"{path} not ready within {timeout_s} s: {response.status_code} {response.text}")
        time.sleep(0.05)


class _SyncRegistry:
    """``RunningRegistry.ok`` over the stack's synchronous client, for the registry's seeding helpers."""

    def __init__(self, client: requests.Session) -> None:
        self.client = client

    async def ok(self, method: str, path: str, who: dict[str, str] = ADMIN, **kwargs: Any) -> Any:
        return ok(self.client, method, path, who, **kwargs)


def next_monday(today: dt.date | None = None) -> dt.date:
    today = today or dt.datetime.now(PARIS).date()
    return today + dt.timedelta(days=7 - today.weekday())


def seed(stack: FuzzStack) -> None:
    """Mortagne with its EPN, town hall and conseillère (with an absence) and an account in the registry; in
    scheduling, a published plan of next week and a draft of the week after; in notifications, an usager booked on
    one of the published permanences."""
    reg, sch, notif = (stack.clients[name] for name in SERVICES)
    mortagne = asyncio.run(mortagne_with_a_conseiller(cast(RunningRegistry, _SyncRegistry(reg))))
    conseiller, room, mairie, epn = (mortagne[k] for k in ("conseiller", "room", "mairie", "epn"))
    stack.conseiller_id = conseiller["id"]
    monday = next_monday()
    absence = {
        "start_date": (monday + dt.timedelta(days=21)).isoformat(),
        "end_date": (monday + dt.timedelta(days=21)).isoformat(),
    }
    absent = ok(reg, "POST", f"/conseillers/{conseiller['id']}/absences", json=absence)
    account = ok(
        reg, "POST", "/accounts",
        json={"login": "coord.mortagne", "role": Role.COORDINATOR.value, "password": "correct horse battery staple",
              "name": "Coordinatrice", "territories": [MORTAGNE]},
    )  # fmt: skip
    stack.seeded["registry"] = {
        "territory": [MORTAGNE], "code": [MORTAGNE], "insee": ["61293"], "commune": ["61293", "61029"],
        "structure_id": [epn["id"]], "employer_structure_id": [epn["id"]], "lieu_id": [room["id"], mairie["id"]],
        "home_lieu_id": [room["id"]], "conseiller_id": [conseiller["id"]],
        "absence_id": [a["id"] for a in absent["absences"]], "account_id": [account["id"]],
    }  # fmt: skip

    eventually_ok(sch, f"/territories/{MORTAGNE}")
    eventually_ok(sch, "/conseillers", lambda page: any(c["id"] == conseiller["id"] for c in page["items"]))
    published = ok(sch, "POST", "/plans", json=_plan(conseiller["id"], monday))
    ok(sch, "POST", f"/plans/{published['id']}/publish")
    draft = ok(sch, "POST", "/plans", json=_plan(conseiller["id"], monday + dt.timedelta(days=7)))
    solve = ok(sch, "POST", "/plans/solve", json={"territory": MORTAGNE, "week_start": monday.isoformat()})
    stack.seeded["scheduling"] = {
        "territory": [MORTAGNE], "code": [MORTAGNE], "commune": ["61293"], "conseiller_id": [conseiller["id"]],
        "lieu_id": [room["id"]], "plan_id": [published["id"], draft["id"]], "replaces": [published["id"]],
        "permanence_id": [p["id"] for plan in (published, draft) for p in plan["permanences"]],
        "request_id": [solve["id"]], "week_start": [monday.isoformat()],
    }  # fmt: skip

    permanences = eventually_ok(notif, f"/permanences?plan_id={published['id']}")
    usager = ok(notif, "POST", "/usagers", json={"name": "Yvette Morin", "phone": "06 12 34 56 78", "consent": True,
                                                 "territory": MORTAGNE})  # fmt: skip
    booking = ok(notif, "POST", "/bookings", json={"usager_id": usager["id"], "permanence_id": permanences[0]["id"]})
    stack.seeded["notifications"] = {
        "territory": [MORTAGNE], "plan_id": [published["id"]], "permanence_id": [p["id"] for p in permanences],
        "usager_id": [usager["id"]], "booking_id": [booking["id"]],
    }  # fmt: skip


def _plan(conseiller_id: str, monday: dt.date) -> dict[str, Any]:
    def slot(day: int, start: int, end: int) -> dict[str, Any]:
        date = monday + dt.timedelta(days=day)
        return {
            "conseiller_id": conseiller_id, "commune": "61293", "lieu": "EPN de Mortagne-au-Perche",
            "starts_at": dt.datetime.combine(date, dt.time(start), PARIS).isoformat(),
            "ends_at": dt.datetime.combine(date, dt.time(end), PARIS).isoformat(),
        }  # fmt: skip

    return {"territory": MORTAGNE, "week_start": monday.isoformat(), "permanences": [slot(0, 9, 12), slot(1, 14, 17)]}


def sometimes_seeded(values: dict[str, list[Any]], generated: Any) -> st.SearchStrategy[Any]:
    """``generated`` (path parameters, query or body), each value whose name has seeded ``values`` now and then
    one of those, so that requests reach records that exist and not only 404s."""
    if not isinstance(generated, dict):
        return st.just(generated)
    return st.fixed_dictionaries(
        {key: st.sampled_from([value, *values[key]]) if key in values else st.just(value)
         for key, value in generated.items()}
    )  # fmt: skip
