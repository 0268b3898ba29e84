"""An usager's data exported, or erased, on their request: thin routes that call ``service_layer.privacy``.

``GET /usagers/{id}/export`` answers everything held about the usager (contacts decrypted: it is
for them); ``DELETE /usagers/{id}`` anonymises them and answers what is left, again the same on a
second call. Allowed to whoever may read the usager; an unknown usager is 404, one outside the
caller's territories 403 (``bookings_api.error_handlers``).
"""

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.notifications.adapters.privacy_repository import BookingRecord, MessageRecord
from services.notifications.domain.contacts import Channel
from services.notifications.domain.messages import MessageKind, MessageStatus
from services.notifications.entrypoints.bookings_api import UsagerOut
from services.notifications.service_layer import privacy
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.auth import Authenticator, Principal
from shared.http import problems


class ExportedUsager(UsagerOut):
    sms_opted_out: bool = Field(description="replied STOP to an SMS")
    opted_out_at: dt.datetime | None


class ExportedBooking(BaseModel):
    id: uuid.UUID
    permanence_id: uuid.UUID
    status: str
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    cancel_reason: str | None
    version: int
    lieu: str
    commune: str
    commune_name: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    time_zone: str

    @classmethod
    def of(cls, r: BookingRecord) -> "ExportedBooking":
        b = r.booking
        return cls(
            id=b.id, permanence_id=b.permanence_id, status=b.status.value, created_at=b.created_at,
            cancelled_at=b.cancelled_at, cancel_reason=b.cancel_reason, version=b.version, lieu=r.lieu,
            commune=r.commune, commune_name=r.commune_name, kind=r.kind, starts_at=r.starts_at, ends_at=r.ends_at,
            time_zone=r.time_zone,
        )  # fmt: skip


class ExportedMessage(BaseModel):
    id: uuid.UUID
    booking_id: uuid.UUID
    kind: MessageKind
    version: int
    channel: Channel
    status: MessageStatus
    due_at: dt.datetime
    created_at: dt.datetime
    sent_at: dt.datetime | None

    @classmethod
    def of(cls, m: MessageRecord) -> "ExportedMessage":
        return cls.model_validate(vars(m))


class UsagerExportOut(BaseModel):
    usager: ExportedUsager
    bookings: list[ExportedBooking]
    messages: list[ExportedMessage] = Field(description="the send log: what was (or will be) sent, not the text")
    exported_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def router(
    uow: Callable[[], NotificationsUnitOfWork],
    principal: Authenticator,
    clock: Callable[[], dt.datetime] = _now,
) -> APIRouter:
    api = APIRouter(tags=["usagers"], responses=problems(401, 403, 404))
    Who = Annotated[Principal, Depends(principal)]

    @api.get("/usagers/{usager_id}/export")
    async def export_usager(usager_id: uuid.UUID, who: Who) -> UsagerExportOut:
        """Everything held about the usager: their record, bookings and messages (no other usager's)."""
        export = await privacy.export_usager(usager_id, uow(), who)
        u = export.usager
        return UsagerExportOut(
            usager=ExportedUsager(
                **UsagerOut.of(u).model_dump(), sms_opted_out=u.sms_opted_out, opted_out_at=u.opted_out_at
            ),
            bookings=[ExportedBooking.of(record) for record in export.bookings],
            messages=[ExportedMessage.of(message) for message in export.messages],
            exported_at=clock(),
        )

    @api.delete("/usagers/{usager_id}", responses=problems(409))
    async def erase_usager(usager_id: uuid.UUID, who: Who) -> UsagerOut:
        """Erase the usager's personal data: name and contacts gone, bookings still to come cancelled;
        answers what is left. Erasing again answers the same."""
        return UsagerOut.of(await privacy.erase_usager(usager_id, uow(), who, clock()))

    return api


def error_handlers(app: FastAPI) -> None:
    def raced(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_409_CONFLICT)

    app.add_exception_handler(privacy.ErasureRaced, raced)
