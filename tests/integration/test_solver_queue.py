"""The solver's work queue: scheduling replicas share solve requests through JetStream, one solve
per territory at a time, and a replica that dies mid-solve is replaced once its lease expires."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, update

from services.registry.bootstrap import bootstrap as registry
from services.registry.settings import RegistrySettings
from services.scheduling.adapters import orm
from services.scheduling.bootstrap import Scheduling
from services.scheduling.bootstrap import bootstrap as scheduling
from services.scheduling.domain.solves import SolveKind, SolveStatus
from services.scheduling.service_layer import planning, solve_requests
from services.scheduling.service_layer.solve_requests import RequestSolve
from services.scheduling.service_layer.solver import Outcome, Solver, SolverSettings
from services.scheduling.settings import SchedulingSettings
from tests.integration.helpers import eventually
from tests.integration.registry_stack import ADMIN, COORDINATOR, MORTAGNE, SECRET
from tests.integration.services_stack import MONDAY, _ok, finished, registered_conseiller

LEASE_S = 3.0


@dataclass
class Replicas:
    clients: dict[str, httpx.AsyncClient]
    """``registry``, and ``scheduling`` (the first replica's API: they share one database)."""
    replicas: list[Scheduling]


@pytest.fixture
async def replicas(template, nats_url, nc, tmp_path) -> AsyncIterator[Replicas]:
    shutil.copy(template, tmp_path / "registry.db")
    common: dict[str, Any] = {"nats_url": nats_url, "data_dir": tmp_path, "auth_secret": SECRET}
    registry_service = registry(RegistrySettings(**common, relay_interval_s=0.05))
    # Two replicas of scheduling: one database, one NATS, the same durable consumers.
    replicas = [
        scheduling(SchedulingSettings(**common, relay_interval_s=0.05, solver_lease_s=LEASE_S, solver_name=name))
        for name in ("replica-a", "replica-b")
    ]
    services: list[Any] = [registry_service, *replicas]
    for service in services:
        await service.runtime.start()
    clients = {
        "registry": httpx.AsyncClient(transport=httpx.ASGITransport(app=registry_service.app), base_url="http://r"),
        "scheduling": httpx.AsyncClient(transport=httpx.ASGITransport(app=replicas[0].app), base_url="http://s"),
    }
    try:
        await registered_conseiller(clients)
        await eventually(lambda: _ok(clients["scheduling"].get(f"/territories/{MORTAGNE}", headers=ADMIN)))
        yield Replicas(clients, replicas)
    finally:
        for client in clients.values():
            await client.aclose()
        for service in reversed(services):
            await service.runtime.stop()


def week(n: int) -> dict[str, Any]:
    monday = MONDAY + dt.timedelta(weeks=n)
    return {"territory": MORTAGNE, "week_start": monday.isoformat(), "days": 5, "time_limit_s": 5}


async def test_replicas_share_the_queue_and_never_solve_one_territory_twice_at_once(replicas):
    api = replicas.clients["scheduling"]
    asked = await asyncio.gather(*(api.post("/plans/solve", json=week(n), headers=COORDINATOR) for n in range(6)))
    done = [await finished(api, response, COORDINATOR) for response in asked]

    assert [r["status"] for r in done] == ["done"] * 6, [r["error"] for r in done]
    assert [r["attempts"] for r in done] == [1] * 6
    assert {r["worker"] for r in done} <= {"replica-a", "replica-b"}
    assert all(r["progress"]["solutions"] >= 1 and r["progress"]["gap"] == 0 for r in done)
    runs = sorted(
        (dt.datetime.fromisoformat(r["started_at"]), dt.datetime.fromisoformat(r["finished_at"])) for r in done
    )
    for (_, ended), (started, _) in itertools.pairwise(runs):
        assert started >= ended, "two solves of one territory overlapped"
    plans = (await api.get("/plans", params={"territory": MORTAGNE}, headers=COORDINATOR)).json()
    assert plans["total"] == 6
    assert sorted(p["id"] for p in plans["items"]) == sorted(r["plan_id"] for r in done)


async def test_a_request_waits_while_its_territory_is_leased_then_is_solved(replicas):
    """A lease held by another replica (alive: it is not expired) holds the request back."""
    engine = replicas.replicas[0].runtime.engine
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    async with engine.begin() as conn:
        await conn.execute(
            insert(orm.solver_leases).values(
                territory=MORTAGNE, request_id=uuid.uuid4(), holder="busy:1", expires_at=until
            )
        )
    api = replicas.clients["scheduling"]
    response = await api.post("/plans/solve", json=week(0), headers=COORDINATOR)
    request = await finished(api, response, COORDINATOR)
    assert request["status"] == "done"
    assert dt.datetime.fromisoformat(request["started_at"]) >= until


async def test_a_replica_that_dies_mid_solve_is_replaced_once_its_lease_expires(replicas):
    engine = replicas.replicas[0].runtime.engine
    api = replicas.clients["scheduling"]
    request_id = str(uuid.uuid4())
    # Hold the territory first, as a replica about to die would, so that no live replica starts it.
    dead_until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=LEASE_S)
    async with engine.begin() as conn:
        await conn.execute(
            insert(orm.solver_leases).values(
                territory=MORTAGNE, request_id=uuid.UUID(request_id), holder="dead:1", expires_at=dead_until
            )
        )
    response = await api.post("/plans/solve", json={**week(1), "request_id": request_id}, headers=COORDINATOR)
    assert response.status_code == 202
    # ... it started the solve, then died: the request stays "running", attempt 1, by the dead replica.
    async with engine.begin() as conn:
        await conn.execute(
            update(orm.solve_requests)
            .where(orm.solve_requests.c.id == uuid.UUID(request_id))
            .values(status="running", attempts=1, worker="dead:1", started_at=dt.datetime.now(dt.UTC))
        )
    running = (await api.get(f"/solves/{request_id}", headers=COORDINATOR)).json()
    assert (running["status"], running["worker"]) == ("running", "dead:1")

    request = await finished(api, response, COORDINATOR)
    assert (request["status"], request["attempts"]) == ("done", 2)
    assert request["worker"] != "dead:1"
    assert dt.datetime.fromisoformat(request["started_at"]) >= dead_until
    assert (await api.get(f"/plans/{request_id}", headers=COORDINATOR)).status_code == 200


