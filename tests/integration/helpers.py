"""Small helpers for the integration tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.registry.domain.commands import RegisterConseiller
from services.registry.service_layer import handlers as registry_handlers
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.db import session_factory


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


async def register(engine: AsyncEngine, name: str = "Camille Lefèvre", home: str = "61293") -> Any:
    uow = RegistryUnitOfWork(session_factory(engine))
    return await registry_handlers.register_conseiller(
        RegisterConseiller(name=name, home_commune=home, weekly_hours=35), uow
    )
