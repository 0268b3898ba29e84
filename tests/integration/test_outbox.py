"""The transactional outbox and the inbox, against real SQLite, Postgres and NATS."""

from __future__ import annotations

import asyncio
import json
import uuid

import nats
import pytest
from sqlalchemy import select, update

from services.registry.adapters import orm as registry_orm
from services.registry.bootstrap import MIGRATIONS as REGISTRY_MIGRATIONS
from services.registry.domain.places import Structure
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from services.scheduling.adapters import orm as scheduling_orm
from services.scheduling.bootstrap import MIGRATIONS as SCHEDULING_MIGRATIONS
from services.scheduling.service_layer.registry_copy import REGISTRY_CONSUMER, apply_registry_event
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from shared.db import session_factory
from shared.events import DemandChanged, Envelope, StructureRegistered
from shared.migrations import upgrade
from shared.outbox import OutboxRelay
from tests.integration.helpers import count, register, seed_commune

SUBJECT = StructureRegistered.subject


@pytest.fixture
async def registry_engine(database):
    engine = database.engine()
    await upgrade(engine, REGISTRY_MIGRATIONS)
    await seed_commune(engine)
    yield engine
    await engine.dispose()


async def test_state_change_and_its_event_commit_together(registry_engine):
    structure = await register(registry_engine)

    assert await count(registry_engine, registry_orm.structures) == 1
    async with registry_engine.connect() as conn:
        row = (await conn.execute(select(registry_orm.outbox))).one()
    assert row.subject == SUBJECT
    assert row.published_at is None
    envelope = Envelope.model_validate_json(row.payload)
    assert envelope.event_id == row.event_id
    assert envelope.producer == "registry"
    assert envelope.data["structure_id"] == str(structure.id)


async def test_a_unit_that_fails_leaves_neither_state_nor_event(registry_engine):
    async def add_then(structure_id: uuid.UUID, commit: bool) -> None:
        async with RegistryUnitOfWork(session_factory(registry_engine)) as uow:
            structure = Structure.register(
                structure_id, name="CCAS", kind="ccas", commune="61293", address="", latitude=None, longitude=None
            )
            await uow.structures.add(structure)
            if not commit:
                raise RuntimeError("crash before commit")
            await uow.commit()

    with pytest.raises(RuntimeError):
        await add_then(uuid.uuid4(), commit=False)
    taken = await register(registry_engine)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await add_then(taken.id, commit=True)

    assert await count(registry_engine, registry_orm.structures) == 1
    assert await count(registry_engine, registry_orm.outbox) == 1


async def test_relay_publishes_with_event_id_as_msg_id_then_marks_sent(registry_engine, nc):
    js = nc.jetstream()
    await register(registry_engine)
    relay = OutboxRelay(registry_engine, registry_orm.outbox, js)

    assert await relay.run_once() == 1
    assert await relay.run_once() == 0

    async with registry_engine.connect() as conn:
        row = (await conn.execute(select(registry_orm.outbox))).one()
    message = await js.get_last_msg("REGISTRY", SUBJECT)
    assert message.headers is not None
    assert message.headers["Nats-Msg-Id"] == str(row.event_id)
    assert json.loads(message.data)["event_id"] == str(row.event_id)
    assert row.published_at is not None
    assert row.stream_sequence == message.seq


async def test_a_publish_repeated_after_a_lost_mark_is_dropped_by_jetstream(registry_engine, nc):
    js = nc.jetstream()
    await register(registry_engine)
    relay = OutboxRelay(registry_engine, registry_orm.outbox, js)
    await relay.run_once()
    async with registry_engine.begin() as conn:  # as if the relay died before marking it sent
        await conn.execute(update(registry_orm.outbox).values(published_at=None))

    assert await relay.run_once() == 1
    assert (await js.stream_info("REGISTRY")).state.messages == 1


async def test_relay_keeps_order_across_many_events(registry_engine, nc):
    js = nc.jetstream()
    names = [f"Structure {i:03d}" for i in range(250)]
    for name in names:
        await register(registry_engine, name=name)
    relay = OutboxRelay(registry_engine, registry_orm.outbox, js, batch_size=100)

    assert [await relay.run_once() for _ in range(4)] == [100, 100, 50, 0]
    received = []
    sub = await js.subscribe(SUBJECT, ordered_consumer=True)
    for _ in names:
        received.append(json.loads((await sub.next_msg(timeout=5)).data)["data"]["name"])
    assert received == names


async def test_relay_survives_nats_being_unreachable(registry_engine, nats_url):
    await register(registry_engine)
    closed = await nats.connect(nats_url)
    await closed.close()
    relay = OutboxRelay(registry_engine, registry_orm.outbox, closed.jetstream(), publish_timeout_s=1)

    assert await relay.run_once() == 0
    async with registry_engine.connect() as conn:
        row = (await conn.execute(select(registry_orm.outbox))).one()
    assert row.published_at is None
    assert row.attempts == 1
    assert "Closed" in row.last_error


async def test_concurrent_relays_publish_each_row_once(postgres_database, nc):
    """On Postgres several replicas relay the same outbox: SKIP LOCKED shares the rows out."""
    engine = postgres_database.engine()
    await upgrade(engine, REGISTRY_MIGRATIONS)
    await seed_commune(engine)
    for i in range(60):
        await register(engine, name=f"Structure {i}")
    js = nc.jetstream()
    relays = [OutboxRelay(engine, registry_orm.outbox, js, batch_size=10) for _ in range(3)]

    published = 0
    while True:
        batch = await asyncio.gather(*(relay.run_once() for relay in relays))
        published += sum(batch)
        if not any(batch):
            break
    await engine.dispose()

    assert published == 60
    assert (await js.stream_info("REGISTRY")).state.messages == 60


async def test_inbox_applies_an_event_once_per_consumer(database):
    engine = database.engine()
    await upgrade(engine, SCHEDULING_MIGRATIONS)
    event = DemandChanged(commune="61293", individual_hours=3, atelier_hours=1, overridden=False)
    envelope = Envelope.wrap(event, producer="registry")

    def uow():
        return SchedulingUnitOfWork(session_factory(engine))

    await apply_registry_event(envelope, event, uow())
    await apply_registry_event(envelope, event, uow())
    overridden = event.model_copy(update={"individual_hours": 6, "overridden": True})
    await apply_registry_event(Envelope.wrap(overridden, producer="registry"), overridden, uow())

    async with engine.connect() as conn:
        hours = (await conn.execute(select(scheduling_orm.demand.c.individual_hours))).scalars().all()
    assert hours == [6]
    assert await count(engine, scheduling_orm.inbox, scheduling_orm.inbox.c.consumer == REGISTRY_CONSUMER) == 2
    await engine.dispose()
