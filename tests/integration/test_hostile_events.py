"""Hostile input (issue 10): malformed messages published straight onto every subject a service consumes end on
``deadletter.<consumer>.<subject>`` at once, with their reason, acknowledged; the consumers go on applying the
valid events after them, and an event delivered twice is applied once.

The three services run in-process with their real subscribers, on the test nats-server and SQLite; the subjects
are read from their brokers, so a new subscriber is covered (or this test fails until it is)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.notifications.adapters import orm as notifications_orm
from services.scheduling.adapters import orm as scheduling_orm
from services.scheduling.bootstrap import Scheduling
from services.scheduling.domain.solves import SolveKind, SolveRequest, SolveStatus
from services.scheduling.entrypoints.solver_queue import SOLVER_CONSUMER
from services.scheduling.service_layer import planning
from shared.events import CATALOGUE, DemandChanged, Envelope, SolveRequested
from shared.events.streams import stream_for
from tests.integration.helpers import eventually
from tests.integration.hostile_events import (
    MONDAY,
    NOWHERE,
    PERSONAL,
    SOLVE_REQUEST,
    Hostile,
    malformed,
    matches,
    nonsense,
    unknown_on,
    valid_events,
)
from tests.integration.services_stack import running_services
from tournees import dead_letters

INBOXES: dict[str, tuple[str, Table]] = {
    "scheduling-registry": ("scheduling", scheduling_orm.inbox),
    "notifications-plans": ("notifications", notifications_orm.inbox),
    "notifications-permanence-changes": ("notifications", notifications_orm.inbox),
}
"""Where each consumer records what it applied (the solver's answer is its solve request instead)."""


@dataclass
class Stack:
    services: dict[str, Any]
    consumers: dict[str, str]
    """Each durable consumer of the services, with the subject it subscribes to."""

    @property
    def scheduling(self) -> Scheduling:
        scheduling_service: Scheduling = self.services["scheduling"]
        return scheduling_service


@pytest.fixture
async def stack(template, nats_url, nc, tmp_path) -> AsyncIterator[Stack]:
    retrying_fast = {"consumer_max_deliver": 3, "retry_base_delay_s": 0.05, "retry_max_delay_s": 0.2}
    async with running_services(
        template, nats_url, tmp_path, common=retrying_fast,
        scheduling={"solver_threads": 1}, notifications={"sender_enabled": False},
    ) as services:  # fmt: skip
        consumers: dict[str, str] = {}
        for service in services.values():
            for subscriber in service.runtime.broker.subscribers:
                durable = subscriber.config.durable_name
                assert durable, f"{subscriber.subject.broker_address}: every subscriber is a durable consumer"
                consumers[durable] = subscriber.subject.broker_address
        yield Stack(services, consumers)


async def test_malformed_events_on_every_consumed_subject_are_dead_lettered_and_valid_ones_applied_once(
    stack: Stack, nc: NATS
) -> None:
    js = nc.jetstream()
    consumers = stack.consumers
    assert set(consumers) == {*INBOXES, SOLVER_CONSUMER}, "a new consumer: say above where it records what it applied"
    valid = {event.subject: Envelope.wrap(event, producer="hostile-test") for event in valid_events()}
    consumed = {subject for subject in CATALOGUE if any(matches(p, subject) for p in consumers.values())}
    assert consumed <= set(valid), f"a valid event of each consumed type is needed: {consumed - set(valid)}"
    for durable, pattern in consumers.items():
        assert any(matches(pattern, subject) for subject in consumed), f"{durable} consumes no known event"
    await _a_solve_request_of_nowhere(stack.scheduling)

    hostile = [bad for subject in sorted(consumed) for bad in malformed(valid[subject])]
    hostile += [bad for bad in nonsense(valid) if bad.subject in consumed]
    hostile += [bad for pattern in consumers.values() if (bad := unknown_on(pattern, valid[next(iter(valid))]))]
    hostile.append(_unknown_solve_request())  # a solve request no one asked for: dropped, not dead-lettered
    for bad in hostile:
        await js.publish(bad.subject, bad.body, headers=bad.headers)
    sent = [valid[subject] for subject in valid if subject in consumed]
    for envelope in sent:  # each twice with the same Nats-Msg-Id: JetStream drops the second
        for duplicate in (False, True):
            ack = await js.publish(envelope.subject, envelope.to_bytes(), headers=_msg_id(envelope.event_id))
            assert bool(ack.duplicate) is duplicate
    await _applied(stack, sent)

    # Past JetStream's duplicate window: the same event ids again (one with other content), applied nowhere.
    demand = valid[DemandChanged.subject]
    for envelope in sent:
        await js.publish(envelope.subject, envelope.to_bytes(), headers=_msg_id(f"replayed-{envelope.event_id}"))
    other_hours = demand.model_copy(update={"data": {**demand.data, "individual_hours": 30}})
    await js.publish(demand.subject, other_hours.to_bytes(), headers=_msg_id("replayed-with-other-content"))
    await _drained(js, consumers)

    await _dead_letters_are(js, hostile, consumers)
    await _applied(stack, sent)  # still once each
    engine = stack.scheduling.runtime.engine
    async with engine.connect() as conn:
        assert (await conn.scalar(select(scheduling_orm.demand.c.individual_hours))) == 3  # the first content
    solve = await _solve_request(stack.scheduling)
    assert (solve.status, solve.attempts) == (SolveStatus.FAILED, 1), solve


async def _a_solve_request_of_nowhere(service: Scheduling) -> None:
    """The row behind the valid solve request (its message is the test's to publish)."""
    parameters = planning.SolvePlan(NOWHERE, MONDAY, 5, 1).parameters()
    request = SolveRequest(SOLVE_REQUEST, SolveKind.PLAN, NOWHERE, parameters, dt.datetime.now(dt.UTC))
    async with service.uow() as uow:
        await uow.solves.add(request)
        await uow.commit()


def _unknown_solve_request() -> Hostile:
    event = SolveRequested(request_id=uuid.uuid4(), territory=NOWHERE, kind="plan")
    return Hostile("a solve request no one made", event.subject, Envelope.wrap(event, producer="x").to_bytes(), "")


async def _solve_request(service: Scheduling) -> SolveRequest:
    async with service.uow() as uow:
        request = await uow.solves.get(SOLVE_REQUEST)
    assert request is not None
    return request


async def _applied(stack: Stack, sent: list[Envelope]) -> None:
    """Every valid event applied once by each consumer of its subject, and nothing else applied."""
    for durable, pattern in stack.consumers.items():
        if durable == SOLVER_CONSUMER:
            await eventually(lambda: _finished(stack.scheduling), timeout_s=20)
            continue
        service, inbox = INBOXES[durable]
        engine = stack.services[service].runtime.engine
        mine = sorted(str(e.event_id) for e in sent if matches(pattern, e.subject))
        await eventually(partial(_inbox_is, engine, inbox, durable, mine), timeout_s=20)


async def _inbox_is(engine: AsyncEngine, inbox: Table, durable: str, expected: list[str]) -> bool:
    async with engine.connect() as conn:
        rows = await conn.execute(select(inbox.c.event_id).where(inbox.c.consumer == durable))
        return sorted(str(event_id) for event_id in rows.scalars()) == expected


async def _finished(service: Scheduling) -> bool:
    return (await _solve_request(service)).finished


async def _drained(js: JetStreamContext, consumers: dict[str, str]) -> None:
    """Each consumer has taken and acknowledged everything, and was handed nothing twice."""
    for durable, pattern in consumers.items():
        stream = stream_for(pattern)

        async def done(stream: str = stream, durable: str = durable) -> bool:
            info = await js.consumer_info(stream, durable)
            return info.num_pending == 0 and info.num_ack_pending == 0

        await eventually(done, timeout_s=20)
        info = await js.consumer_info(stream, durable)
        assert info.num_redelivered == 0, durable
    assert (await js.stream_info(stream_for(SolveRequested.subject))).state.messages == 0  # the work queue is empty


async def _dead_letters_are(js: JetStreamContext, hostile: list[Hostile], consumers: dict[str, str]) -> None:
    """One dead letter of each malformed message per consumer of its subject, at once, with its reason."""
    expected = Counter(
        (durable, bad.subject, bad.kind)
        for bad in hostile
        if bad.reason
        for durable, pattern in consumers.items()
        if matches(pattern, bad.subject)
    )
    letters = await dead_letters.read(js)
    found = Counter((letter.consumer, letter.original_subject, _kind(letter, hostile)) for letter in letters)
    assert found == expected
    for letter in letters:
        bad = next(bad for bad in hostile if (bad.subject, bad.body) == (letter.original_subject, letter.data))
        assert letter.reason.startswith(bad.reason), (bad.kind, letter.reason)
        assert letter.deliveries == 1, (bad.kind, "dead-lettered at once, not retried")
        assert not any(personal in letter.reason for personal in PERSONAL), letter.reason
        assert "Traceback" not in letter.reason
        assert letter.subject == f"deadletter.{letter.consumer}.{letter.original_subject}"


def _kind(letter: dead_letters.DeadLetter, hostile: list[Hostile]) -> str:
    same = [bad.kind for bad in hostile if (bad.subject, bad.body) == (letter.original_subject, letter.data)]
    return same[0] if same else f"not published as hostile: {letter.reason}"


def _msg_id(value: object) -> dict[str, str]:
    return {"Nats-Msg-Id": str(value)}