async def test_progress_is_visible_while_a_solve_runs(replicas):
    """A third solver (the test) holds the territory, so the replicas leave the request to it."""
    request_id = uuid.uuid4()
    uow = replicas.replicas[0].uow
    async with uow() as work:
        assert await work.leases.take(MORTAGNE, request_id, "probe", dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
        await work.commit()
    params = planning.SolvePlan(MORTAGNE, MONDAY, 5, 5).parameters()
    await solve_requests.request_solve(RequestSolve(SolveKind.PLAN, MORTAGNE, params, request_id), uow())
    seen = []

    async def keep_alive() -> None:  # called at each heartbeat, after the progress is written
        seen.append(await solve_requests.get_request(request_id, uow()))

    probe = Solver(uow, SolverSettings(holder="probe", heartbeat_s=0.01))
    assert await probe.work_on(request_id, keep_alive) is Outcome.FINISHED
    assert any(r.status is SolveStatus.RUNNING and r.worker == "probe" for r in seen)
    assert [r.attempts for r in seen] == [1] * len(seen)
    done = await solve_requests.get_request(request_id, uow())
    assert done.status is SolveStatus.DONE
    assert done.progress is not None
    assert done.result is not None
    assert done.progress["solutions"] >= 1
    assert done.progress["objective"] == pytest.approx(done.result["objective"])

    api = replicas.clients["scheduling"]
    listing = (await api.get("/solves", params={"territory": MORTAGNE, "status": "done"}, headers=COORDINATOR)).json()
    assert [r["id"] for r in listing["items"]] == [str(request_id)]
    assert (await api.get(f"/solves/{uuid.uuid4()}", headers=COORDINATOR)).status_code == 404


async def test_a_replan_of_a_replaced_plan_is_refused_at_once(replicas):
    api = replicas.clients["scheduling"]
    request = await finished(api, await api.post("/plans/solve", json=week(2), headers=COORDINATOR), COORDINATOR)
    plan_id = request["plan_id"]
    assert (await api.post(f"/plans/{plan_id}/publish", headers=COORDINATOR)).status_code == 200
    asked = await api.post(f"/plans/{plan_id}/replan", json={"reason": "x"}, headers=COORDINATOR)
    replan = await finished(api, asked, COORDINATOR)
    assert (await api.post(f"/plans/{replan['plan_id']}/publish", headers=COORDINATOR)).status_code == 200
    refused = await api.post(f"/plans/{plan_id}/replan", json={"reason": "x"}, headers=COORDINATOR)
    assert refused.status_code == 409
    assert "replaced" in refused.json()["detail"]
    assert (await api.get("/solves", headers=COORDINATOR)).json()["total"] == 2
