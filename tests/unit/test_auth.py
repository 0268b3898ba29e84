"""Signed bearer tokens and what each role may do."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI
from pydantic import SecretStr

from shared.auth import (
    CALENDAR_SCOPE,
    Principal,
    Role,
    authenticator,
    feed_authenticator,
    issue_calendar_token,
    issue_token,
    verify_token,
)

SECRET = SecretStr("unit-test-secret-0123456789abcdefgh")
ANY_ROUTE = authenticator(SECRET)
FEED = feed_authenticator(SECRET)


def test_a_token_carries_role_and_territories():
    token = issue_token(SECRET, subject="ana", role=Role.COORDINATOR, territories=["epci:200036069"])
    assert verify_token(SECRET, token) == Principal("ana", Role.COORDINATOR, frozenset({"epci:200036069"}))


def test_an_expired_tampered_or_foreign_token_is_refused():
    now = dt.datetime.now(dt.UTC)
    expired = issue_token(
        SECRET, subject="a", role=Role.ADMIN, now=now - dt.timedelta(hours=2), ttl=dt.timedelta(hours=1)
    )
    with pytest.raises(jwt.ExpiredSignatureError):
        verify_token(SECRET, expired)
    foreign = issue_token(SecretStr("another-secret-0123456789abcdefgh"), subject="a", role=Role.ADMIN)
    with pytest.raises(jwt.InvalidSignatureError):
        verify_token(SECRET, foreign)
    header, _payload, signature = issue_token(SECRET, subject="a", role=Role.CONSEILLER).split(".")
    forged = jwt.encode(
        {"sub": "a", "role": "admin"}, "a-guessed-key-of-32-characters-or-more", algorithm="HS256"
    ).split(".")[1]
    with pytest.raises(jwt.InvalidTokenError):
        verify_token(SECRET, f"{header}.{forged}.{signature}")


def test_an_unsigned_token_is_refused():
    unsigned = jwt.encode(
        {"sub": "a", "role": "admin", "iss": "tournees", "iat": 0, "exp": 9e9},
        None,  # type: ignore[arg-type]  # "alg: none" takes no key: the forgery under test
        algorithm="none",
    )
    with pytest.raises(jwt.InvalidTokenError):
        verify_token(SECRET, unsigned)


def test_who_may_act_in_a_territory():
    mortagne, thionville = "epci:200036069", "epci:200070780"
    assert Principal("x", Role.ADMIN).may_act_in([thionville])
    coordinator = Principal("x", Role.COORDINATOR, frozenset({mortagne}))
    assert coordinator.may_act_in([thionville, mortagne])
    assert not coordinator.may_act_in([thionville])
    assert not Principal("x", Role.CONSEILLER, frozenset({mortagne})).may_act_in([mortagne])


def test_a_conseiller_is_only_themselves():
    me = uuid.uuid4()
    assert Principal(str(me), Role.CONSEILLER).is_conseiller(me)
    assert not Principal(str(me), Role.COORDINATOR).is_conseiller(me)
    assert not Principal(str(uuid.uuid4()), Role.CONSEILLER).is_conseiller(me)


def test_a_calendar_token_is_a_conseillers_scoped_to_their_feed_for_a_year():
    me = uuid.uuid4()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    token, expires_at = issue_calendar_token(SECRET, me, now)
    assert expires_at == now + dt.timedelta(days=365)
    assert verify_token(SECRET, token) == Principal(str(me), Role.CONSEILLER, scope=CALENDAR_SCOPE)
    assert jwt.decode(token, options={"verify_signature": False})["exp"] == int(expires_at.timestamp())
    ordinary = issue_token(SECRET, subject=str(me), role=Role.CONSEILLER)
    assert verify_token(SECRET, ordinary).scope is None


async def test_a_calendar_token_opens_feeds_only_and_an_ordinary_token_opens_both():
    app = FastAPI()

    @app.get("/route")
    def route(who: Annotated[Principal, Depends(ANY_ROUTE)]) -> str:
        return who.subject

    @app.get("/feed")
    def feed_route(who: Annotated[Principal, Depends(FEED)]) -> str:
        return who.subject

    me = uuid.uuid4()
    calendar, _ = FEED.calendar_token(me)
    ordinary = issue_token(SECRET, subject=str(me), role=Role.CONSEILLER)
    elsewhere = issue_token(SECRET, subject=str(me), role=Role.CONSEILLER, scope="something-else")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:

        async def status(path: str, token: str) -> int:
            return (await http.get(path, params={"token": token} if path == "/feed" else None,
                                   headers={} if path == "/feed" else {"Authorization": f"Bearer {token}"})).status_code  # fmt: skip

        assert await status("/feed", calendar) == 200
        assert await status("/route", calendar) == 401
        assert await status("/feed", ordinary) == 200
        assert await status("/route", ordinary) == 200
        assert await status("/feed", elsewhere) == 401
        assert await status("/route", elsewhere) == 401
