"""The send log: messages to usagers about their bookings (no phone number nor e-mail address in it)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import RowMapping, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters.orm import early_delivery_statuses, messages
from services.notifications.domain.messages import Message, MessageKind, MessageStatus, not_after
from shared.telemetry import current_trace_context


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, planned: Sequence[Message]) -> None:
        """Plan messages; one already planned for the same booking, kind, version and lead is left as it is.
        Each keeps the active span's ``traceparent``, so that its send joins the trace that planned it."""
        if not planned:
            return
        traceparent = (current_trace_context() or {}).get("traceparent")
        rows = [
            {
                **asdict(message),
                "kind": message.kind.value,
                "status": message.status.value,
                "traceparent": message.traceparent or traceparent,
            }
            for message in planned
        ]
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        statement = dialect.insert(messages).values(rows)
        await self.session.execute(
            statement.on_conflict_do_nothing(index_elements=["booking_id", "kind", "version", "lead_minutes"])
        )

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

    async def record_delivery(
        self, provider_sid: str, delivery_status: str, error_code: str | None, now: dt.datetime
    ) -> bool:
        """Record Twilio's delivery status on the message sent under that sid, unless it already has a later one.
        False when no message has that sid yet: the status is kept until the sender records it (``record_sent``)."""
        known = await self.session.scalar(select(messages.c.id).where(messages.c.provider_sid == provider_sid))
        if known is None:
            await self._keep_early(provider_sid, delivery_status, error_code, now)
            return False
        await self.session.execute(
            update(messages)
            .where(
                messages.c.provider_sid == provider_sid,
                or_(messages.c.delivery_status.is_(None), messages.c.delivery_status.in_(not_after(delivery_status))),
            )
            .values(delivery_status=delivery_status, delivery_error_code=error_code)
        )
        return True

    async def _keep_early(
        self, provider_sid: str, delivery_status: str, error_code: str | None, now: dt.datetime
    ) -> None:
        early = early_delivery_statuses
        kept = await self.session.scalar(select(early.c.delivery_status).where(early.c.provider_sid == provider_sid))
        values = {"delivery_status": delivery_status, "delivery_error_code": error_code, "received_at": now}
        if kept is None:
            await self.session.execute(insert(early).values(provider_sid=provider_sid, **values))
        elif kept in not_after(delivery_status):
            await self.session.execute(update(early).where(early.c.provider_sid == provider_sid).values(**values))

    async def claim_due(
        self, now: dt.datetime, hold: dt.timedelta, limit: int, channels: Sequence[str] = ("sms", "email")
    ) -> list[Message]:
        """Take up to ``limit`` due messages, oldest first, for ``hold``: no other sender takes them before
        ``now + hold`` (a sender that dies lets them go then). Each claim counts as an attempt and marks the message
        in doubt until its outcome is recorded; the messages come back as they were before the claim.

        On Postgres concurrent senders skip each other's rows (``SKIP LOCKED``); on SQLite writers are serialised
        and the conditions are checked again by the UPDATE itself.
        """
        due = (
            messages.c.status == MessageStatus.PENDING.value,
            messages.c.channel.in_(channels),
            messages.c.due_at <= now,
            or_(messages.c.next_attempt_at.is_(None), messages.c.next_attempt_at <= now),
        )
        oldest = select(messages).where(*due).order_by(messages.c.due_at).limit(limit).with_for_update(skip_locked=True)
        candidates = [_message(row) for row in (await self.session.execute(oldest)).mappings()]
        if not candidates:
            return []
        claimed = await self.session.scalars(
            update(messages)
            .where(messages.c.id.in_([m.id for m in candidates]), *due)
            .values(
                next_attempt_at=now + hold,
                attempts=messages.c.attempts + 1,
                in_doubt_since=func.coalesce(messages.c.in_doubt_since, now),
            )
            .returning(messages.c.id)
        )
        taken = set(claimed)
        return [m for m in candidates if m.id in taken]

    async def record_sent(self, message_id: uuid.UUID, now: dt.datetime, provider_sid: str | None) -> None:
        """Sent, under the provider's sid; a delivery status that arrived before is applied now."""
        early = early_delivery_statuses
        status = None
        if provider_sid is not None:
            query = select(early.c.delivery_status, early.c.delivery_error_code).where(
                early.c.provider_sid == provider_sid
            )
            status = (await self.session.execute(query)).first()
        await self._settle(
            message_id, status=MessageStatus.SENT.value, sent_at=now, provider_sid=provider_sid, last_error=None,
            **({"delivery_status": status[0], "delivery_error_code": status[1]} if status else {}),
        )  # fmt: skip
        if status is not None:
            await self.session.execute(delete(early).where(early.c.provider_sid == provider_sid))

    async def record_failed(self, message_id: uuid.UUID, reason: str) -> None:
        await self._settle(message_id, status=MessageStatus.FAILED.value, last_error=reason[:500])

    async def record_skipped(self, message_id: uuid.UUID, reason: str) -> None:
        await self._settle(message_id, status=MessageStatus.SKIPPED.value, last_error=reason[:500])

    async def retry_later(
        self, message_id: uuid.UUID, at: dt.datetime, in_doubt_since: dt.datetime | None, reason: str | None
    ) -> None:
        """Still pending, tried again from ``at``; ``in_doubt_since`` None when no send of it can have gone out."""
        await self._settle(message_id, next_attempt_at=at, in_doubt_since=in_doubt_since, last_error=reason)

    async def postpone(self, message_id: uuid.UUID, at: dt.datetime, in_doubt_since: dt.datetime | None) -> None:
        """Tried again from ``at`` without this claim counting as an attempt (quiet hours)."""
        await self._settle(
            message_id, next_attempt_at=at, in_doubt_since=in_doubt_since, attempts=messages.c.attempts - 1
        )

    async def known_sids(self, usager_id: uuid.UUID) -> set[str]:
        """The provider sids recorded on the usager's messages."""
        query = select(messages.c.provider_sid).where(
            messages.c.usager_id == usager_id, messages.c.provider_sid.is_not(None)
        )
        return {sid for sid in (await self.session.scalars(query)) if sid is not None}

    async def count_by_status(self, status: MessageStatus) -> int:
        query = select(func.count()).select_from(messages).where(messages.c.status == status.value)
        return int(await self.session.scalar(query) or 0)

    async def _settle(self, message_id: uuid.UUID, **values: Any) -> None:
        values.setdefault("next_attempt_at", None)
        values.setdefault("in_doubt_since", None)
        await self.session.execute(
            update(messages)
            .where(messages.c.id == message_id, messages.c.status == MessageStatus.PENDING.value)
            .values(**values)
        )

    async def of_booking(self, booking_id: uuid.UUID) -> list[Message]:
        query = (
            select(messages)
            .where(messages.c.booking_id == booking_id)
            .order_by(messages.c.version, messages.c.created_at, messages.c.due_at)
        )
        return [_message(row) for row in (await self.session.execute(query)).mappings()]


def _message(row: RowMapping) -> Message:
    return Message(**{**row, "kind": MessageKind(row["kind"]), "status": MessageStatus(row["status"])})
