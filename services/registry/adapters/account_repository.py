"""Accounts and the failed logins the brute-force guard counts, in the registry's database."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import RowMapping, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.adapters.orm import accounts, failed_logins
from services.registry.domain.accounts import FAILURE_WINDOW, MAX_FAILURES, Account
from services.registry.domain.errors import Conflict
from shared.db import fetch_page


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, account: Account) -> None:
        """Conflict (409) if the login, or the conseiller, has an account already (a race between
        two such requests ends in an IntegrityError at commit: ``unique_violation`` below)."""
        same = accounts.c.login == account.login
        if account.conseiller_id is not None:
            same = or_(same, accounts.c.conseiller_id == account.conseiller_id)
        if (await self.session.execute(select(accounts.c.id).where(same))).first() is not None:
            raise Conflict("this login (or this conseiller) has an account already")
        await self.session.execute(insert(accounts).values(id=account.id, **_row(account)))

    async def get(self, account_id: uuid.UUID) -> Account | None:
        row = (await self.session.execute(select(accounts).where(accounts.c.id == account_id))).mappings().first()
        return None if row is None else _account(row)

    async def by_login(self, login: str) -> Account | None:
        row = (await self.session.execute(select(accounts).where(accounts.c.login == login))).mappings().first()
        return None if row is None else _account(row)

    async def save(self, account: Account) -> None:
        await self.session.execute(update(accounts).where(accounts.c.id == account.id).values(**_row(account)))

    async def page(self, *, role: str | None, limit: int, offset: int) -> tuple[list[Account], int]:
        query = select(accounts).order_by(accounts.c.login)
        if role is not None:
            query = query.where(accounts.c.role == role)
        rows, total = await fetch_page(self.session, query, limit, offset)
        return [_account(row) for row in rows], total

    # --- failed logins ----------------------------------------------------------------------

    async def recent_failures(self, login: str, now: dt.datetime) -> list[dt.datetime]:
        """The failed logins of the window, the latest first (no more than the guard needs)."""
        query = (
            select(failed_logins.c.attempted_at)
            .where(failed_logins.c.login == login, failed_logins.c.attempted_at > now - FAILURE_WINDOW)
            .order_by(failed_logins.c.attempted_at.desc())
            .limit(MAX_FAILURES)
        )
        return list((await self.session.execute(query)).scalars())

    async def record_failure(self, login: str, now: dt.datetime) -> None:
        """Count a failure. Those past the window, of any login, are of no use any more and go: the
        table holds a quarter of an hour of failures, however many logins are tried."""
        await self.session.execute(delete(failed_logins).where(failed_logins.c.attempted_at <= now - FAILURE_WINDOW))
        await self.session.execute(insert(failed_logins).values(login=login, attempted_at=now))

    async def forget_failures(self, login: str) -> None:
        await self.session.execute(delete(failed_logins).where(failed_logins.c.login == login))


def _row(a: Account) -> dict[str, Any]:
    return {
        "login": a.login, "name": a.name, "role": a.role, "territories": list(a.territories),
        "conseiller_id": a.conseiller_id, "password_hash": a.password_hash, "active": a.active,
        "created_at": a.created_at,
    }  # fmt: skip


def _account(row: RowMapping) -> Account:
    return Account(**{**row, "territories": tuple(row["territories"])})
