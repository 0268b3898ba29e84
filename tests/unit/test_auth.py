"""Signed bearer tokens and what each role may do."""

from __future__ import annotations

import datetime as dt
import uuid

import jwt
import pytest
from pydantic import SecretStr

from shared.auth import Principal, Role, issue_token, verify_token

SECRET = SecretStr("unit-test-secret-0123456789abcdefgh")


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
