"""What every service's HTTP API shares: the probes, a correlation id per request, a bound on the requests in
flight, answers while the database is unreachable, and how error answers are documented."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.db import UNREACHABLE, database_unreachable
from shared.metrics import HTTP_IN_FLIGHT, HTTP_REJECTED
from shared.telemetry.logs import correlated

log = logging.getLogger(__name__)

CORRELATION_HEADER = "X-Correlation-Id"
MAX_OFFSET = 1_000_000
"""The largest ``offset`` a listing takes: past any of its tables, and far below the databases' 64-bit integers
(a larger one was a 500)."""


class Problem(BaseModel):
    """An error answer (but 422's, which name the fields at fault)."""

    detail: str


_MEANINGS = {
    401: "no valid bearer token: missing, expired, or not this deployment's",
    403: "the caller's role or territories do not allow it",
    404: "no such record",
    409: "the record's state refuses it: a stale version, a conflict with another record",
    413: "the body is too large",
    415: "the body is of a media type this route does not take",
    429: "too many attempts: try again after Retry-After seconds",
    503: "the service cannot answer now (its database is unreachable): try again after Retry-After seconds",
}
DATABASE_RETRY_AFTER_S = 5


_PROBLEM = {"$ref": "#/components/schemas/Problem"}


def invalid(description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a 422 that a route raises itself (``RequestValidationError``), for a route
    FastAPI does not document one for: the same body as FastAPI's, naming the fields at fault."""
    schema = {"$ref": "#/components/schemas/HTTPValidationError"}
    return {422: {"description": description, "content": {"application/json": {"schema": schema}}}}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of these error statuses, each answered as a ``Problem``."""
    return {code: {"model": Problem, "description": _MEANINGS[code]} for code in codes}


def answer_503_while_the_database_is_unreachable(app: FastAPI) -> None:
    """A request that meets the database down (stopped, restarting, failing over) is answered 503 with
    Retry-After and logged in one line, not a 500 with a traceback: the client should simply try again."""

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        if not database_unreachable(exc):
            raise exc
        log.warning("%s %s: database unreachable (%s), answered 503", request.method, request.url.path,
                    type(exc).__name__)  # fmt: skip
        return JSONResponse(
            {"detail": _MEANINGS[503]},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
        )

    for kind in (*UNREACHABLE, DBAPIError):
        app.add_exception_handler(kind, unavailable)


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


def documented_unparsable_bodies(app: FastAPI) -> None:
    """FastAPI answers 400 to a JSON body it cannot parse (not UTF-8, say) before any route runs: each operation
    that takes one says so in the app's OpenAPI."""
    generate = app.openapi
    unparsable = {"description": "the body cannot be parsed", "content": {"application/json": {"schema": _PROBLEM}}}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            for operation in (op for path in document["paths"].values() for op in path.values()):
                if "application/json" in operation.get("requestBody", {}).get("content", {}):
                    operation["responses"].setdefault("400", unparsable)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def probes(readiness: Callable[[], Awaitable[dict[str, str]]]) -> APIRouter:
    """``/healthz`` (the process answers) and ``/readyz`` (its database and NATS answer)."""
    router = APIRouter(tags=["probes"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", responses={503: {"description": "its database or NATS does not answer"}})
    async def readyz() -> JSONResponse:
        checks = await readiness()
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE,
        )

    return router
