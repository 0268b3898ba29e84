"""Durable consumers against a real nats-server: retries, dead letters, poison messages, inbox."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import pytest
from faststream.nats import NatsBroker, NatsRouter
from prometheus_client import REGISTRY
from sqlalchemy import select, text

from services.scheduling.adapters import orm as scheduling_orm
from services.scheduling.bootstrap import MIGRATIONS as SCHEDULING_MIGRATIONS
from services.scheduling.entrypoints import consumers as scheduling_consumers
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from shared.db import create_engine, session_factory
from shared.events import DemandChanged, Envelope
from shared.messaging import REASON_HEADER, ConsumerPolicy, durable_consumer
from shared.migrations import upgrade
from shared.settings import async_database_url
from shared.telemetry.logs import CORRELATION_ID
from tests.integration.helpers import count, eventually

SUBJECT = DemandChanged.subject
FAST = ConsumerPolicy(max_deliver=3, ack_wait_s=5, base_delay_s=0.05, max_delay_s=0.2)


def demand(commune: str = "61293", hours: float = 3) -> DemandChanged:
    return DemandChanged(commune=commune, individual_hours=hours, atelier_hours=1, overridden=False)


def envelope() -> Envelope:
    return Envelope.wrap(demand(), producer="registry")


@pytest.fixture
async def broker(nats_url, nc) -> AsyncIterator[NatsBroker]:
    broker = NatsBroker(nats_url)
    yield broker
    await broker.stop()


async def dead_letters(nc, expected: int):
    """The dead letters on the stream, once there are ``expected`` of them."""
    js = nc.jetstream()

    async def enough():
        return (await js.stream_info("DEADLETTER")).state.messages >= expected

    await eventually(enough)
    sub = await js.subscribe("deadletter.>", ordered_consumer=True)
    return [await sub.next_msg(timeout=5) for _ in range(expected)]


async def test_a_handler_that_always_fails_ends_on_the_dead_letter_subject(broker, nc):
    calls: list[uuid.UUID] = []
    router = NatsRouter()

    @durable_consumer(router, DemandChanged, durable="test-always-fails", policy=FAST)
    async def always_fails(env: Envelope, event: DemandChanged) -> None:
        calls.append(env.event_id)
        raise RuntimeError("lieu table is locked")

    broker.include_router(router)
    await broker.start()
    counted_before = REGISTRY.get_sample_value("tournees_dead_letters_total", {"consumer": "test-always-fails"}) or 0.0
    sent = envelope()
    await nc.jetstream().publish(SUBJECT, sent.to_bytes(), headers={"Nats-Msg-Id": str(sent.event_id)})

    [letter] = await dead_letters(nc, 1)
    assert letter.subject == f"deadletter.test-always-fails.{SUBJECT}"
    assert letter.headers[REASON_HEADER] == "failed after 3 attempts: RuntimeError: lieu table is locked"
    assert letter.headers["Tournees-Deliveries"] == "3"
    assert json.loads(letter.data)["event_id"] == str(sent.event_id)
    assert calls == [sent.event_id] * 3

    async def counted() -> bool:  # each dead letter counts in the metrics, by consumer
        return (
            REGISTRY.get_sample_value("tournees_dead_letters_total", {"consumer": "test-always-fails"})
            == counted_before + 1
        )

    await eventually(counted)


async def test_a_reason_names_the_error_not_the_statement_nor_its_parameters(broker, nc, tmp_path):
    phone = "06 12 34 56 78"
    engine = create_engine(async_database_url(f"sqlite:///{tmp_path / 'usagers.db'}"))
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE usagers (phone TEXT UNIQUE)"))
        await conn.execute(text("INSERT INTO usagers VALUES (:phone)"), {"phone": phone})
    router = NatsRouter()

    @durable_consumer(router, DemandChanged, durable="test-database-error", policy=FAST)
    async def add_usager_again(env: Envelope, event: DemandChanged) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO usagers VALUES (:phone)"), {"phone": phone})

    broker.include_router(router)
    await broker.start()
    await nc.jetstream().publish(SUBJECT, envelope().to_bytes())

    [letter] = await dead_letters(nc, 1)
    assert letter.headers[REASON_HEADER] == (
        "failed after 3 attempts: IntegrityError: (sqlite3.IntegrityError) UNIQUE constraint failed: usagers.phone"
    )
    await engine.dispose()


async def test_transient_failures_are_retried_with_backoff_then_applied(broker, nc):
    attempts: list[int] = []
    router = NatsRouter()

    @durable_consumer(router, DemandChanged, durable="test-flaky", policy=FAST)
    async def flaky(env: Envelope, event: DemandChanged) -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("database restarting")

    broker.include_router(router)
    await broker.start()
    sent = envelope()
    await nc.jetstream().publish(SUBJECT, sent.to_bytes())

    await eventually(lambda: _async(len(attempts) == 3))
    info = await nc.jetstream().consumer_info("REGISTRY", "test-flaky")
    await eventually(lambda: _pending_is_zero(nc, "test-flaky"))
    assert info.config.max_deliver == -1  # the limit is ours, applied with a reason
    assert (await nc.jetstream().stream_info("DEADLETTER")).state.messages == 0


async def test_poison_messages_are_dead_lettered_at_once_and_the_consumer_goes_on(broker, nc):
    applied: list[uuid.UUID] = []
    router = NatsRouter()

    @durable_consumer(router, DemandChanged, durable="test-poison", policy=FAST)
    async def apply(env: Envelope, event: DemandChanged) -> None:
        applied.append(env.event_id)

    broker.include_router(router)
    await broker.start()
    js = nc.jetstream()
    good = envelope()
    wrong_version = json.loads(good.to_bytes())
    wrong_version["schema_version"] = 2
    missing_field = json.loads(envelope().to_bytes())
    del missing_field["data"]["commune"]
    poison = [
        b"\x00not json",
        json.dumps(wrong_version).encode(),
        json.dumps(missing_field).encode(),
        b'{"event_id": 1}',
        json.dumps({**json.loads(envelope().to_bytes()), "padding": "x" * 300_000}).encode(),
    ]
    for body in poison:
        await js.publish(SUBJECT, body)
    await js.publish(SUBJECT, good.to_bytes())

    letters = await dead_letters(nc, len(poison))
    reasons = sorted(letter.headers[REASON_HEADER] for letter in letters)
    expected = [
        "invalid: bad envelope",
        "invalid: not JSON",
        "invalid: payload of",
        "invalid: registry.demand.changed.v1: commune: Field required",
        "invalid: schema_version 2 does not match",
    ]
    assert [reason[: len(prefix)] for reason, prefix in zip(reasons, expected, strict=True)] == expected
    await eventually(lambda: _async(applied == [good.event_id]))


async def test_an_event_delivered_twice_is_applied_once(broker, nc, database):
    """Past JetStream's de-duplication window, the consumer's inbox still drops a replay."""
    engine = database.engine()
    await upgrade(engine, SCHEDULING_MIGRATIONS)
    broker.include_router(scheduling_consumers.router(lambda: SchedulingUnitOfWork(session_factory(engine)), FAST))
    await broker.start()
    sent = envelope()
    js = nc.jetstream()
    await js.publish(SUBJECT, sent.to_bytes(), headers={"Nats-Msg-Id": "first"})
    await js.publish(SUBJECT, sent.to_bytes(), headers={"Nats-Msg-Id": "replayed-later"})

    await eventually(lambda: _pending_is_zero(nc, "scheduling-registry", delivered=2))
    assert await count(engine, scheduling_orm.demand) == 1
    async with engine.connect() as conn:
        consumers = (await conn.execute(select(scheduling_orm.inbox.c.event_id))).scalars().all()
    assert consumers == [sent.event_id]
    await engine.dispose()


async def _async(value):
    return value


async def _pending_is_zero(nc, durable: str, delivered: int = 1) -> bool:
    info = await nc.jetstream().consumer_info("REGISTRY", durable)
    return info.num_ack_pending == 0 and info.num_pending == 0 and info.delivered.stream_seq >= delivered


async def test_a_consumer_applies_events_in_stream_order(broker, nc):
    seen: list[str] = []
    router = NatsRouter()

    @durable_consumer(router, DemandChanged, durable="test-order", policy=FAST)
    async def apply(env: Envelope, event: DemandChanged) -> None:
        await asyncio.sleep(0.01 if len(seen) % 2 else 0)  # uneven handler times must not reorder
        seen.append(event.commune)

    broker.include_router(router)
    await broker.start()
    names = [f"61{i:03d}" for i in range(40)]
    for name in names:
        await nc.jetstream().publish(SUBJECT, Envelope.wrap(demand(name), producer="registry").to_bytes())

    await eventually(lambda: _async(len(seen) == len(names)))
    assert seen == names


async def test_replicas_sharing_an_ordered_consumer_keep_stream_order(nats_url, nc):
    seen: list[str] = []

    def replica(delay: float) -> NatsBroker:
        router = NatsRouter()

        @durable_consumer(router, DemandChanged, durable="test-replicas", policy=FAST)
        async def apply(env: Envelope, event: DemandChanged) -> None:
            await asyncio.sleep(delay)  # one replica slower than the other
            seen.append(event.commune)

        broker = NatsBroker(nats_url)
        broker.include_router(router)
        return broker

    replicas = [replica(0.02), replica(0.0)]
    for broker in replicas:
        await broker.start()
    try:
        names = [f"61{i:03d}" for i in range(30)]
        for name in names:
            await nc.jetstream().publish(SUBJECT, Envelope.wrap(demand(name), producer="registry").to_bytes())
        await eventually(lambda: _async(len(seen) == len(names)), timeout_s=30)
        assert seen == names
    finally:
        for broker in replicas:
            await broker.stop()


async def test_a_handler_runs_under_its_events_correlation_id(broker, nc):
    seen: list[str | None] = []
    router = NatsRouter()

    @durable_consumer(router, DemandChanged, durable="test-correlated", policy=FAST)
    async def handle(env: Envelope, event: DemandChanged) -> None:
        seen.append(CORRELATION_ID.get())

    broker.include_router(router)
    await broker.start()
    cause = uuid.uuid4()
    sent = Envelope.wrap(demand(), producer="registry", correlation_id=cause)
    await nc.jetstream().publish(SUBJECT, sent.to_bytes())

    await eventually(lambda: _async(bool(seen)))
    assert seen == [str(cause)]
    assert CORRELATION_ID.get() is None  # only within the handler
