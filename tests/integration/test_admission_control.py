"""A service takes at most HTTP_MAX_IN_FLIGHT requests at once: beyond, 503 with Retry-After at once, nothing
half done; the probes and /metrics still answer; once the requests in flight are answered, it takes new ones."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.helpers import eventually, metrics_text, sample
from tests.integration.registry_stack import running_registry, template_database

LIMIT = 2


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    return template_database(tmp_path_factory.mktemp("registry-template"))


@pytest.fixture
async def registry(template, tmp_path, nats_url, nc):
    async with running_registry(template, tmp_path, nats_url, http_max_in_flight=LIMIT) as running:
        yield running


@contextlib.contextmanager
def write_lock_held(database: Path) -> Iterator[None]:
    """Another writer holds the database: the registry's writes wait for it (SQLite's busy timeout)."""
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("COMMIT")
        other.close()


def structure(name: str) -> dict[str, str]:
    return {"name": name, "kind": "epn", "commune": "61293"}


async def in_flight(registry) -> float | None:
    return sample(await metrics_text(registry.http), "tournees_http_in_flight", service="registry")


async def test_beyond_the_limit_requests_are_refused_at_once_and_taken_again_once_the_others_are_answered(
    registry, tmp_path
):
    with write_lock_held(tmp_path / "registry.db"):
        held = [
            asyncio.create_task(registry.call("POST", "/structures", json=structure(f"EPN {n}"))) for n in range(LIMIT)
        ]
        await eventually(lambda: _equals(in_flight(registry), LIMIT))

        refused = await asyncio.wait_for(registry.call("POST", "/structures", json=structure("EPN de trop")), 5)
        read = await asyncio.wait_for(registry.call("GET", "/structures"), 5)
        assert refused.status_code == read.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert refused.headers["X-Correlation-Id"]
        for probe in ("/healthz", "/readyz", "/metrics"):
            assert (await asyncio.wait_for(registry.http.get(probe), 5)).status_code == 200, probe
        assert not any(task.done() for task in held)

    assert [answer.status_code for answer in await asyncio.gather(*held)] == [201] * LIMIT
    assert await in_flight(registry) == 0
    listed = await registry.ok("GET", "/structures")
    assert sorted(s["name"] for s in listed["items"]) == ["EPN 0", "EPN 1"]  # the refused one did nothing

    again = await registry.call("POST", "/structures", json=structure("EPN de trop"))
    assert again.status_code == 201
    assert (await registry.ok("GET", "/structures"))["total"] == LIMIT + 1
    metrics = await metrics_text(registry.http)
    assert (sample(metrics, "tournees_http_rejected_total", service="registry") or 0) >= 2


async def test_without_a_limit_nothing_is_refused(template, tmp_path, nats_url, nc):
    async with running_registry(template, tmp_path, nats_url, http_max_in_flight=0) as registry:
        with write_lock_held(tmp_path / "registry.db"):
            held = [
                asyncio.create_task(registry.call("POST", "/structures", json=structure(f"EPN {n}")))
                for n in range(LIMIT + 2)
            ]
            await asyncio.sleep(0.5)
            assert not any(task.done() for task in held)
        assert [answer.status_code for answer in await asyncio.gather(*held)] == [201] * (LIMIT + 2)


async def _equals(value, expected) -> bool:
    return await value == expected
