"""OpenTelemetry: traces across HTTP, the database and NATS, and logs that name their trace.

- ``setup_telemetry``: the tracer provider of a service, exporting where the standard ``OTEL_*``
  variables say (``OTEL_TRACES_EXPORTER=otlp`` with ``OTEL_EXPORTER_OTLP_ENDPOINT``…, or
  ``console``); nothing is exported unless asked.
- ``instrument_app`` / ``instrument_engine``: a span per HTTP request, and per SQL statement
  made within a trace.
- ``propagation``: the W3C trace context kept on outbox rows and carried in NATS headers.
- ``logs``: JSON or text log lines, each with the trace and span ids of the active span.
"""

from shared.telemetry.logs import JsonFormatter, TraceContextFilter, configure_logging
from shared.telemetry.propagation import (
    consumer_span,
    current_trace_context,
    extract,
    inject,
    producer_span,
    span_from,
)
from shared.telemetry.setup import instrument_app, instrument_engine, setup_telemetry

__all__ = [
    "JsonFormatter",
    "TraceContextFilter",
    "configure_logging",
    "consumer_span",
    "current_trace_context",
    "extract",
    "inject",
    "instrument_app",
    "instrument_engine",
    "producer_span",
    "setup_telemetry",
    "span_from",
]
