"""Transactional outbox and inbox tables, and the relay that publishes the outbox.

Each service owns its own pair of tables (in its own database), declared on its metadata
with ``messaging_tables``. A state change and the rows of the events it caused are written
in one transaction (see ``unit_of_work``); the relay publishes each row to JetStream with
``Nats-Msg-Id`` = ``event_id`` and only then marks it sent. A relay killed between the
publish and the mark publishes again after restart; JetStream drops the duplicate within
its window and consumers' inboxes drop anything older.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from opentelemetry.trace import StatusCode
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.db import UtcDateTime
from shared.metrics import OUTBOX_BACKLOG
from shared.telemetry import inject, producer_span

log = logging.getLogger(__name__)

# SQLite only auto-increments INTEGER PRIMARY KEY; Postgres gets a BIGINT identity.
_Id = BigInteger().with_variant(Integer(), "sqlite")


def messaging_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Declare the outbox and inbox tables on a service's metadata."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", _Id, primary_key=True, autoincrement=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("subject", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("headers", JSON, nullable=False, default=dict),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("published_at", UtcDateTime(), nullable=True),
        Column("stream_sequence", BigInteger, nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
        # W3C traceparent/tracestate of the span that wrote the row: the relay publishes in that trace.
        Column("trace_context", JSON, nullable=True),
    )
    Index(
        "ix_outbox_unpublished",
        outbox.c.id,
        postgresql_where=outbox.c.published_at.is_(None),
        sqlite_where=outbox.c.published_at.is_(None),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(200), primary_key=True),
        Column("event_id", Uuid, primary_key=True),
        Column("subject", String(200), nullable=False),
        Column("processed_at", UtcDateTime(), nullable=False),
    )
    return outbox, inbox


class PubAck(Protocol):
    seq: int


class JetStreamPublisher(Protocol):
    async def publish(
        self,
        subject: str,
        payload: bytes = ...,
        timeout: float | None = ...,  # noqa: ASYNC109 - nats-py's signature
        stream: str | None = ...,
        headers: dict[str, str] | None = ...,
    ) -> PubAck: ...


@dataclass
class OutboxRelay:
    """Publishes unpublished outbox rows in order; safe to run in several replicas on Postgres."""

    engine: AsyncEngine
    outbox: Table
    js: JetStreamPublisher
    batch_size: int = 100
    interval_s: float = 0.25
    publish_timeout_s: float = 5.0
    service: str = ""
    """Names this relay's outbox backlog in the metrics."""

    def __post_init__(self) -> None:
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        """Called after a commit that wrote outbox rows, so they leave without waiting."""
        self._wakeup.set()

    async def run_once(self) -> int:
        """Publish one batch; return how many rows were published."""
        outbox = self.outbox
        async with self.engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(
                        outbox.c.id,
                        outbox.c.event_id,
                        outbox.c.subject,
                        outbox.c.payload,
                        outbox.c.headers,
                        outbox.c.trace_context,
                    )
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            published = 0
            for row in rows:
                with producer_span(row.subject, str(row.event_id), row.trace_context) as span:
                    headers = inject({**(row.headers or {}), "Nats-Msg-Id": str(row.event_id)})
                    try:
                        ack = await self.js.publish(
                            row.subject, row.payload, timeout=self.publish_timeout_s, headers=headers
                        )
                    except Exception as exc:
                        span.record_exception(exc)
                        span.set_status(StatusCode.ERROR, type(exc).__name__)
                        log.warning("outbox publish failed for %s: %s", row.event_id, type(exc).__name__)
                        await conn.execute(
                            update(outbox)
                            .where(outbox.c.id == row.id)
                            .values(attempts=outbox.c.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:500])
                        )
                        break
                    await self._mark_published(conn, row.id, ack.seq)
                published += 1
            backlog = len(rows) - published
            if len(rows) >= self.batch_size:  # there may be more than this batch (those published are marked)
                backlog = await self._backlog(conn)
        OUTBOX_BACKLOG.labels(service=self.service).set(max(backlog, 0))
        return published

    async def _backlog(self, conn: AsyncConnection) -> int:
        query = select(func.count()).select_from(self.outbox).where(self.outbox.c.published_at.is_(None))
        return int(await conn.scalar(query) or 0)

    async def _mark_published(self, conn: AsyncConnection, row_id: int, sequence: int) -> None:
        await conn.execute(
            update(self.outbox)
            .where(self.outbox.c.id == row_id)
            .values(published_at=datetime.now(UTC), stream_sequence=sequence, attempts=self.outbox.c.attempts + 1)
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; errors are logged and retried with backoff, never fatal."""
        failures = 0
        while not stop.is_set():
            try:
                published = await self.run_once()
                failures = 0
            except Exception:
                failures += 1
                log.exception("outbox relay batch failed (attempt %d)", failures)
                published = 0
            if published >= self.batch_size:
                continue
            delay = min(self.interval_s * 2**failures, 30.0) if failures else self.interval_s
            self._wakeup.clear()
            waiters = [asyncio.ensure_future(self._wakeup.wait()), asyncio.ensure_future(stop.wait())]
            _, pending = await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
