"""OpenTelemetry set-up: a tracer provider named after the service.

Nothing is exported unless asked: ``OTEL_TRACES_EXPORTER=console`` prints spans (OTLP
export arrives with the ops work, configured by the standard ``OTEL_*`` variables).
"""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter


def setup_telemetry(service_name: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: f"tournees-{service_name}"}))
    if os.environ.get("OTEL_TRACES_EXPORTER", "none") == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider
