"""Consuming events: durable JetStream consumers with retry, backoff and dead letters.

FastStream's default for NATS terminates a message whose handler raised: it would be lost.
Here every consumer acknowledges by hand (``AckPolicy.MANUAL``):

- a message that can never be applied (not JSON, unknown subject, wrong schema version,
  missing fields, more than ``MAX_EVENT_BYTES``) goes to ``deadletter.<consumer>.<subject>`` at
  once, with the reason in the ``Tournees-Dead-Letter-Reason`` header, then is acknowledged. The
  body reaches ``deliver`` undecoded (``undecoded``): FastStream's own JSON decoding, before any
  handler, would raise on some of them, and a message whose handler never ran is never acknowledged;
- a handler that raises is retried with exponential backoff (``nak`` with a delay);
  after ``max_deliver`` attempts the message goes to the dead-letter subject with the
  error as reason;
- if even the dead-letter publish fails, the message is not acknowledged, so JetStream
  redelivers it after ``ack_wait``: nothing is dropped silently.

The JetStream consumer itself has no delivery limit (``max_deliver=-1``): the limit is
applied here, where the reason is known.

Each message is handled in a CONSUMER span, child of the ``traceparent`` in its headers (put
there by the producer's outbox relay), so what the handler writes (its own outbox rows, the
messages it plans) carries the same trace.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsMessage, NatsRouter, PullSub
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import DeliverPolicy
from opentelemetry.trace import Span, StatusCode

from shared.db import database_unreachable
from shared.events import Envelope, Event, InvalidEvent, parse_envelope
from shared.events.streams import dead_letter_subject, stream_for
from shared.metrics import DEAD_LETTERS
from shared.telemetry import consumer_span, inject
from shared.telemetry.logs import correlated

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[Envelope, E], Awaitable[None]]

REASON_HEADER = "Tournees-Dead-Letter-Reason"

_durables: weakref.WeakKeyDictionary[NatsRouter, list[tuple[str, str]]] = weakref.WeakKeyDictionary()


DATABASE_RETRY_S = 5.0
"""The longest wait before trying a message again while the service's database is unreachable."""


def durables(router: NatsRouter) -> list[tuple[str, str]]:
    """The ``(stream, durable)`` of each consumer registered on ``router`` (their lag is sampled for the metrics)."""
    return list(_durables.get(router, []))


@dataclass(frozen=True)
class ConsumerPolicy:
    # Ordered (the default): JetStream lets one message at a time be in flight for the whole
    # durable consumer, so events are applied in stream order even when several replicas share
    # it, and a message being retried holds back the ones after it (a registration before its
    # update, a lieu opened before it is closed). Unordered: up to ``max_ack_pending`` in flight,
    # and FastStream handles the messages of one pull batch concurrently.
    ordered: bool = True
    batch_size: int = 1
    max_deliver: int = 5
    ack_wait_s: float = 30.0
    max_ack_pending: int = 256
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0

    def backoff(self, delivered: int) -> float:
        """Delay before the next attempt, after ``delivered`` attempts so far."""
        return float(min(self.base_delay_s * 2 ** max(delivered - 1, 0), self.max_delay_s))


def durable_consumer(
    router: NatsRouter,
    *event_types: type[E],
    durable: str,
    policy: ConsumerPolicy,
    subject: str | None = None,
) -> Callable[[Handler[E]], Handler[E]]:
    """Register ``handle(envelope, event)`` as the durable consumer ``durable``.

    One event type: its own subject. Several: give the ``subject`` that covers them all
    (``registry.>``), so they reach the handler in stream order; other valid events on it
    are acknowledged and skipped.
    """
    if subject is None:
        if len(event_types) != 1:
            raise ValueError("several event types need the subject that covers them")
        subject = event_types[0].subject
    _durables.setdefault(router, []).append((stream_for(subject), durable))

    def decorator(handle: Handler[E]) -> Handler[E]:
        @router.subscriber(
            subject,
            stream=JStream(stream_for(subject), declare=False),
            durable=durable,
            pull_sub=PullSub(batch_size=1 if policy.ordered else policy.batch_size, timeout=2.0),
            config=ConsumerConfig(
                durable_name=durable,
                ack_policy=JsAckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=policy.ack_wait_s,
                max_deliver=-1,
                max_ack_pending=1 if policy.ordered else policy.max_ack_pending,
            ),
            ack_policy=AckPolicy.MANUAL,
            decoder=undecoded,
            title=durable,
            description=(handle.__doc__ or "").strip() or None,
        )
        async def consume(message: NatsMessage) -> None:
            await deliver(message, event_types, durable, policy, handle)

        return handle

    return decorator


