"""Small helpers for the integration tests."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.registry.adapters.orm import communes
from services.registry.domain.commands import RegisterStructure
from services.registry.service_layer import handlers as registry_handlers
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.auth import Principal, Role
from shared.db import session_factory

ADMIN = Principal("tests", Role.ADMIN)


async def eventually(check: Callable[[], Awaitable[Any]], timeout_s: float = 15.0) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s (last: {result!r})")
        await asyncio.sleep(0.05)


async def count(engine: AsyncEngine, table: Table, *where: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


async def seed_commune(engine: AsyncEngine) -> None:
    """Mortagne-au-Perche alone in the registry's communes (the full load is tested elsewhere)."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(communes).values(
                insee="61293", name="Mortagne-au-Perche", population=3818, departement="61", region="28",
                epci_siren="200036069", epci_name="CC du Pays de Mortagne au Perche",
            )
        )  # fmt: skip


async def register(engine: AsyncEngine, name: str = "EPN de Mortagne-au-Perche") -> Any:
    """A registry change with its event: a structure registered (the commune must be seeded)."""
    uow = RegistryUnitOfWork(session_factory(engine))
    data = {"name": name, "kind": "epn", "commune": "61293", "address": "", "latitude": None, "longitude": None}
    return await registry_handlers.register_structure(RegisterStructure(data), uow, ADMIN)


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a text exposition, or None when it is absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.compile(rf"^{re.escape(name)}(\{{(?P<labels>[^}}]*)\}})? (?P<value>\S+)$", re.MULTILINE)
    for match in pattern.finditer(text):
        found = ",".join(sorted((match.group("labels") or "").split(","))) if match.group("labels") else ""
        if found == wanted:
            return float(match.group("value"))
    return None


async def metrics_text(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")  # no credentials, like /healthz
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text
