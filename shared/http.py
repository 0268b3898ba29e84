"""What every service's HTTP API shares: the probes, a correlation id per request, and a bound on the requests
in flight."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.metrics import HTTP_IN_FLIGHT, HTTP_REJECTED
from shared.telemetry.logs import correlated

CORRELATION_HEADER = "X-Correlation-Id"
UNBOUNDED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""Never refused for load: a liveness probe failing under load would have a busy process restarted, a readiness
probe would move its load onto the other replicas (and, all busy, take the service away), and the metrics are
how an operator sees the overload. All three are cheap."""
RETRY_AFTER_S = 1


class CorrelationMiddleware:
    """Each request is handled under a correlation id: the caller's ``X-Correlation-Id`` when it is a UUID, a new
    one otherwise; log lines and the events the request records carry it, and the answer gives it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(CORRELATION_HEADER.lower().encode(), b"").decode("latin-1")
        correlation_id = given if _is_uuid(given) else str(uuid.uuid4())

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (CORRELATION_HEADER.lower().encode(), correlation_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        with correlated(correlation_id):
            await self.app(scope, receive, answer)


class AdmissionControl:
    """At most ``limit`` requests in flight in this process (0: no bound); beyond, ``503`` with ``Retry-After`` at
    once, before any work: a request waiting behind hundreds of others is answered too late to be of use, and the
    queue slows every other one (``docs/benchmarks.md``, "Registry"). The probes and ``/metrics`` are exempt
    (``UNBOUNDED_PATHS``)."""

    def __init__(self, app: ASGIApp, *, limit: int, service: str) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0
        self._gauge = HTTP_IN_FLIGHT.labels(service=service)
        self._rejected = HTTP_REJECTED.labels(service=service)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0 or scope["path"] in UNBOUNDED_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            self._rejected.inc()
            busy = JSONResponse(
                {"detail": "too many requests in progress; try again shortly"},
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
            await busy(scope, receive, send)
            return
        self.in_flight += 1  # one event loop: no lock needed
        self._gauge.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self._gauge.dec()


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def probes(readiness: Callable[[], Awaitable[dict[str, str]]]) -> APIRouter:
    """``/healthz`` (the process answers) and ``/readyz`` (its database and NATS answer)."""
    router = APIRouter(tags=["probes"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        checks = await readiness()
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE,
        )

    return router
