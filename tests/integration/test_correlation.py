"""A correlation id follows a change: from the HTTP request (``X-Correlation-Id``) to the events it records."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from services.registry.adapters import orm
from shared.http import CORRELATION_HEADER
from tests.integration.registry_stack import ADMIN, MORTAGNE, running_registry, template_database


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    return template_database(tmp_path_factory.mktemp("registry-template"))


@pytest.fixture
async def registry(template, tmp_path, nats_url, nc):
    async with running_registry(template, tmp_path, nats_url) as running:
        yield running


async def test_a_requests_correlation_id_is_answered_and_carried_by_the_events_it_records(registry):
    given = str(uuid.uuid4())
    answer = await registry.http.put(
        "/territories", json={"code": MORTAGNE}, headers={**ADMIN, CORRELATION_HEADER: given}
    )
    assert answer.status_code < 300, answer.text
    assert answer.headers[CORRELATION_HEADER] == given
    async with registry.service.runtime.engine.connect() as conn:
        payloads = (await conn.scalars(select(orm.outbox.c.payload))).all()
    assert payloads
    assert {json.loads(payload)["correlation_id"] for payload in payloads} == {given}


async def test_a_request_without_a_valid_one_gets_a_new_one(registry):
    first = await registry.http.get("/healthz")
    second = await registry.http.get("/healthz", headers={CORRELATION_HEADER: "not-a-uuid"})
    ids = {first.headers[CORRELATION_HEADER], second.headers[CORRELATION_HEADER]}
    assert len(ids) == 2
    assert "not-a-uuid" not in ids
    assert all(uuid.UUID(value) for value in ids)
