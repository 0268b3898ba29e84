"""Prometheus metrics, served on ``GET /metrics`` by every service (text exposition format, no credentials,
like ``/healthz``: nothing in them is personal data).

Labels are bounded: a solve's kind, a channel, a consumer's durable name, a failure's provider code or
kind; never an id, a phone number nor an address. Each service runs in its own process; a process that
runs several (the integration tests) exposes the metrics of all of them on each service's ``/metrics``.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

SOLVE_SECONDS = Histogram(
    "tournees_solve_seconds",
    "Wall time of a CP-SAT solve (plan, re-plan or what-if), by kind and outcome",
    ["kind", "outcome"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200),
)
SOLVE_GAP = Gauge(
    "tournees_solve_gap",
    "Relative gap between the last plan solved and CP-SAT's proven bound, by kind (0: optimal)",
    ["kind"],
)
PLANS_PUBLISHED = Counter("tournees_plans_published_total", "Plans published by scheduling")
MESSAGES_SENT = Counter("tournees_messages_sent_total", "Messages to usagers the provider accepted", ["channel"])
MESSAGES_FAILED = Counter(
    "tournees_messages_failed_total",
    "Messages to usagers that failed for good, by reason: the provider's code (Twilio, SMTP) or the kind of failure",
    ["channel", "reason"],
)
MESSAGES_RETRIED = Counter(
    "tournees_messages_retried_total",
    "Sends that failed for now and are tried again later, by reason (as for failures)",
    ["channel", "reason"],
)
OUTBOX_BACKLOG = Gauge(
    "tournees_outbox_backlog", "Outbox rows not published yet, as the relay last saw them", ["service"]
)
CONSUMER_PENDING = Gauge(
    "tournees_consumer_pending",
    "Messages a durable consumer has not acknowledged yet (JetStream num_pending + num_ack_pending), sampled",
    ["consumer"],
)
DEAD_LETTERS = Counter(
    "tournees_dead_letters_total", "Messages a consumer gave up on, sent to its dead-letter subject", ["consumer"]
)

HTTP_IN_FLIGHT = Gauge("tournees_http_in_flight", "HTTP requests being handled now (probes aside)", ["service"])
HTTP_REJECTED = Counter(
    "tournees_http_rejected_total", "HTTP requests answered 503 at once: too many in flight already", ["service"]
)

_CODE = re.compile(r"^[0-9]{3,6}$")


def reason_label(code: str | None, kind: str) -> str:
    """A bounded label for why a send failed: the provider's numeric code, else ``kind`` (never free text)."""
    return code if code is not None and _CODE.match(code) else kind


def router() -> APIRouter:
    routes = APIRouter(tags=["probes"])

    @routes.get("/metrics", response_class=Response, summary="Prometheus metrics (text exposition format)")
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return routes
