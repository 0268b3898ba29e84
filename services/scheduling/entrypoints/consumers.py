"""Scheduling's subscribers: registry events feed the local copy."""

from collections.abc import Callable

from faststream.nats import NatsRouter

from services.scheduling.service_layer import handlers
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from shared.events import ConseillerRegistered, Envelope
from shared.messaging import ConsumerPolicy, durable_consumer


def router(uow: Callable[[], SchedulingUnitOfWork], policy: ConsumerPolicy) -> NatsRouter:
    nats = NatsRouter()

    @durable_consumer(nats, ConseillerRegistered, durable=handlers.CONSEILLERS_CONSUMER, policy=policy)
    async def conseiller_registered(envelope: Envelope, event: ConseillerRegistered) -> None:
        """A conseiller registered in the registry joins scheduling's local copy."""
        await handlers.record_conseiller(envelope, event, uow())

    return nats
