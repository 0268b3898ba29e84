"""Notifications use cases."""

import uuid

from services.notifications.domain.bookings import booked_by_channel
from services.notifications.domain.contacts import Channel
from services.notifications.domain.model import Permanence
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.auth import Principal
from shared.events import Envelope, PlanPublished

PLANS_CONSUMER = "notifications-plans"


async def record_published_plan(envelope: Envelope, event: PlanPublished, uow: NotificationsUnitOfWork) -> None:
    """Keep the permanences of a published plan, so usagers can be booked into them."""
    async with uow:
        if not await uow.begin_applying(PLANS_CONSUMER, envelope):
            return
        for planned in event.permanences:
            await uow.permanences.upsert(Permanence.published(event.plan_id, event.territory, planned))
        await uow.commit()


async def list_permanences(
    uow: NotificationsUnitOfWork, who: Principal, *, plan_id: uuid.UUID | None, limit: int, offset: int
) -> list[tuple[Permanence, dict[Channel, int]]]:
    """Every permanence for an admin; a coordinator's territories' only; each with its active bookings by the
    channel their usagers are reached by (``bookings.booked_by_channel``)."""
    territories = None if who.is_admin else who.territories
    async with uow:
        items = await uow.permanences.list(plan_id=plan_id, limit=limit, offset=offset, territories=territories)
        booked = await uow.bookings.contacts_booked([p.id for p in items])
    by_channel = booked_by_channel((p.id for p in items), booked)
    return [(p, by_channel[p.id]) for p in items]