async def undecoded(message: StreamMessage[Any]) -> bytes:
    """The body as it came, for the handler to parse within limits (``parse_envelope``): FastStream's
    decoding (JSON, whatever the size) raises on a body nested too deep or a content-type it belies."""
    body: bytes = message.body
    return body


async def deliver(
    message: NatsMessage,
    event_types: tuple[type[E], ...],
    consumer: str,
    policy: ConsumerPolicy,
    handle: Handler[E],
) -> None:
    raw = message.raw_message
    with consumer_span(raw.subject, consumer, raw.headers) as span:
        await _deliver(message, event_types, consumer, policy, handle, span)


async def _deliver(
    message: NatsMessage,
    event_types: tuple[type[E], ...],
    consumer: str,
    policy: ConsumerPolicy,
    handle: Handler[E],
    span: Span,
) -> None:
    raw = message.raw_message
    delivered = raw.metadata.num_delivered or 1
    span.set_attribute("messaging.message.delivery_count", delivered)
    try:
        envelope, event = parse_envelope(raw.subject, raw.data)
    except InvalidEvent as exc:
        span.set_status(StatusCode.ERROR, "invalid event")
        await dead_letter(message, consumer, f"invalid: {exc}", delivered)
        return
    span.set_attribute("messaging.message.id", str(envelope.event_id))
    if not isinstance(event, event_types):
        await message.ack()  # a valid event this consumer has no use for
        return
    try:
        with correlated(str(envelope.correlation_id)):
            await handle(envelope, event)
    except Exception as exc:
        span.record_exception(exc)
        span.set_status(StatusCode.ERROR, type(exc).__name__)
        reason = _what_failed(exc)
        if database_unreachable(exc):
            # Not the message's fault: it is tried again, however long the database stays away, never given up on,
            # and soon (the consumers resume within seconds of its return).
            delay = min(policy.backoff(delivered), DATABASE_RETRY_S)
            log.warning("%s: database unreachable on %s %s (attempt %d, retry in %.1fs): %s", consumer, raw.subject,
                        envelope.event_id, delivered, delay, type(exc).__name__)  # fmt: skip
            await message.nack(delay=delay)
            return
        if delivered >= policy.max_deliver:
            log.error("%s gave up on %s %s after %d attempts", consumer, raw.subject, envelope.event_id, delivered)
            await dead_letter(message, consumer, f"failed after {delivered} attempts: {reason}", delivered)
            return
        delay = policy.backoff(delivered)
        log.warning(
            "%s failed on %s %s (attempt %d, retry in %.1fs): %s",
            consumer,
            raw.subject,
            envelope.event_id,
            delivered,
            delay,
            type(exc).__name__,
        )
        await message.nack(delay=delay)
        return
    await message.ack()


async def dead_letter(message: NatsMessage, consumer: str, reason: str, delivered: int) -> None:
    """Publish ``message`` to its dead-letter subject with ``reason``, then acknowledge it."""
    raw = message.raw_message
    js = raw._client.jetstream()  # nats-py's Msg keeps its client private
    meta = raw.metadata
    headers: dict[str, str] = {
        # One dead letter per original message, even if this step is retried.
        "Nats-Msg-Id": f"{consumer}:{meta.stream}:{meta.sequence.stream}",
        REASON_HEADER: _header_safe(reason),
        "Tournees-Original-Subject": raw.subject,
        "Tournees-Consumer": consumer,
        "Tournees-Deliveries": str(delivered),
    }
    await js.publish(dead_letter_subject(consumer, raw.subject), raw.data, headers=inject(headers))
    DEAD_LETTERS.labels(consumer=consumer).inc()
    log.error("dead-lettered %s from %s: %s", raw.subject, consumer, _header_safe(reason))
    await message.ack()


def _what_failed(exc: Exception) -> str:
    """The error's type and first line: the lines after it, in a database error, are its statement and its
    parameters (personal data, at times), which a dead letter's reason must not carry."""
    first_line = str(exc).split("\n", 1)[0]
    return f"{type(exc).__name__}: {first_line}"


def _header_safe(text: str, limit: int = 500) -> str:
    return " ".join(text.split())[:limit]
