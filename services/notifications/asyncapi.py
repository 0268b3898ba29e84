"""Notifications' AsyncAPI document (``docs/asyncapi/notifications.json``): ``tournees asyncapi`` writes it,
``faststream docs gen services.notifications.asyncapi:app`` too. Built without NATS nor a database."""

from faststream import FastStream

from services.notifications.bootstrap import bootstrap
from services.notifications.settings import NotificationsSettings
from shared.asyncapi import asyncapi_app
from shared.events import Event

PUBLISHES: tuple[type[Event], ...] = ()
"""Notifications publishes no event (yet): the NOTIFICATIONS stream is declared for when it does."""


def build() -> FastStream:
    # Defaults only (not the environment), an in-memory database never opened, no sender: the same
    # document anywhere.
    settings = NotificationsSettings.model_construct(database_url="sqlite:///:memory:", sender_enabled=False)
    built = bootstrap(settings)
    return asyncapi_app(
        built.runtime.broker,
        service="notifications",
        description=built.app.description,
        publishes=PUBLISHES,
        version=built.app.version,
    )


app = build()
