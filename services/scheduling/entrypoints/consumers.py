"""Scheduling's subscribers: the whole REGISTRY stream, in order, feeds the local copy."""

from collections.abc import Callable

from faststream.nats import NatsRouter

from services.scheduling.service_layer import registry_copy
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from shared.events import Envelope, Event
from shared.messaging import ConsumerPolicy, durable_consumer


def router(uow: Callable[[], SchedulingUnitOfWork], policy: ConsumerPolicy) -> NatsRouter:
    nats = NatsRouter()

    @durable_consumer(
        nats,
        *registry_copy.REGISTRY_EVENTS,
        durable=registry_copy.REGISTRY_CONSUMER,
        policy=policy,
        subject="registry.>",
    )
    async def registry_event(envelope: Envelope, event: Event) -> None:
        """Every registry event, in stream order, keeps scheduling's copy of the registry; a new consumer replays
        the stream from its start and so rebuilds the whole copy."""
        await registry_copy.apply_registry_event(envelope, event, uow())

    return nats
