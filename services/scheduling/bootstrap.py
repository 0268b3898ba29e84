"""Composition root of scheduling: settings, database, broker, unit of work, routes, subscribers."""

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from services.scheduling.adapters import orm
from services.scheduling.entrypoints import api, consumers, coordinator_page, solver_queue, week_api
from services.scheduling.service_layer.solver import Solver, SolverSettings
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from services.scheduling.settings import SchedulingSettings
from shared.auth import authenticator, feed_authenticator
from shared.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


@dataclass(frozen=True)
class Scheduling:
    runtime: ServiceRuntime
    app: FastAPI
    uow: Callable[[], SchedulingUnitOfWork]


def bootstrap(settings: SchedulingSettings | None = None) -> Scheduling:
    settings = settings or SchedulingSettings()
    runtime = ServiceRuntime(settings, outbox=orm.outbox, migrations=MIGRATIONS)

    def uow() -> SchedulingUnitOfWork:
        return SchedulingUnitOfWork(runtime.sessions, on_commit=runtime.wake_relay)

    runtime.include(consumers.router(uow, runtime.consumer_policy))
    if settings.solver_enabled:
        solver = Solver(
            uow,
            SolverSettings(
                holder=settings.solver_name or f"{socket.gethostname()}:{os.getpid()}",
                workers=settings.solver_threads,
                lease_s=settings.solver_lease_s,
                heartbeat_s=settings.solver_heartbeat_s,
                max_attempts=settings.solver_max_attempts,
            ),
        )
        runtime.include(solver_queue.router(solver, runtime.consumer_policy))
    caller = authenticator(settings.auth_secret)
    app = runtime.http_app(
        api.router(uow, caller, feed_authenticator(settings.auth_secret)),
        week_api.router(uow, caller),
        title="Tournées — scheduling",
        description="Plans of permanences across the communes of a territory.",
    )
    coordinator_page.mount(
        app, registry_url=settings.registry_public_url, notifications_url=settings.notifications_public_url
    )
    return Scheduling(runtime, app, uow)
