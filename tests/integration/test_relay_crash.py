"""A relay killed with SIGKILL at the worst moments still yields exactly one delivery downstream."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest
from faststream.nats import NatsBroker
from sqlalchemy import select

from services.registry.adapters import orm as registry_orm
from services.registry.bootstrap import MIGRATIONS as REGISTRY_MIGRATIONS
from services.scheduling.adapters import orm as scheduling_orm
from services.scheduling.bootstrap import MIGRATIONS as SCHEDULING_MIGRATIONS
from services.scheduling.entrypoints import consumers as scheduling_consumers
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from shared.db import session_factory
from shared.messaging import ConsumerPolicy
from shared.migrations import upgrade
from tests.integration.helpers import count, eventually, register, seed_commune


async def run_relay_process(database, nats_url: str, mode: str) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.relay_process",
        database.url, database.schema or "", nats_url, mode,
    )  # fmt: skip
    return await asyncio.wait_for(process.wait(), 60)


@pytest.mark.parametrize("moment", ["kill-before-publish", "kill-after-publish"])
async def test_relay_killed_mid_flight_delivers_the_event_exactly_once(moment, database, other_database, nats_url, nc):
    registry = database.engine()
    await upgrade(registry, REGISTRY_MIGRATIONS)
    await seed_commune(registry)
    structure = await register(registry)

    assert await run_relay_process(database, nats_url, moment) == -signal.SIGKILL
    published_before_restart = (await nc.jetstream().stream_info("REGISTRY")).state.messages
    assert published_before_restart == (0 if moment == "kill-before-publish" else 1)
    async with registry.connect() as conn:
        assert (await conn.execute(select(registry_orm.outbox.c.published_at))).scalar_one() is None

    assert await run_relay_process(database, nats_url, "run") == 0
    async with registry.connect() as conn:
        assert (await conn.execute(select(registry_orm.outbox.c.published_at))).scalar_one() is not None
    assert (await nc.jetstream().stream_info("REGISTRY")).state.messages == 1

    scheduling = other_database.engine()
    await upgrade(scheduling, SCHEDULING_MIGRATIONS)
    broker = NatsBroker(nats_url)
    policy = ConsumerPolicy(max_deliver=3, base_delay_s=0.05)
    broker.include_router(
        scheduling_consumers.router(lambda: SchedulingUnitOfWork(session_factory(scheduling)), policy)
    )
    await broker.start()
    try:
        await eventually(lambda: count(scheduling, scheduling_orm.inbox))
        await asyncio.sleep(0.3)  # room for a second delivery, were there one
        async with scheduling.connect() as conn:
            ids = (await conn.execute(select(scheduling_orm.structures.c.structure_id))).scalars().all()
        assert ids == [structure.id]
        assert await count(scheduling, scheduling_orm.inbox) == 1
        info = await nc.jetstream().consumer_info("REGISTRY", "scheduling-registry")
        assert info.delivered.stream_seq == 1
        assert info.num_ack_pending == 0
    finally:
        await broker.stop()
        await scheduling.dispose()
        await registry.dispose()
