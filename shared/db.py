"""Database engines: SQLite (embedded default) or Postgres, both through async SQLAlchemy."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import DateTime, Dialect, RowMapping, Select, event, func, select, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# Statements' parameters are personal data and password hashes: no log line nor error message
# carries them. aiosqlite logs each statement with them at DEBUG, so it never logs below INFO;
# SQLAlchemy leaves them out of its logs and errors (``hide_parameters``).
logging.getLogger("aiosqlite").setLevel(logging.INFO)


UNREACHABLE: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset
    TimeoutError,  # no answer to connect
    asyncpg.exceptions.CannotConnectNowError,  # starting up, shutting down, recovering
    asyncpg.exceptions.ConnectionDoesNotExistError,  # lost mid-query
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
)
"""What the database (Postgres through asyncpg) raises when it cannot be reached, rather than refusing the work."""


def database_unreachable(exc: BaseException | None) -> bool:
    """Whether ``exc``, or what it wraps (SQLAlchemy keeps the driver's error in ``orig``, asyncpg's adapter in
    ``__cause__``), says the database could not be reached: the work may succeed later, unchanged."""
    for _ in range(8):  # a chain of wrappers, never a cycle
        if exc is None:
            return False
        if isinstance(exc, UNREACHABLE) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
            return True
        wrapped = exc.orig if isinstance(exc, DBAPIError) else None
        exc = wrapped or exc.__cause__ or exc.__context__
    return False


def create_engine(url: str, *, schema: str | None = None) -> AsyncEngine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    connect_args: dict[str, Any] = {}
    if schema:
        if not SCHEMA_NAME.match(schema):
            raise ValueError(f"invalid schema name {schema!r}")
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(url, pool_pre_ping=True, connect_args=connect_args, hide_parameters=True)


def _sqlite_engine(url: str) -> AsyncEngine:
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def fetch_page(
    session: AsyncSession, query: Select[Any], limit: int, offset: int
) -> tuple[list[RowMapping], int]:
    """A page of ``query``'s rows, and how many rows it has in all."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (await session.execute(query.limit(limit).offset(offset))).mappings().all()
    return list(rows), int(total or 0)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC, read back aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: instants must carry their UTC offset")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
