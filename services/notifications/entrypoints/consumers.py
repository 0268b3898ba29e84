"""Notifications' subscribers: scheduling events feed the permanences usagers are booked into."""

from collections.abc import Callable

from faststream.nats import NatsRouter

from services.notifications.service_layer import handlers
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.events import Envelope, PlanPublished
from shared.messaging import ConsumerPolicy, durable_consumer


def router(uow: Callable[[], NotificationsUnitOfWork], policy: ConsumerPolicy) -> NatsRouter:
    nats = NatsRouter()

    @durable_consumer(nats, PlanPublished, durable=handlers.PLANS_CONSUMER, policy=policy)
    async def plan_published(envelope: Envelope, event: PlanPublished) -> None:
        """A plan published by scheduling: its permanences become bookable."""
        await handlers.record_published_plan(envelope, event, uow())

    return nats
