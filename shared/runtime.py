"""Running one service: database migrated, streams declared, relay and subscribers started,
HTTP API served, and everything stopped in order on SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from faststream.nats import NatsBroker, NatsRouter
from sqlalchemy import Table

from shared import db, metrics
from shared.events.streams import ensure_streams
from shared.http import (
    AdmissionControl,
    CorrelationMiddleware,
    answer_503_while_the_database_is_unreachable,
    documented_unparsable_bodies,
    probes,
)
from shared.http_workers import HttpWorkers, Served
from shared.messaging import ConsumerPolicy, durables
from shared.migrations import upgrade
from shared.outbox import OutboxRelay
from shared.settings import ServiceSettings
from shared.telemetry import configure_logging, instrument_app, instrument_engine, setup_telemetry

log = logging.getLogger(__name__)
GRACEFUL_SHUTDOWN_S = 20


class ServiceRuntime:
    """The process-level resources of one service, started and stopped together."""

    def __init__(self, settings: ServiceSettings, *, outbox: Table, migrations: Path) -> None:
        self.settings = settings
        self.name = settings.service_name
        self.engine = db.create_engine(settings.sqlalchemy_url, schema=settings.database_schema)
        instrument_engine(self.engine)
        self.sessions = db.session_factory(self.engine)
        self.broker = NatsBroker(
            settings.nats_url,
            name=f"tournees-{self.name}",
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            logger=logging.getLogger("faststream"),
            log_level=logging.DEBUG,  # one line per message received: debug, not info
        )
        self.outbox = outbox
        self.migrations = migrations
        self.http_only = False
        """An extra HTTP worker (``shared.http_workers``): no migration, relay, subscribers nor background work."""
        self.relay: OutboxRelay | None = None
        self._after_migrations: list[Callable[[], Awaitable[None]]] = []
        self._workers: list[Callable[[asyncio.Event], Awaitable[None]]] = []
        self._worker_tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self._relay_task: asyncio.Task[None] | None = None
        self._durables: list[tuple[str, str]] = []
        self.add_worker(self._sample_consumer_lag)

    @property
    def consumer_policy(self) -> ConsumerPolicy:
        s = self.settings
        return ConsumerPolicy(
            max_deliver=s.consumer_max_deliver,
            ack_wait_s=s.consumer_ack_wait_s,
            max_ack_pending=s.consumer_max_ack_pending,
            base_delay_s=s.retry_base_delay_s,
            max_delay_s=s.retry_max_delay_s,
        )

    def add_worker(self, work: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        """Background work for the life of the service: ``work(stop)`` returns once ``stop`` is set."""
        self._workers.append(work)

    def include(self, router: NatsRouter) -> None:
        self.broker.include_router(router)
        self._durables.extend(durables(router))

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    def on_migrated(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run ``step`` after each migration (reference data a service ships, say); it must be idempotent."""
        self._after_migrations.append(step)

    async def migrate(self) -> None:
        await upgrade(self.engine, self.migrations)
        for step in self._after_migrations:
            await step()

    async def start(self) -> None:
        if self.http_only:
            await self._connect()  # /readyz tells whether NATS answers, whichever process answers it
            return
        await self.migrate()
        await self._connect()
        js = self.broker.connection.jetstream()
        await ensure_streams(
            js, replicas=self.settings.stream_replicas, duplicate_window_s=self.settings.duplicate_window_s
        )
        self._stop.clear()
        self.relay = OutboxRelay(
            self.engine,
            self.outbox,
            js,
            batch_size=self.settings.relay_batch_size,
            interval_s=self.settings.relay_interval_s,
            service=self.name,
        )
        self._relay_task = asyncio.create_task(self.relay.run(self._stop), name=f"{self.name}-outbox-relay")
        await self.broker.start()
        self._worker_tasks = [asyncio.ensure_future(work(self._stop)) for work in self._workers]
        log.info("%s started", self.name)

    async def _connect(self) -> None:
        """First connection, with a deadline: reconnecting forever is for after it succeeded.
        Without one, a service pointed at a wrong NATS_URL would hang silently at start-up."""
        timeout = self.settings.nats_connect_timeout_s
        try:
            await asyncio.wait_for(self.broker.connect(), timeout)
        except (TimeoutError, OSError) as exc:
            raise RuntimeError(f"cannot reach NATS at {self.settings.nats_url} within {timeout:g} s") from exc

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._worker_tasks)
        if self._relay_task is not None:
            await self._relay_task
        await self.broker.stop()
        await self.engine.dispose()
        log.info("%s stopped", self.name)

    async def _sample_consumer_lag(self, stop: asyncio.Event) -> None:
        """Every ``metrics_interval_s``, how many messages each durable consumer has not acknowledged yet."""
        js = self.broker.connection.jetstream()
        while not stop.is_set():
            for stream, durable in self._durables:
                try:
                    info = await js.consumer_info(stream, durable, timeout=2)
                except Exception as exc:  # NATS away, or the consumer not created yet: next time
                    log.debug("no consumer info for %s: %s", durable, type(exc).__name__)
                    continue
                metrics.CONSUMER_PENDING.labels(consumer=durable).set(
                    (info.num_pending or 0) + (info.num_ack_pending or 0)
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.metrics_interval_s)

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(db.ping(self.engine), timeout=2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        checks["nats"] = "ok" if await self.broker.ping(timeout=1) else "disconnected"
        return checks

    def http_app(self, *routers: APIRouter, title: str, description: str = "") -> FastAPI:
        @contextlib.asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
        # Innermost of the three: a refusal still carries the CORS headers (a page can read it) and a correlation id.
        app.add_middleware(AdmissionControl, limit=self.settings.http_max_in_flight, service=self.name)
        if self.settings.cors_origin_list:
            app.add_middleware(
                CORSMiddleware,
                allow_origins=self.settings.cors_origin_list,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                # A page's requests may carry its trace and correlation ids; it reads where a request went.
                allow_headers=["Authorization", "Content-Type", "traceparent", "tracestate", "X-Correlation-Id"],
                expose_headers=["Location", "X-Correlation-Id"],
            )
        app.add_middleware(CorrelationMiddleware)
        app.include_router(probes(self.readiness))
        app.include_router(metrics.router())
        for router in routers:
            app.include_router(router)
        documented_unparsable_bodies(app)
        answer_503_while_the_database_is_unreachable(app)
        instrument_app(app)
        return app


def serve(build: Callable[[], Served]) -> None:
    """Serve the service ``build`` makes until SIGTERM/SIGINT, in ``HTTP_WORKERS`` processes (``shared.http_workers``);
    uvicorn's graceful shutdown runs the lifespan's ``stop``."""
    service = build()
    runtime = service.runtime
    configure_logging(runtime.settings.log_level, json_lines=runtime.settings.json_logs, service=runtime.name)
    workers = runtime.settings.http_workers
    if workers <= 1:
        run_server(runtime, service.app)
        return
    sock = _server_config(runtime, service.app).bind_socket()
    asyncio.run(_migrate_once(runtime))  # before any other process serves
    others = HttpWorkers(build, workers - 1, sock)
    runtime.add_worker(others.watch)
    try:
        run_server(runtime, service.app, sockets=[sock])
    finally:
        others.stop()  # at once if the lifespan stopped them already; else (it failed to start) now


def run_server(runtime: ServiceRuntime, app: FastAPI, sockets: list[socket.socket] | None = None) -> None:
    """One process serving ``app``, on ``sockets`` when given (shared with other processes), else on its own."""
    provider = setup_telemetry(runtime.name)
    try:
        uvicorn.Server(_server_config(runtime, app)).run(sockets=sockets)
    finally:
        provider.shutdown()  # the spans still batched are exported


def _server_config(runtime: ServiceRuntime, app: FastAPI) -> uvicorn.Config:
    settings = runtime.settings
    return uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )


async def _migrate_once(runtime: ServiceRuntime) -> None:
    try:
        await runtime.migrate()
    finally:
        await runtime.engine.dispose()  # its connections belong to this event loop
