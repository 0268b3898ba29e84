"""Accounts' use cases: admins create, list and change them; anyone logs in with the right password.

Logging in answers the same for an unknown login and a wrong password, after about the same
time (an unknown login still costs one scrypt hash), and counts failures per login in the
database, so the brute-force guard holds across replicas.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import secrets

from sqlalchemy.exc import IntegrityError

from services.registry.domain import commands, passwords
from services.registry.domain.accounts import MAX_LOGIN, Account, blocked_until, normalized_login
from services.registry.domain.errors import Conflict, NotFound, RuleBroken
from services.registry.service_layer import access
from services.registry.service_layer.handlers import Page
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.auth import Principal, Role


class InvalidCredentials(Exception):
    """Wrong login, wrong password or inactive account: one answer for all three (401)."""

    def __init__(self) -> None:
        super().__init__("wrong login or password")


class TooManyAttempts(Exception):
    """Too many failed logins lately for this login (429)."""

    def __init__(self, retry_after: dt.timedelta) -> None:
        super().__init__("too many failed logins: try again later")
        self.retry_after_s = max(1, int(retry_after.total_seconds()) + 1)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@functools.cache
def _dummy_hash() -> str:
    """What an unknown login's password is checked against, to take as long as a known one's."""
    return passwords.hash_password(secrets.token_urlsafe(16))


async def authenticate(login: str, password: str, uow: RegistryUnitOfWork, now: dt.datetime | None = None) -> Account:
    """The account these credentials open; InvalidCredentials or TooManyAttempts otherwise."""
    now = now or _now()
    key = normalized_login(login)[:MAX_LOGIN]
    async with uow:
        until = blocked_until(await uow.accounts.recent_failures(key, now), now)
        if until is not None:
            raise TooManyAttempts(until - now)
        account = await uow.accounts.by_login(key)
        if account is None:
            await asyncio.to_thread(lambda: passwords.verify_password(password, _dummy_hash()))
        if account is None or not await asyncio.to_thread(account.may_log_in_with, password):
            await uow.accounts.record_failure(key, now)
            await uow.commit()
            raise InvalidCredentials
        await uow.accounts.forget_failures(key)
        if passwords.parameters_of(account.password_hash) != passwords.DEFAULT:
            account.change(password=password)  # hashed again with today's parameters
            await uow.accounts.save(account)
        await uow.commit()
    return account


async def create_account(
    cmd: commands.CreateAccount, uow: RegistryUnitOfWork, who: Principal, now: dt.datetime | None = None
) -> Account:
    access.require(who, Role.ADMIN)
    account = await asyncio.to_thread(
        Account.create, cmd.account_id, login=cmd.login, role=cmd.role, password=cmd.password, now=now or _now(),
        name=cmd.name, territories=cmd.territories, conseiller_id=cmd.conseiller_id,
    )  # fmt: skip
    async with uow:
        await _check_territories(account, uow)
        await _check_conseiller(account, uow)
        try:
            await uow.accounts.add(account)
            await uow.commit()
        except IntegrityError as exc:  # the same login (or conseiller) given an account meanwhile
            raise Conflict("this login (or this conseiller) has an account already") from exc
    return account


async def change_account(cmd: commands.ChangeAccount, uow: RegistryUnitOfWork, who: Principal) -> Account:
    access.require(who, Role.ADMIN)
    async with uow:
        account = await uow.accounts.get(cmd.account_id)
        if account is None:
            raise NotFound(f"no account {cmd.account_id}")
        await asyncio.to_thread(
            account.change, name=cmd.name, territories=cmd.territories, active=cmd.active, password=cmd.password
        )
        if cmd.territories is not None:
            await _check_territories(account, uow)
        await uow.accounts.save(account)
        if cmd.password is not None:
            await uow.accounts.forget_failures(account.login)  # a new password lifts the guard
        await uow.commit()
    return account


async def list_accounts(
    uow: RegistryUnitOfWork, who: Principal, page: Page, *, role: str | None
) -> tuple[list[Account], int]:
    access.require(who, Role.ADMIN)
    async with uow:
        return await uow.accounts.page(role=role, limit=page.limit, offset=page.offset)


async def _check_territories(account: Account, uow: RegistryUnitOfWork) -> None:
    unknown = [code for code in account.territories if not await _known_territory(code, uow)]
    if unknown:
        raise RuleBroken("territories", f"unknown territories: {', '.join(unknown)}")


async def _check_conseiller(account: Account, uow: RegistryUnitOfWork) -> None:
    if account.conseiller_id is not None:
        conseiller = await uow.conseillers.get(account.conseiller_id)
        if conseiller is None or conseiller.archived:
            raise RuleBroken("conseiller_id", "no such conseiller (or archived)")


async def _known_territory(code: str, uow: RegistryUnitOfWork) -> bool:
    """A territory defined in the registry; or an EPCI or a département of the communes data, so
    that a coordinator's account can be made on a fresh install, before the territory is."""
    if await uow.territories.get(code) is not None:
        return True
    kind, _, key = code.partition(":")
    if kind == "epci":
        return bool(await uow.communes.of_epci(key))
    if kind == "dep":
        return bool(await uow.communes.of_departement(key))
    return False
