"""Trace context into and out of message headers, the exporters the OTEL_* variables name, log lines with trace ids."""

import io
import json
import logging

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id

from shared.metrics import reason_label
from shared.settings import ServiceSettings
from shared.telemetry import (
    JsonFormatter,
    TraceContextFilter,
    consumer_span,
    current_trace_context,
    extract,
    inject,
    producer_span,
    span_from,
)
from shared.telemetry.logs import TextFormatter, correlated
from shared.telemetry.setup import _WithinTrace, span_exporters

tracer = trace.get_tracer("tests")


def test_no_trace_context_outside_a_span(spans):
    assert current_trace_context() is None
    assert inject({"Nats-Msg-Id": "x"}) == {"Nats-Msg-Id": "x"}
    assert not trace.get_current_span(extract(None)).get_span_context().is_valid


def test_headers_carry_the_active_span_and_give_it_back(spans):
    with tracer.start_as_current_span("change") as span:
        headers = inject({"Nats-Msg-Id": "x"})
        stored = current_trace_context()
    ctx = span.get_span_context()
    assert (
        headers["traceparent"]
        == f"00-{format_trace_id(ctx.trace_id)}-{format_span_id(ctx.span_id)}-{ctx.trace_flags:02x}"
    )
    assert stored == {"traceparent": headers["traceparent"]}
    parent = trace.get_current_span(extract(headers)).get_span_context()
    assert (parent.trace_id, parent.span_id, parent.is_remote) == (ctx.trace_id, ctx.span_id, True)


def test_an_outbox_row_published_then_consumed_stays_in_the_trace_that_wrote_it(spans):
    with tracer.start_as_current_span("request") as request:
        stored = current_trace_context()
    with producer_span("registry.lieu.opened.v1", "event-1", stored) as producer:
        headers = inject({})
    with consumer_span("registry.lieu.opened.v1", "scheduling-registry", headers) as consumer:
        written_by_the_handler = current_trace_context()
    finished = {s.name: s for s in spans.get_finished_spans()}
    send, process = finished["send registry.lieu.opened.v1"], finished["process registry.lieu.opened.v1"]
    assert send.kind is SpanKind.PRODUCER
    assert process.kind is SpanKind.CONSUMER
    assert send.parent is not None
    assert send.parent.span_id == request.get_span_context().span_id
    assert process.parent is not None
    assert process.parent.span_id == producer.get_span_context().span_id
    trace_id = request.get_span_context().trace_id
    assert {send.context.trace_id, process.context.trace_id} == {trace_id}
    assert process.attributes is not None
    assert process.attributes["messaging.consumer.group.name"] == "scheduling-registry"
    assert written_by_the_handler is not None
    assert written_by_the_handler["traceparent"].split("-")[2] == format_span_id(consumer.get_span_context().span_id)


def test_a_message_without_headers_starts_a_trace_of_its_own(spans):
    with consumer_span("scheduling.plan.published.v1", "notifications-plans", None) as span:
        pass
    assert spans.get_finished_spans()[0].parent is None
    assert span.get_span_context().is_valid


def test_a_span_from_a_kept_traceparent_is_its_child(spans):
    with tracer.start_as_current_span("booking") as booking:
        traceparent = (current_trace_context() or {})["traceparent"]
    with span_from("send sms", traceparent, kind=SpanKind.CLIENT, attributes={"tournees.message.id": "m"}):
        pass
    with span_from("send email", None):
        pass
    sms, email = spans.get_finished_spans()[1:]
    assert sms.parent is not None
    assert sms.parent.span_id == booking.get_span_context().span_id
    assert sms.context.trace_id == booking.get_span_context().trace_id
    assert email.parent is None


def test_database_spans_are_made_only_within_a_trace(spans):
    within = _WithinTrace(tracer)
    assert within.start_span("SELECT outbox") is trace.INVALID_SPAN
    with tracer.start_as_current_span("request"):
        span = within.start_span("SELECT lieux")
        span.end()
    assert [s.name for s in spans.get_finished_spans()] == ["SELECT lieux", "request"]


def test_exporters_are_the_ones_the_otel_variables_name():
    assert span_exporters({}) == []
    assert span_exporters({"OTEL_TRACES_EXPORTER": "none"}) == []
    kinds = [type(e) for e in span_exporters({"OTEL_TRACES_EXPORTER": "otlp,console"})]
    assert kinds == [OTLPSpanExporter, ConsoleSpanExporter]
    with pytest.raises(ValueError, match="zipkin"):
        span_exporters({"OTEL_TRACES_EXPORTER": "zipkin"})
    with pytest.raises(ValueError, match="grpc"):
        span_exporters({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})


def _logger(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(TraceContextFilter())
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"tests.telemetry.{id(out)}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, out


def test_a_json_log_line_carries_the_trace_of_the_active_span(spans):
    logger, out = _logger(JsonFormatter("notifications"))
    with tracer.start_as_current_span("send sms") as span:
        logger.info("message %s accepted", "1b4e28ba")
    logger.warning("outside")
    inside, outside = (json.loads(line) for line in out.getvalue().splitlines())
    ctx = span.get_span_context()
    assert inside["trace_id"] == format_trace_id(ctx.trace_id)
    assert inside["span_id"] == format_span_id(ctx.span_id)
    assert (inside["message"], inside["level"], inside["service"]) == (
        "message 1b4e28ba accepted",
        "INFO",
        "notifications",
    )
    assert (outside["trace_id"], outside["span_id"], outside["level"]) == (None, None, "WARNING")


def test_a_text_log_line_ends_with_its_trace(spans):
    logger, out = _logger(TextFormatter())
    with tracer.start_as_current_span("consume") as span:
        logger.info("applied")
    logger.info("idle")
    inside, outside = out.getvalue().splitlines()
    assert inside.endswith(f"applied [trace {format_trace_id(span.get_span_context().trace_id)} span "
                           f"{format_span_id(span.get_span_context().span_id)}]")  # fmt: skip
    assert outside.endswith("idle")


def test_json_logs_in_production_or_when_asked():
    class Settings(ServiceSettings):
        service_name = "tests"
        default_http_port = 1

    secret = "x" * 40
    assert Settings(environment="production", auth_secret=secret).json_logs
    assert not Settings(environment="production", auth_secret=secret, log_format="text").json_logs
    assert Settings(log_format="json").json_logs
    assert not Settings(environment="demo").json_logs


def test_a_failure_reason_label_is_a_provider_code_or_a_kind_never_free_text():
    assert reason_label("21211", "permanent") == "21211"
    assert reason_label("550", "permanent") == "550"
    assert reason_label(None, "gave_up") == "gave_up"
    assert reason_label("+33612345678", "permanent") == "permanent"


def test_log_lines_carry_the_correlation_id_of_what_is_handled():
    json_logger, json_out = _logger(JsonFormatter("registry"))
    text_logger, text_out = _logger(TextFormatter())
    with correlated("5f0c6a4e-0000-4000-8000-000000000001"):
        json_logger.info("changed")
        text_logger.info("changed")
    json_logger.info("idle")
    text_logger.info("idle")
    inside, outside = (json.loads(line) for line in json_out.getvalue().splitlines())
    assert (inside["correlation_id"], outside["correlation_id"]) == ("5f0c6a4e-0000-4000-8000-000000000001", None)
    text_inside, text_outside = text_out.getvalue().splitlines()
    assert text_inside.endswith("changed [correlation 5f0c6a4e-0000-4000-8000-000000000001]")
    assert text_outside.endswith("idle")
