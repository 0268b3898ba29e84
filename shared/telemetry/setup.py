"""The tracer provider of a service, its exporters, and the instrumentation of FastAPI and SQLAlchemy."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from sqlalchemy.ext.asyncio import AsyncEngine

UNTRACED_PATHS = "/healthz,/readyz,/metrics"
"""Probes and scrapes, every few seconds: no trace for them."""


def span_exporters(env: Mapping[str, str]) -> list[SpanExporter]:
    """The exporters ``OTEL_TRACES_EXPORTER`` names (comma-separated): ``otlp``, ``console``, ``none`` (the default).

    The OTLP exporter (HTTP/protobuf) reads its own settings: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), ``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_EXPORTER_OTLP_TIMEOUT``…
    """
    names = [name.strip().lower() for name in env.get("OTEL_TRACES_EXPORTER", "none").split(",") if name.strip()]
    exporters: list[SpanExporter] = []
    for name in names:
        if name == "none":
            continue
        if name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
            if protocol not in (None, "", "http/protobuf"):
                raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol}: only http/protobuf is supported")
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
        else:
            raise ValueError(f"OTEL_TRACES_EXPORTER: unknown exporter {name!r} (otlp, console or none)")
    return exporters


def setup_telemetry(service_name: str, env: Mapping[str, str] | None = None) -> TracerProvider:
    """Make this process's tracer provider (the one per process) and return it; ``shutdown()`` it to flush.

    Spans are made even when nothing exports them, so that log lines carry trace ids; the sampler
    is the SDK's, set by ``OTEL_TRACES_SAMPLER`` (every trace by default).
    """
    env = os.environ if env is None else env
    name = env.get("OTEL_SERVICE_NAME") or f"tournees-{service_name}"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    for exporter in span_exporters(env):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def instrument_app(app: FastAPI) -> None:
    """A SERVER span per HTTP request (but probes and scrapes), child of the caller's ``traceparent`` if any."""
    FastAPIInstrumentor.instrument_app(app, excluded_urls=UNTRACED_PATHS, exclude_spans=["receive", "send"])


def instrument_engine(engine: AsyncEngine) -> None:
    """A CLIENT span per SQL statement run within a trace (a request, an event being handled, a send)."""
    meter = metrics.get_meter("opentelemetry.instrumentation.sqlalchemy")
    usage = meter.create_up_down_counter(
        "db.client.connections.usage", unit="connections", description="Connections in use or idle in the pool"
    )
    # Not SQLAlchemyInstrumentor().instrument(engine=…): it instruments once per process, and also patches
    # create_engine for every engine; a tracer of its own per engine is what this instrumentor builds inside.
    tracer = _WithinTrace(trace.get_tracer("opentelemetry.instrumentation.sqlalchemy"))
    EngineTracer(tracer, engine.sync_engine, usage)  # type: ignore[no-untyped-call]  # the package has no types


class _WithinTrace:
    """A tracer that only starts spans within a trace: the polling of the outbox relay, the sender and the
    solver's heartbeat (several statements a second, with nothing happening) makes no traces of its own."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def start_span(self, name: str, context: Context | None = None, **kwargs: Any) -> trace.Span:
        if not trace.get_current_span(context).get_span_context().is_valid:
            return trace.INVALID_SPAN
        return self._tracer.start_span(name, context, **kwargs)
