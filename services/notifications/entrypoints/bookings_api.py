"""Usagers and bookings over HTTP: thin routes that call ``service_layer.bookings``.

Errors become answers in one place (``error_handlers``): an unreachable usager 422 naming the
field, a refused booking (full, already booked, started, no consent) 409, an unknown record 404,
a record outside the caller's scope 403. No answer repeats a phone number or an e-mail address.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.notifications.domain.bookings import Booking, BookingRefused, RuleBroken, Usager
from services.notifications.domain.commands import Book, RegisterUsager
from services.notifications.domain.contacts import Channel, InvalidContact
from services.notifications.domain.messages import Message, MessageKind, MessageStatus, SendingRules
from services.notifications.service_layer import bookings
from services.notifications.service_layer.access import Forbidden
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.auth import Authenticator, Principal, Role, require_role
from shared.http import MAX_OFFSET, problems


class UsagerIn(BaseModel):
    name: str
    phone: str | None = None
    """As written: "06 12 34 56 78", "+590 690 …"; checked by the domain, never echoed back in errors."""
    email: str | None = None
    preferred_channel: Channel = "sms"
    consent: bool
    """Agreed to be contacted about their bookings (required to book)."""
    territory: str = Field(min_length=1, max_length=100)


class UsagerOut(BaseModel):
    id: uuid.UUID
    name: str
    phone: str | None
    """E.164."""
    email: str | None
    preferred_channel: Channel
    channel: Channel | None
    """The channel messages go by (none once anonymised)."""
    consent: bool
    territory: str
    created_at: dt.datetime
    last_booking_at: dt.datetime | None
    anonymised_at: dt.datetime | None = Field(description="when their name and contacts were erased")

    @classmethod
    def of(cls, u: Usager) -> "UsagerOut":
        return cls(
            id=u.id, name=u.name, phone=u.phone.e164 if u.phone else None, email=u.email,
            preferred_channel=u.preferred_channel, channel=None if u.anonymised_at else u.channel(),
            consent=u.consent, territory=u.territory, created_at=u.created_at, last_booking_at=u.last_booking_at,
            anonymised_at=u.anonymised_at,
        )  # fmt: skip


class BookingIn(BaseModel):
    usager_id: uuid.UUID
    permanence_id: uuid.UUID


class BookingOut(BaseModel):
    id: uuid.UUID
    usager_id: uuid.UUID
    permanence_id: uuid.UUID
    status: str
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    cancel_reason: str | None = Field(description="why, when scheduling cancelled its permanence")
    version: int = Field(description="1, then one more each time its permanence moved")

    @classmethod
    def of(cls, b: Booking) -> "BookingOut":
        return cls(
            id=b.id, usager_id=b.usager_id, permanence_id=b.permanence_id, status=b.status.value,
            created_at=b.created_at, cancelled_at=b.cancelled_at, cancel_reason=b.cancel_reason, version=b.version,
        )  # fmt: skip


class BookingPage(BaseModel):
    items: list[BookingOut]
    total: int
    limit: int
    offset: int


class MessageOut(BaseModel):
    """One row of the send log; it names the channel, never the phone number or e-mail address."""

    id: uuid.UUID
    booking_id: uuid.UUID
    usager_id: uuid.UUID
    kind: MessageKind
    version: int
    channel: Channel
    due_at: dt.datetime
    status: MessageStatus
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    next_attempt_at: dt.datetime | None = Field(description="not tried again before then (a retry, quiet hours)")
    provider_sid: str | None = Field(description="Twilio's sid of the SMS, once accepted")
    text: str | None = Field(
        default=None, description="what it says: the SMS, or the e-mail's subject (None: about an earlier version)"
    )
    delivery_status: str | None = Field(description="as Twilio last reported it, for an SMS")
    delivery_error_code: str | None

    @classmethod
    def of(cls, m: Message) -> "MessageOut":
        return cls(**vars(m))


RECORD = problems(403, 404)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def router(
    uow: Callable[[], NotificationsUnitOfWork],
    principal: Authenticator,
    rules: SendingRules,
    clock: Callable[[], dt.datetime] = _now,
    cancel_phone: str | None = None,
) -> APIRouter:
    api = APIRouter(responses=problems(401))
    Who = Annotated[Principal, Depends(principal)]

    @api.post("/usagers", status_code=status.HTTP_201_CREATED, tags=["usagers"], responses=problems(403))
    async def register_usager(body: UsagerIn, who: Who) -> UsagerOut:
        cmd = RegisterUsager(**body.model_dump())
        return UsagerOut.of(await bookings.register_usager(cmd, uow(), who, clock()))

    @api.get("/usagers/{usager_id}", tags=["usagers"], responses=RECORD)
    async def get_usager(usager_id: uuid.UUID, who: Who) -> UsagerOut:
        return UsagerOut.of(await bookings.get_usager(usager_id, uow(), who))

    @api.post("/bookings", status_code=status.HTTP_201_CREATED, tags=["bookings"], responses=problems(403, 404, 409))
    async def book(body: BookingIn, who: Who) -> BookingOut:
        cmd = Book(body.usager_id, body.permanence_id)
        return BookingOut.of(await bookings.book(cmd, uow(), who, clock(), rules))

    @api.delete("/bookings/{booking_id}", tags=["bookings"], responses=RECORD)
    async def cancel(booking_id: uuid.UUID, who: Who) -> BookingOut:
        """Cancel, giving the seat back; cancelling again answers the same cancelled booking."""
        return BookingOut.of(await bookings.cancel(booking_id, uow(), who, clock()))

    @api.get("/permanences/{permanence_id}/bookings", tags=["bookings"], responses=RECORD)
    async def bookings_of(
        permanence_id: uuid.UUID,
        who: Who,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> BookingPage:
        items, total = await bookings.bookings_of(permanence_id, uow(), who, limit=limit, offset=offset)
        return BookingPage(items=[BookingOut.of(b) for b in items], total=total, limit=limit, offset=offset)

    @api.get("/bookings/{booking_id}/messages", tags=["bookings"], responses=RECORD)
    async def messages_of(booking_id: uuid.UUID, who: Who) -> list[MessageOut]:
        """The send log of a booking (admins, and coordinators of its permanence's territory)."""
        require_role(who, Role.ADMIN, Role.COORDINATOR)
        log = await bookings.messages_of(booking_id, uow(), who, cancel_phone)
        return [MessageOut.of(m).model_copy(update={"text": text}) for m, text in log]

    return api


def error_handlers(app: FastAPI) -> None:
    def answer(code: int) -> Callable[[Request, Exception], JSONResponse]:
        def handle(_: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"detail": str(exc)}, status_code=code)

        return handle

    def rule_broken(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, InvalidContact | RuleBroken)
        detail = [{"loc": ["body", exc.field], "msg": exc.reason, "type": "value_error"}]
        return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    def invalid_request(_: Request, exc: Exception) -> JSONResponse:
        """FastAPI's 422, without the ``input`` it would echo (it may be a phone number or an e-mail)."""
        assert isinstance(exc, RequestValidationError)
        detail: list[dict[str, Any]] = [
            {key: value for key, value in error.items() if key not in ("input", "ctx")} for error in exc.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    app.add_exception_handler(InvalidContact, rule_broken)
    app.add_exception_handler(RuleBroken, rule_broken)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(BookingRefused, answer(status.HTTP_409_CONFLICT))
    app.add_exception_handler(bookings.NotFound, answer(status.HTTP_404_NOT_FOUND))
    app.add_exception_handler(Forbidden, answer(status.HTTP_403_FORBIDDEN))
