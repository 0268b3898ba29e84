"""Notifications HTTP API: thin routes that call the handlers."""

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from services.notifications.domain.contacts import Channel
from services.notifications.domain.model import Permanence
from services.notifications.service_layer import handlers
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.auth import Authenticator, Principal, Role, require_role
from shared.http import MAX_OFFSET, problems


class BookedOut(BaseModel):
    """Active bookings by the channel their usagers are told by (an usager without contact left: neither)."""

    sms: int
    email: int


class PermanenceOut(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    conseiller_id: uuid.UUID
    commune: str
    lieu: str
    kind: str
    starts_at: dt.datetime
    local_start: dt.datetime
    ends_at: dt.datetime
    time_zone: str
    territory: str
    capacity: int | None
    commune_name: str = Field(description='the commune\'s name ("" when published before names were sent)')
    booked: BookedOut

    @classmethod
    def of(cls, p: Permanence, booked: Mapping[Channel, int]) -> "PermanenceOut":
        return cls(**vars(p), local_start=p.local_start(), booked=BookedOut(sms=booked["sms"], email=booked["email"]))


def router(uow: Callable[[], NotificationsUnitOfWork], principal: Authenticator) -> APIRouter:
    api = APIRouter(prefix="/permanences", tags=["permanences"], responses=problems(401, 403))

    @api.get("")
    async def list_permanences(
        who: Annotated[Principal, Depends(principal)],
        plan_id: uuid.UUID | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> list[PermanenceOut]:
        """Published permanences, by start: all of them for an admin, a coordinator's territories' only; each
        with its active bookings by channel (``booked``: who would be told of a change, and how)."""
        require_role(who, Role.ADMIN, Role.COORDINATOR)
        items = await handlers.list_permanences(uow(), who, plan_id=plan_id, limit=limit, offset=offset)
        return [PermanenceOut.of(p, booked) for p, booked in items]

    return api
