"""What every service's HTTP API shares: the probes, and a correlation id per request."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.telemetry.logs import correlated

CORRELATION_HEADER = "X-Correlation-Id"


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
