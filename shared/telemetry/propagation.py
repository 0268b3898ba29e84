"""The W3C trace context across NATS: kept with what a span causes later, carried in message headers.

An event leaves through the outbox, written in the transaction of the change, and is published
later by the relay: the active span's ``traceparent`` (and ``tracestate``) is stored on the outbox
row (``current_trace_context``); the relay publishes in a PRODUCER span child of it and puts its
own context in the NATS headers (``producer_span`` + ``inject``); the consumer handles the message
in a CONSUMER span child of those headers (``consumer_span``), so the events its handler records
carry the same trace, and so on from service to service.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_W3C = TraceContextTextMapPropagator()
_tracer = trace.get_tracer("tournees.messaging")


def current_trace_context() -> dict[str, str] | None:
    """The active span's W3C context (``traceparent``, and ``tracestate`` when there is one); None outside a trace."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier or None


def inject(headers: dict[str, str]) -> dict[str, str]:
    """Add the active span's ``traceparent``/``tracestate`` to ``headers`` (unchanged outside a trace)."""
    _W3C.inject(headers)
    return headers


def extract(carrier: Mapping[str, str] | None) -> Context:
    """The context whose parent is the span ``carrier`` names; an empty context (a new trace) if none."""
    return _W3C.extract(dict(carrier or {}))


def _messaging(subject: str, operation: str) -> dict[str, str]:
    return {
        "messaging.system": "nats",
        "messaging.destination.name": subject,
        "messaging.operation.type": operation,
    }


@contextmanager
def producer_span(subject: str, message_id: str, trace_context: Mapping[str, str] | None) -> Iterator[Span]:
    """The relay publishing one outbox row, child of the span that wrote it (``trace_context``)."""
    attributes = {**_messaging(subject, "send"), "messaging.message.id": message_id}
    with _tracer.start_as_current_span(
        f"send {subject}", context=extract(trace_context), kind=SpanKind.PRODUCER, attributes=attributes
    ) as span:
        yield span


@contextmanager
def consumer_span(subject: str, consumer: str, headers: Mapping[str, str] | None) -> Iterator[Span]:
    """A durable consumer handling one message, child of the span that published it (its headers)."""
    attributes = {**_messaging(subject, "process"), "messaging.consumer.group.name": consumer}
    with _tracer.start_as_current_span(
        f"process {subject}", context=extract(headers), kind=SpanKind.CONSUMER, attributes=attributes
    ) as span:
        yield span


@contextmanager
def span_from(
    name: str,
    traceparent: str | None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, str] | None = None,
) -> Iterator[Span]:
    """A span child of a ``traceparent`` kept earlier (a message's, planned while handling an event or a request)."""
    parent = extract({"traceparent": traceparent} if traceparent else None)
    with _tracer.start_as_current_span(name, context=parent, kind=kind, attributes=dict(attributes or {})) as span:
        yield span
