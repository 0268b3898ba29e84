"""Scheduling's copy of the registry, fed by registry events over real NATS, on real SQLite and Postgres
(the events: ``registry_history``; the API over the copy: ``test_scheduling_copy_api``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from faststream.nats import NatsBroker
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.scheduling.adapters import orm
from services.scheduling.bootstrap import MIGRATIONS
from services.scheduling.entrypoints import consumers
from services.scheduling.service_layer.registry_copy import REGISTRY_CONSUMER, apply_registry_event
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from shared.db import session_factory
from shared.events import (
    AbsenceWithdrawn,
    Envelope,
    Event,
    PlanPublished,
)
from shared.messaging import ConsumerPolicy
from shared.migrations import upgrade
from tests.integration.helpers import count, eventually
from tests.integration.registry_history import (
    ABSENCES,
    CAMILLE,
    CONGE,
    CONSEILLERS_REGISTERED,
    HISTORY,
    LIEUX_OPENED,
    MONDAY,
    PERCHE,
    SALLE,
    SALLE_CHANGED,
    assert_full_copy,
    dump,
    read,
)

FAST = ConsumerPolicy(max_deliver=3, ack_wait_s=5, base_delay_s=0.05, max_delay_s=0.2)

# --- plumbing -------------------------------------------------------------------------------------


async def publish(nc, event: Event, *, envelope: Envelope | None = None, msg_id: str | None = None) -> int:
    """Publish as the registry's relay does (Nats-Msg-Id = event id); the stream sequence it got."""
    envelope = envelope or Envelope.wrap(event, producer="registry")
    ack = await nc.jetstream().publish(
        event.subject, envelope.to_bytes(), headers={"Nats-Msg-Id": msg_id or str(envelope.event_id)}
    )
    return int(ack.seq)


async def applied_up_to(nc, sequence: int) -> None:
    """Wait until scheduling's consumer has handled and acknowledged everything up to ``sequence``."""

    async def done() -> bool:
        try:
            info = await nc.jetstream().consumer_info("REGISTRY", REGISTRY_CONSUMER)
        except NotFoundError:
            return False
        return info.delivered.stream_seq >= sequence and info.num_ack_pending == 0 and info.num_pending == 0

    await eventually(done)


@pytest.fixture
async def engine(database) -> AsyncIterator[AsyncEngine]:
    engine = database.engine()
    await upgrade(engine, MIGRATIONS)
    yield engine
    await engine.dispose()


@pytest.fixture
async def start_copy(nats_url, nc) -> AsyncIterator[Callable[[AsyncEngine], Awaitable[NatsBroker]]]:
    """Starts scheduling's registry consumer, writing to the given database."""
    brokers: list[NatsBroker] = []

    async def start(engine: AsyncEngine) -> NatsBroker:
        broker = NatsBroker(nats_url)
        broker.include_router(consumers.router(lambda: SchedulingUnitOfWork(session_factory(engine)), FAST))
        await broker.start()
        brokers.append(broker)
        return broker

    yield start
    for broker in brokers:
        await broker.stop()


# --- the copy -------------------------------------------------------------------------------------


async def test_the_copy_follows_registry_events_as_they_happen(engine, nc, start_copy):
    await start_copy(engine)
    for step in HISTORY:
        for event in step.events:
            sequence = await publish(nc, event)
        await applied_up_to(nc, sequence)
        await step.then(engine)

    await assert_full_copy(engine)
    assert await count(engine, orm.inbox, orm.inbox.c.consumer == REGISTRY_CONSUMER) == sequence
    assert (await nc.jetstream().stream_info("DEADLETTER")).state.messages == 0


async def test_a_consumer_started_after_all_events_rebuilds_the_whole_copy(engine, other_database, nc, start_copy):
    """A new consumer replays the REGISTRY stream from its start; replaying again into an empty database
    (after deleting the durable consumer: how ops rebuild a copy) gives the same copy, row for row."""
    for step in HISTORY:
        for event in step.events:
            sequence = await publish(nc, event)

    broker = await start_copy(engine)
    await applied_up_to(nc, sequence)
    await assert_full_copy(engine)

    await broker.stop()
    await nc.jetstream().delete_consumer("REGISTRY", REGISTRY_CONSUMER)
    rebuilt = other_database.engine()
    await upgrade(rebuilt, MIGRATIONS)
    try:
        await start_copy(rebuilt)
        await applied_up_to(nc, sequence)
        assert await dump(rebuilt) == await dump(engine)
    finally:
        await rebuilt.dispose()


async def test_an_event_delivered_twice_is_applied_once(engine, nc, start_copy):
    """Past JetStream's de-duplication window an old event can come again: the inbox drops it, so an old
    snapshot does not overwrite a newer one and a withdrawn absence does not come back."""
    await start_copy(engine)
    opened = Envelope.wrap(LIEUX_OPENED[1], producer="registry")
    declared = Envelope.wrap(ABSENCES[1], producer="registry")
    await publish(nc, LIEUX_OPENED[1], envelope=opened)
    await publish(nc, SALLE_CHANGED)
    await publish(nc, ABSENCES[1], envelope=declared)
    await publish(nc, AbsenceWithdrawn(absence_id=CONGE, conseiller_id=CAMILLE))
    await publish(nc, LIEUX_OPENED[1], envelope=opened, msg_id="replayed-later-1")
    last = await publish(nc, ABSENCES[1], envelope=declared, msg_id="replayed-later-2")
    assert last == 6  # JetStream kept both copies: only the inbox stands between them and the copy

    await applied_up_to(nc, last)
    salle = await read(engine, lambda uow: uow.lieux.get(SALLE))
    assert salle.capacity == 20
    assert await count(engine, orm.absences) == 0
    assert await count(engine, orm.inbox, orm.inbox.c.consumer == REGISTRY_CONSUMER) == 4


async def test_an_event_applied_again_by_hand_changes_nothing(engine):
    envelope = Envelope.wrap(CONSEILLERS_REGISTERED[0], producer="registry")
    sessions = session_factory(engine)
    await apply_registry_event(envelope, CONSEILLERS_REGISTERED[0], SchedulingUnitOfWork(sessions))
    before = await dump(engine)
    await apply_registry_event(envelope, CONSEILLERS_REGISTERED[0], SchedulingUnitOfWork(sessions))
    assert await dump(engine) == before
    assert await count(engine, orm.inbox) == 1


async def test_an_event_that_is_not_the_registrys_is_refused_untouched(engine):
    plan = PlanPublished(plan_id=uuid.uuid4(), territory=PERCHE, week_start=MONDAY, permanences=[])
    with pytest.raises(TypeError, match="no use for"):
        await apply_registry_event(
            Envelope.wrap(plan, producer="scheduling"), plan, SchedulingUnitOfWork(session_factory(engine))
        )
    assert await count(engine, orm.inbox) == 0
