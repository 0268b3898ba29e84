"""The sender traced and counted: a send joins the trace of what planned the message; /metrics counts it."""

from __future__ import annotations

from opentelemetry import trace

from services.notifications.domain.messages import MessageKind
from shared.telemetry import inject
from tests.integration.bookings_stack import api
from tests.integration.helpers import metrics_text, sample
from tests.integration.sender_stack import PHONE, booked, clock, fake_twilio, messages, notifications, sender, smtp_sink

__all__ = ["api", "clock", "fake_twilio", "notifications", "smtp_sink"]


async def test_a_send_joins_the_trace_of_the_booking_that_planned_it_and_is_counted(
    api, nc, notifications, fake_twilio, clock, spans
):
    with trace.get_tracer("tests").start_as_current_span("agent d'accueil") as root:
        api.headers.update(inject({}))  # the booking's request is traced in the caller's trace
    sent_before = sample(await metrics_text(api), "tournees_messages_sent_total", channel="sms") or 0.0
    booking_id, _ = await booked(api, nc)
    confirmation = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION]
    assert confirmation.traceparent is not None
    clock.now = confirmation.due_at
    assert await sender(notifications, clock).send_due() == 1

    [send] = [s for s in spans.get_finished_spans() if s.name == "send sms"]
    [booking] = [s for s in spans.get_finished_spans() if s.name == "POST /bookings"]
    assert send.context.trace_id == booking.context.trace_id == root.get_span_context().trace_id
    assert send.parent is not None
    assert send.parent.span_id in {
        s.context.span_id for s in spans.get_finished_spans() if s.context.trace_id == booking.context.trace_id
    }
    assert dict(send.attributes or {}) == {
        "tournees.message.id": str(confirmation.id),
        "tournees.message.kind": "confirmation",
        "tournees.message.channel": "sms",
        "tournees.message.outcome": "sent",
    }
    assert sample(await metrics_text(api), "tournees_messages_sent_total", channel="sms") == sent_before + 1


async def test_a_permanent_failure_is_counted_by_twilio_code(api, nc, notifications, fake_twilio, clock):
    _, fake = fake_twilio
    failed_before = (
        sample(await metrics_text(api), "tournees_messages_failed_total", channel="sms", reason="21610") or 0.0
    )
    booking_id, _ = await booked(api, nc)
    fake.state.unsubscribed.add(PHONE)  # opted out at Twilio: 21610
    clock.now = (await messages(notifications, booking_id))[MessageKind.CONFIRMATION].due_at
    await sender(notifications, clock).send_due()
    text = await metrics_text(api)
    assert sample(text, "tournees_messages_failed_total", channel="sms", reason="21610") == failed_before + 1
    assert PHONE not in text
