"""The registry's AsyncAPI document (``docs/asyncapi/registry.json``): ``tournees asyncapi`` writes it,
``faststream docs gen services.registry.asyncapi:app`` too. Built without NATS nor a database."""

from faststream import FastStream

from services.registry.bootstrap import bootstrap
from services.registry.settings import RegistrySettings
from shared.asyncapi import asyncapi_app
from shared.events import CATALOGUE, Event

PUBLISHES: tuple[type[Event], ...] = tuple(e for subject, e in CATALOGUE.items() if subject.startswith("registry."))
"""What the registry's outbox relay publishes: every event of the catalogue on a ``registry.`` subject."""


def build() -> FastStream:
    # Defaults only (not the environment), an in-memory database never opened: the same document anywhere.
    built = bootstrap(RegistrySettings.model_construct(database_url="sqlite:///:memory:"))
    return asyncapi_app(
        built.runtime.broker,
        service="registry",
        description=built.app.description,
        publishes=PUBLISHES,
        version=built.app.version,
    )


app = build()
