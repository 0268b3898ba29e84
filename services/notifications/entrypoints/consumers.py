"""Notifications' subscribers: scheduling events feed the permanences usagers are booked into."""

import datetime as dt
from collections.abc import Callable

from faststream.nats import NatsRouter

from services.notifications.domain.messages import SendingRules
from services.notifications.service_layer import handlers, permanence_changes
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.events import Envelope, Event, PermanenceCancelled, PermanenceMoved, PlanPublished
from shared.messaging import ConsumerPolicy, durable_consumer


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def router(
    uow: Callable[[], NotificationsUnitOfWork],
    policy: ConsumerPolicy,
    rules: SendingRules,
    clock: Callable[[], dt.datetime] = _now,
) -> NatsRouter:
    nats = NatsRouter()

    @durable_consumer(nats, PlanPublished, durable=handlers.PLANS_CONSUMER, policy=policy)
    async def plan_published(envelope: Envelope, event: PlanPublished) -> None:
        """A plan published by scheduling: its permanences become bookable."""
        await handlers.record_published_plan(envelope, event, uow())

    @durable_consumer(
        nats,
        PermanenceMoved,
        PermanenceCancelled,
        durable=permanence_changes.PERMANENCE_CHANGES_CONSUMER,
        policy=policy,
        subject="scheduling.permanence.>",
    )
    async def permanence_changed(envelope: Envelope, event: Event) -> None:
        """A permanence moved or cancelled by a re-plan: its usagers follow it or are cancelled, and are told."""
        if isinstance(event, PermanenceMoved):
            await permanence_changes.move_permanence(envelope, event, uow(), rules, clock())
        elif isinstance(event, PermanenceCancelled):
            await permanence_changes.cancel_permanence(envelope, event, uow(), rules, clock())

    return nats
