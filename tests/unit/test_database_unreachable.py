"""A request that meets the database down is answered 503 with Retry-After, not a 500 with a traceback."""

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError, OperationalError

from shared.db import database_unreachable
from shared.http import answer_503_while_the_database_is_unreachable


async def answer_to(exc: Exception) -> httpx.Response:
    """What a route that meets ``exc`` answers."""
    app = FastAPI()
    answer_503_while_the_database_is_unreachable(app)

    @app.get("/")
    async def read() -> None:
        raise exc

    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/")


def adapted(error: Exception) -> Exception:
    """As SQLAlchemy's asyncpg dialect raises a driver error: its own error class, the driver's as the cause."""
    wrapper = Exception(str(error))
    wrapper.__cause__ = error
    return OperationalError("SELECT 1", {}, wrapper)


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        adapted(asyncpg.exceptions.CannotConnectNowError("the database system is shutting down")),
        adapted(asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command")),
    ],
)
def test_what_a_stopped_database_raises_through_sqlalchemy_is_seen_as_unreachable(exc):
    assert database_unreachable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        OperationalError(
            "SELECT 1", {}, asyncpg.exceptions.CannotConnectNowError("the database system is starting up")
        ),
        OperationalError("SELECT 1", {}, asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")),
        OperationalError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
    ],
)
async def test_the_database_unreachable_is_503_with_retry_after(exc):
    answer = await answer_to(exc)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert "try again" in answer.json()["detail"]
    assert database_unreachable(exc)


@pytest.mark.parametrize(
    "exc",
    [IntegrityError("INSERT", {}, Exception("duplicate key")), OperationalError("SELECT", {}, Exception("syntax"))],
)
async def test_other_database_errors_stay_500(exc):
    assert (await answer_to(exc)).status_code == 500
    assert not database_unreachable(exc)
