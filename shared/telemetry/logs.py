"""Log lines: JSON in production (one object a line, for the log collector), text for people, both with
the ``trace_id`` and ``span_id`` of the active span, so a line leads to its trace and back, and the
``correlation_id`` of what is being handled: an HTTP request's ``X-Correlation-Id`` (or a new one), an
event's correlation id (the request that started the chain), so one grep follows a change across services.

Log lines name records by their ids, never a phone number nor an e-mail address: nothing here adds any.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import format_span_id, format_trace_id

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

CORRELATION_ID: ContextVar[str | None] = ContextVar("correlation_id", default=None)


@contextmanager
def correlated(correlation_id: str) -> Iterator[None]:
    """Log lines (and events recorded) in this block carry ``correlation_id``."""
    token = CORRELATION_ID.set(correlation_id)
    try:
        yield
    finally:
        CORRELATION_ID.reset(token)


class TraceContextFilter(logging.Filter):
    """Sets ``trace_id`` and ``span_id`` (hex, or None outside a span) and ``correlation_id`` on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = CORRELATION_ID.get()
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format_trace_id(context.trace_id)
            record.span_id = format_span_id(context.span_id)
        else:
            record.trace_id = record.span_id = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, service, trace_id, span_id, exception."""

    def __init__(self, service: str | None = None) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
            "trace_id": getattr(record, "trace_id", None),
            "span_id": getattr(record, "span_id", None),
            "correlation_id": getattr(record, "correlation_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The readable line, ``[correlation … trace … span …]`` at its end when they are known."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        correlation_id, trace_id = getattr(record, "correlation_id", None), getattr(record, "trace_id", None)
        parts = [f"correlation {correlation_id}"] if correlation_id else []
        if trace_id is not None:
            parts.append(f"trace {trace_id} span {getattr(record, 'span_id', None)}")
        if not parts:
            return line
        first, _, rest = line.partition("\n")  # after the message, before a traceback
        return first + f" [{' '.join(parts)}]" + (f"\n{rest}" if rest else "")


def configure_logging(level: str, *, json_lines: bool = False, service: str | None = None) -> logging.Handler:
    """Send every log record to stderr as JSON or text lines, with trace ids; return the handler."""
    handler = logging.StreamHandler()
    handler.addFilter(TraceContextFilter())
    handler.setFormatter(JsonFormatter(service) if json_lines else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    return handler
