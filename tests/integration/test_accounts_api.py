"""Accounts and logging in, through the registry's API on real NATS and SQLite or Postgres."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from services.registry.service_layer import accounts
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.auth import Principal, Role, verify_token
from shared.db import create_engine, session_factory
from tests.integration.registry_stack import (
    ADMIN,
    COORDINATOR,
    MORTAGNE,
    SECRET,
    mortagne_with_a_conseiller,
    running_registry,
    template_database,
    token,
)
from tournees.demo.run import Api, coordinator_account

LOGIN = "coordination.mortagne@example.org"
PASSWORD = "Perche-en-tournée-2026"
WEB = "http://localhost:8002"
MOSELLE = "dep:57"


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    return template_database(tmp_path_factory.mktemp("registry-template"))


@pytest.fixture
async def registry(template, tmp_path, nats_url, nc, database):
    postgres = database if database.schema is not None else None
    async with running_registry(template, tmp_path, nats_url, postgres, cors_origins=f"{WEB}, https://x.example") as r:
        yield r


async def coordinator(registry, login=LOGIN, password=PASSWORD, **overrides):
    body = {"login": login, "name": "Coordination du Perche", "role": "coordinator", "territories": [MORTAGNE],
            "password": password, **overrides}  # fmt: skip
    return await registry.ok("POST", "/accounts", json=body)


async def log_in(registry, username=LOGIN, password=PASSWORD):
    return await registry.http.post("/auth/token", data={"username": username, "password": password})


def bearer(answer) -> dict[str, str]:
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_a_coordinator_logs_in_and_the_registry_takes_the_token_for_their_territories(registry):
    await registry.ok("PUT", "/territories", json={"code": MORTAGNE})
    await registry.ok("PUT", "/territories", json={"code": MOSELLE})
    await coordinator(registry)
    answer = await log_in(registry, username="  Coordination.Mortagne@Example.ORG")  # logins ignore case
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert {k: v for k, v in body.items() if k != "access_token"} == {
        "token_type": "bearer", "expires_in": 8 * 3600, "role": "coordinator", "territories": [MORTAGNE],
        "name": "Coordination du Perche",
    }  # fmt: skip
    assert verify_token(SECRET, body["access_token"]) == Principal(LOGIN, Role.COORDINATOR, frozenset({MORTAGNE}))
    listed = await registry.ok("GET", "/territories", bearer(answer))
    assert [t["code"] for t in listed["items"]] == [MORTAGNE]
    assert (await registry.call("GET", f"/territories/{MOSELLE}", bearer(answer))).status_code == 403
    assert (await registry.call("GET", "/accounts", bearer(answer))).status_code == 403


async def test_a_conseiller_logs_in_as_the_conseiller_they_are(registry):
    conseiller = (await mortagne_with_a_conseiller(registry))["conseiller"]
    body = {"login": "camille", "role": "conseiller", "conseiller_id": conseiller["id"], "password": PASSWORD}
    await registry.ok("POST", "/accounts", json=body)
    answer = await log_in(registry, "camille")
    assert answer.status_code == 200, answer.text
    assert verify_token(SECRET, answer.json()["access_token"]).subject == conseiller["id"]
    assert (await registry.ok("GET", f"/conseillers/{conseiller['id']}", bearer(answer)))["id"] == conseiller["id"]
    assert (await registry.call("POST", "/accounts", json=body)).status_code == 409
    again = await registry.call("POST", "/accounts", json={**body, "login": "camille2"})  # one account a conseiller
    assert again.status_code == 409


async def test_a_wrong_password_and_an_unknown_login_get_the_same_401(registry):
    await coordinator(registry)
    wrong = await log_in(registry, password="not the password at all")
    unknown = await log_in(registry, username="nobody@example.org")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "wrong login or password"}
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"] == "Bearer"


async def test_five_failures_block_a_login_for_the_window_even_with_the_right_password(registry):
    await coordinator(registry)
    await coordinator(registry, login="other@example.org")
    for _ in range(5):
        assert (await log_in(registry, password="guessing wrongly")).status_code == 401
    blocked = await log_in(registry)
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 15 * 60 + 1
    assert (await log_in(registry, username="other@example.org")).status_code == 200  # others are not blocked
    for _ in range(5):
        await log_in(registry, username="ghost@example.org", password="guessing wrongly")
    assert (await log_in(registry, username="ghost@example.org")).status_code == 429  # unknown logins alike
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=15, seconds=5)
    account = await accounts.authenticate(LOGIN, PASSWORD, service_uow(registry), now=later)
    assert account.login == LOGIN


async def test_the_guard_holds_for_another_replica_on_the_same_database(registry):
    await coordinator(registry)
    for _ in range(5):
        await log_in(registry, password="guessing wrongly")
    assert registry.service is not None
    settings = registry.service.runtime.settings
    engine = create_engine(settings.sqlalchemy_url, schema=settings.database_schema)  # another replica's
    try:
        with pytest.raises(accounts.TooManyAttempts):
            await accounts.authenticate(LOGIN, PASSWORD, RegistryUnitOfWork(session_factory(engine)))
    finally:
        await engine.dispose()


def service_uow(registry):
    assert registry.service is not None
    return registry.service.uow()


async def test_a_deactivated_account_cannot_log_in_and_a_reset_password_replaces_the_old(registry):
    made = await coordinator(registry)
    changed = await registry.ok("PATCH", f"/accounts/{made['id']}", json={"active": False})
    assert changed["active"] is False
    refused = await log_in(registry)
    assert (refused.status_code, refused.json()) == (401, {"detail": "wrong login or password"})
    await registry.ok("PATCH", f"/accounts/{made['id']}", json={"active": True, "password": "a brand new password"})
    assert (await log_in(registry)).status_code == 401
    assert (await log_in(registry, password="a brand new password")).status_code == 200
    thionville = await registry.ok("PATCH", f"/accounts/{made['id']}", json={"territories": [MOSELLE]})
    assert thionville["territories"] == [MOSELLE]
    answer = await log_in(registry, password="a brand new password")
    assert answer.json()["territories"] == [MOSELLE]


async def test_only_admins_manage_accounts(registry):
    made = await coordinator(registry)
    conseiller = token(Role.CONSEILLER, subject="c1")
    for who, code in (({}, 401), (COORDINATOR, 403), (conseiller, 403)):
        for method, path, kwargs in (
            ("GET", "/accounts", {}),
            ("POST", "/accounts", {"json": {"login": "x@example.org", "role": "admin", "password": PASSWORD}}),
            ("PATCH", f"/accounts/{made['id']}", {"json": {"active": False}}),
        ):
            assert (await registry.call(method, path, who, **kwargs)).status_code == code, (who, method)
    assert (await log_in(registry)).status_code == 200  # the PATCH above changed nothing


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "too short"}, "password"),
        ({"territories": ["epci:999999999"]}, "territories"),
        ({"territories": ["custom:nowhere"]}, "territories"),
        ({"role": "conseiller", "territories": []}, "conseiller_id"),
        ({"login": "not a login"}, "login"),
    ],
)
async def test_bad_accounts_get_422_naming_the_field(registry, overrides, field):
    body = {"login": LOGIN, "role": "coordinator", "territories": [MORTAGNE], "password": PASSWORD, **overrides}
    answer = await registry.call("POST", "/accounts", json=body)
    assert answer.status_code == 422, answer.text
    assert [error["loc"][-1] for error in answer.json()["detail"]] == [field]
    assert body["password"] not in answer.text


async def test_accounts_are_listed_by_page_and_a_login_is_taken_once(registry):
    await coordinator(registry)
    await registry.ok("POST", "/accounts", json={"login": "admin", "role": "admin", "password": PASSWORD})
    duplicate = await registry.call("POST", "/accounts", json={"login": LOGIN.upper(), "role": "admin",
                                                               "password": PASSWORD})  # fmt: skip
    assert duplicate.status_code == 409
    page = await registry.ok("GET", "/accounts?limit=1&offset=1")
    assert (page["total"], [a["login"] for a in page["items"]]) == (2, [LOGIN])
    assert [a["login"] for a in (await registry.ok("GET", "/accounts?role=admin"))["items"]] == ["admin"]


async def test_no_password_nor_hash_in_any_response_or_log_line(registry, caplog):
    caplog.set_level(logging.DEBUG)
    texts = [(await registry.call("POST", "/accounts", json={"login": LOGIN, "role": "coordinator",
                                                              "territories": [MORTAGNE], "password": PASSWORD})).text]  # fmt: skip
    made_id = (await registry.ok("GET", "/accounts"))["items"][0]["id"]
    texts.append((await registry.call("GET", "/accounts")).text)
    texts.append((await log_in(registry)).text)
    texts.append((await log_in(registry, password=PASSWORD + "?")).text)
    texts.append((await registry.call("PATCH", f"/accounts/{made_id}", json={"password": PASSWORD + "!"})).text)
    texts.append((await registry.call("PATCH", f"/accounts/{made_id}", json={"password": "short!"})).text)
    async with service_uow(registry) as uow:
        stored = await uow.accounts.by_login(LOGIN)
    assert stored is not None
    hash_parts = stored.password_hash.split("$")[-2:]
    for secret in (PASSWORD, "short!", *hash_parts):
        assert all(secret not in text for text in texts), secret
        assert secret not in caplog.text, secret
    assert not {"password", "password_hash"} & set((await registry.ok("GET", "/accounts"))["items"][0])


async def test_cors_preflight_is_answered_for_a_configured_origin_only(registry):
    def preflight(origin):
        headers = {"Origin": origin, "Access-Control-Request-Method": "POST",
                   "Access-Control-Request-Headers": "content-type"}  # fmt: skip
        return registry.http.options("/auth/token", headers=headers)

    allowed = await preflight(WEB)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == WEB
    assert "PATCH" in allowed.headers["access-control-allow-methods"]
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    refused = await preflight("https://evil.example")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    listed = await registry.call("GET", "/territories", ADMIN | {"Origin": "https://x.example"})
    assert listed.headers["access-control-allow-origin"] == "https://x.example"


async def test_the_demo_coordinator_logs_in_with_the_password_printed(registry):
    registry.http.headers.update(ADMIN)  # the demo's client calls as an admin
    login, password = await coordinator_account(Api(registry.http, {"registry": ""}))
    answer = await log_in(registry, login, password)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["role"], answer.json()["territories"]) == ("coordinator", [MORTAGNE])
