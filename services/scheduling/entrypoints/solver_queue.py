"""The solver's subscriber: solve requests from the SOLVER work queue, shared by every replica.

Each replica takes one message at a time (a solve uses the cores); the durable consumer lets
several replicas share the queue. A request whose territory is being solved elsewhere goes back
with a short delay; a solve that crashed is retried with backoff; a message that is not a solve
request is dead-lettered with its reason.
"""

from __future__ import annotations

import logging

from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsMessage, NatsRouter, PullSub
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import DeliverPolicy
from opentelemetry.trace import Span, StatusCode

from services.scheduling.service_layer.solver import Outcome, Solver
from shared.events import InvalidEvent, SolveRequested, parse_envelope
from shared.events.streams import stream_for
from shared.messaging import ConsumerPolicy, dead_letter, undecoded
from shared.telemetry import consumer_span
from shared.telemetry.logs import correlated

log = logging.getLogger(__name__)

SOLVER_CONSUMER = "scheduling-solver"
BUSY_RETRY_S = 2.0


def router(solver: Solver, policy: ConsumerPolicy) -> NatsRouter:
    nats = NatsRouter()
    subject = SolveRequested.subject

    @nats.subscriber(
        subject,
        stream=JStream(stream_for(subject), declare=False),
        durable=SOLVER_CONSUMER,
        pull_sub=PullSub(batch_size=1, timeout=2.0),
        config=ConsumerConfig(
            durable_name=SOLVER_CONSUMER,
            ack_policy=JsAckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            # A running solve says "in progress" every heartbeat; silence this long means it died.
            ack_wait=solver.settings.lease_s,
            max_deliver=-1,
            max_ack_pending=policy.max_ack_pending,
        ),
        ack_policy=AckPolicy.MANUAL,
        decoder=undecoded,
        title=SOLVER_CONSUMER,
        description="Solve requests (plans, re-plans, what-ifs): one solve per territory at a time, across replicas.",
    )
    async def solve_requested(message: NatsMessage) -> None:
        raw = message.raw_message
        # The solve is part of the trace of the request that asked for it (the relay's NATS headers).
        with consumer_span(raw.subject, SOLVER_CONSUMER, raw.headers) as span:
            await _work_on(message, span)

    async def _work_on(message: NatsMessage, span: Span) -> None:
        raw = message.raw_message
        delivered = raw.metadata.num_delivered or 1
        span.set_attribute("messaging.message.delivery_count", delivered)
        try:
            envelope, event = parse_envelope(raw.subject, raw.data)
        except InvalidEvent as exc:
            span.set_status(StatusCode.ERROR, "invalid event")
            await dead_letter(message, SOLVER_CONSUMER, f"invalid: {exc}", delivered)
            return
        if not isinstance(event, SolveRequested):
            await dead_letter(message, SOLVER_CONSUMER, f"not a solve request: {raw.subject}", delivered)
            return
        span.set_attribute("messaging.message.id", str(envelope.event_id))
        try:
            with correlated(str(envelope.correlation_id)):
                outcome = await solver.work_on(event.request_id, keep_alive=raw.in_progress)
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(StatusCode.ERROR, type(exc).__name__)
            delay = policy.backoff(delivered)
            log.warning("solve %s failed (retry in %.1fs): %s", event.request_id, delay, type(exc).__name__)
            await message.nack(delay=delay)
            return
        span.set_attribute("tournees.solve.outcome", outcome.value)
        if outcome is Outcome.BUSY:
            await message.nack(delay=BUSY_RETRY_S)
            return
        if outcome is Outcome.UNKNOWN:
            log.warning("solve request %s is not in the database: dropped", event.request_id)
        await message.ack()

    return nats
