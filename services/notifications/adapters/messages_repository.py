"""The send log: messages to usagers about their bookings (no phone number nor e-mail address in it)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import RowMapping, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters.orm import messages
from services.notifications.domain.messages import Message, MessageKind, MessageStatus


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, planned: Sequence[Message]) -> None:
        """Plan messages; one already planned for the same booking, kind and version is left as it is."""
        if not planned:
            return
        rows = [{**asdict(message), "kind": message.kind.value, "status": message.status.value} for message in planned]
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        statement = dialect.insert(messages).values(rows)
        await self.session.execute(statement.on_conflict_do_nothing(index_elements=["booking_id", "kind", "version"]))

    async def skip_pending(self, booking_id: uuid.UUID, kind: MessageKind) -> None:
        """Messages of that kind about the booking that were not sent yet will not be."""
        await self.session.execute(
            update(messages)
            .where(
                messages.c.booking_id == booking_id,
                messages.c.kind == kind.value,
                messages.c.status == MessageStatus.PENDING.value,
            )
            .values(status=MessageStatus.SKIPPED.value)
        )

    async def skip_pending_sms_of(self, usager_id: uuid.UUID, reason: str) -> int:
        """The usager's SMS not sent yet will not be, ``reason`` recorded in ``last_error``; how many."""
        result = await self.session.execute(
            update(messages)
            .where(
                messages.c.usager_id == usager_id,
                messages.c.channel == "sms",
                messages.c.status == MessageStatus.PENDING.value,
            )
            .values(status=MessageStatus.SKIPPED.value, last_error=reason)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def record_delivery(self, provider_sid: str, delivery_status: str, error_code: str | None) -> bool:
        """Record Twilio's delivery status on the message it sent under that sid; False when none has it."""
        result = await self.session.execute(
            update(messages)
            .where(messages.c.provider_sid == provider_sid)
            .values(delivery_status=delivery_status, delivery_error_code=error_code)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def of_booking(self, booking_id: uuid.UUID) -> list[Message]:
        query = (
            select(messages)
            .where(messages.c.booking_id == booking_id)
            .order_by(messages.c.version, messages.c.created_at, messages.c.due_at)
        )
        return [_message(row) for row in (await self.session.execute(query)).mappings()]


def _message(row: RowMapping) -> Message:
    return Message(**{**row, "kind": MessageKind(row["kind"]), "status": MessageStatus(row["status"])})
