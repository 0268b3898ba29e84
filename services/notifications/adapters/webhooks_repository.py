"""Twilio's webhooks already applied: inbound SMS by ``MessageSid``, status callbacks by ``MessageSid`` and
``MessageStatus`` (no phone number, no text)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Table, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters.orm import inbound_sms, status_callbacks

TOKEN_LENGTH = 100


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record_inbound(self, sid: str, token: str | None, now: dt.datetime) -> bool:
        """Record the inbound SMS ``sid`` as applied; False when it was already (its effect is in this transaction
        only: a request rolled back leaves no record)."""
        return await self._record_once(inbound_sms, {"message_sid": sid}, token, now)

    async def record_status(self, sid: str, status: str, token: str | None, now: dt.datetime) -> bool:
        """Record the status callback (``sid``, ``status``) as applied; False when it was already."""
        return await self._record_once(status_callbacks, {"message_sid": sid, "message_status": status}, token, now)

    async def retried_inbound(self, sid: str, token: str | None) -> bool:
        """Whether the inbound SMS ``sid`` was applied with the same idempotency token as ``token``."""
        query = select(inbound_sms.c.idempotency_token).where(inbound_sms.c.message_sid == sid)
        return token is not None and await self.session.scalar(query) == _kept(token)

    async def retried_status(self, sid: str, status: str, token: str | None) -> bool:
        """Whether the status callback (``sid``, ``status``) was applied with the same idempotency token."""
        c = status_callbacks.c
        query = select(c.idempotency_token).where(c.message_sid == sid, c.message_status == status)
        return token is not None and await self.session.scalar(query) == _kept(token)

    async def forget_status_callbacks(self, received_before: dt.datetime, limit: int) -> int:
        """Forget up to ``limit`` status callbacks received before ``received_before``; how many."""
        c = status_callbacks.c
        oldest = select(c.message_sid, c.message_status).where(c.received_at < received_before).limit(limit)
        result = await self.session.execute(
            delete(status_callbacks).where(tuple_(c.message_sid, c.message_status).in_(oldest))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def _record_once(self, table: Table, key: dict[str, str], token: str | None, now: dt.datetime) -> bool:
        # ON CONFLICT DO NOTHING: a concurrent POST of the same webhook waits for the first one's transaction (on
        # Postgres; SQLite serialises writers), then inserts nothing if it committed, or its own row if it did not.
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        values = {**key, "received_at": now, "idempotency_token": _kept(token)}
        result = await self.session.execute(dialect.insert(table).values(values).on_conflict_do_nothing())
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _kept(token: str | None) -> str | None:
    return None if token is None else token[:TOKEN_LENGTH]
