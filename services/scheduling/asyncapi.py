"""Scheduling's AsyncAPI document (``docs/asyncapi/scheduling.json``): ``tournees asyncapi`` writes it,
``faststream docs gen services.scheduling.asyncapi:app`` too. Built without NATS nor a database."""

from faststream import FastStream

from services.scheduling.bootstrap import bootstrap
from services.scheduling.settings import SchedulingSettings
from shared.asyncapi import asyncapi_app
from shared.events import CATALOGUE, Event

PUBLISHES: tuple[type[Event], ...] = tuple(
    e for subject, e in CATALOGUE.items() if subject.startswith(("scheduling.", "solver."))
)
"""What scheduling's outbox relay publishes: every event of the catalogue on a ``scheduling.`` subject (plans and
re-plans) or a ``solver.`` one (the solve requests of its own work queue)."""


def build() -> FastStream:
    # Defaults only (not the environment: SOLVER_ENABLED=false would drop the solver's subscriber), an
    # in-memory database never opened: the same document anywhere.
    built = bootstrap(SchedulingSettings.model_construct(database_url="sqlite:///:memory:", solver_enabled=True))
    return asyncapi_app(
        built.runtime.broker,
        service="scheduling",
        description=built.app.description,
        publishes=PUBLISHES,
        version=built.app.version,
    )


app = build()
