"""The unit of work: the one place that decides what a transaction is.

Leaving the block without ``commit()`` rolls back. ``commit()`` writes the events recorded
during the unit (by handlers, or collected from aggregates) as outbox rows in the same
transaction as the state change, so a state change and its events exist together or not
at all. When the unit applies an incoming event it also records it in the inbox, so a
redelivery has no second effect.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events import Envelope, Event
from shared.telemetry import current_trace_context
from shared.telemetry.logs import CORRELATION_ID


class SqlAlchemyUnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        producer: str,
        outbox: Table,
        inbox: Table,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self.producer = producer
        self._outbox = outbox
        self._inbox = inbox
        self._on_commit = on_commit
        self._cause: Envelope | None = None
        self._pending: list[Envelope] = []

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self._pending = []
        self._cause = None
        self._start_repositories(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.session.rollback()
        finally:
            await self.session.close()

    def _start_repositories(self, session: AsyncSession) -> None:
        """Subclasses build their repositories on the session here."""

    def _collect_aggregate_events(self) -> Iterable[Event]:
        """Subclasses hand over the events their aggregates recorded."""
        return ()

    def record(self, event: Event) -> Envelope:
        """Record an event to publish when (and only if) this unit commits."""
        cause = self._cause
        envelope = Envelope.wrap(
            event,
            producer=self.producer,
            correlation_id=cause.correlation_id if cause else _current_correlation(),
            causation_id=cause.event_id if cause else None,
        )
        self._pending.append(envelope)
        return envelope

    async def begin_applying(self, consumer: str, envelope: Envelope) -> bool:
        """Start applying an incoming event; False when this consumer already applied it."""
        seen = await self.session.scalar(
            select(self._inbox.c.event_id).where(
                self._inbox.c.consumer == consumer, self._inbox.c.event_id == envelope.event_id
            )
        )
        if seen is not None:
            return False
        self._cause = envelope
        await self.session.execute(
            insert(self._inbox).values(
                consumer=consumer,
                event_id=envelope.event_id,
                subject=envelope.subject,
                processed_at=datetime.now(UTC),
            )
        )
        return True

    async def commit(self) -> list[Envelope]:
        for event in self._collect_aggregate_events():
            self.record(event)
        envelopes, self._pending = self._pending, []
        if envelopes:
            now = datetime.now(UTC)
            await self.session.execute(
                insert(self._outbox),
                [_outbox_row(envelope, now) for envelope in envelopes],
            )
        await self.session.commit()
        if envelopes and self._on_commit:
            self._on_commit()
        return envelopes

    async def rollback(self) -> None:
        self._pending = []
        await self.session.rollback()


def _outbox_row(envelope: Envelope, now: datetime) -> dict[str, Any]:
    return {
        "event_id": envelope.event_id,
        "subject": envelope.subject,
        "payload": envelope.to_bytes(),
        "headers": {"Tournees-Correlation-Id": str(envelope.correlation_id)},
        "created_at": now,
        "attempts": 0,
        "trace_context": current_trace_context(),
    }


def _current_correlation() -> uuid.UUID | None:
    """The correlation id of the HTTP request being handled (``shared.http.CorrelationMiddleware``), if any."""
    current = CORRELATION_ID.get()
    try:
        return uuid.UUID(current) if current else None
    except ValueError:
        return None
