"""Accounts: who may log in, with which role, for which territories or as which conseiller.

The password itself is never kept, only its hash (``passwords``); the hash never leaves the
registry's database: no response, event or log line carries it.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Literal, get_args

from services.registry.domain import passwords
from services.registry.domain.errors import RuleBroken
from services.registry.domain.geography import TERRITORY_CODE

AccountRole = Literal["admin", "coordinator", "conseiller"]
ROLES: tuple[str, ...] = get_args(AccountRole)
EMAIL_LOGIN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USERNAME_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MAX_LOGIN = 254
MAX_NAME = 200


def normalized_login(login: str) -> str:
    """Logins are case-insensitive: ``" Ana@Example.org "`` is ``"ana@example.org"``."""
    return login.strip().lower()


def check_login(login: str) -> str:
    login = normalized_login(login)
    if len(login) > MAX_LOGIN or not (EMAIL_LOGIN.match(login) or USERNAME_LOGIN.match(login)):
        raise RuleBroken("login", "an e-mail address or a username (2-64 of a-z, 0-9, '.', '-', '_')")
    return login


@dataclass
class Account:
    id: uuid.UUID
    login: str
    name: str
    role: AccountRole
    territories: tuple[str, ...]
    conseiller_id: uuid.UUID | None
    password_hash: str = field(repr=False)
    active: bool
    created_at: dt.datetime

    @classmethod
    def create(
        cls, account_id: uuid.UUID, *, login: str, role: str, password: str, now: dt.datetime, name: str | None = None,
        territories: tuple[str, ...] = (), conseiller_id: uuid.UUID | None = None,
    ) -> Account:  # fmt: skip
        login = check_login(login)
        account = cls(
            id=account_id,
            login=login,
            name=_name(name, login),
            role=_role(role),
            territories=_territories(territories),
            conseiller_id=conseiller_id,
            password_hash=passwords.hash_password(passwords.check_rules(password)),
            active=True,
            created_at=now,
        )
        account._check_shape()
        return account

    def change(
        self, *, name: str | None = None, territories: tuple[str, ...] | None = None, active: bool | None = None,
        password: str | None = None,
    ) -> None:  # fmt: skip
        """Rename, re-scope a coordinator, (de)activate, or reset the password."""
        if name is not None:
            self.name = _name(name, self.login)
        if territories is not None:
            self.territories = _territories(territories)
        if active is not None:
            self.active = active
        if password is not None:
            self.password_hash = passwords.hash_password(passwords.check_rules(password))
        self._check_shape()

    def may_log_in_with(self, password: str) -> bool:
        """The password is right and the account active (the hash is checked either way)."""
        return passwords.verify_password(password, self.password_hash) and self.active

    @property
    def subject(self) -> str:
        """Who a token says this is: a conseiller's id, or the login."""
        return str(self.conseiller_id) if self.conseiller_id is not None else self.login

    def _check_shape(self) -> None:
        if self.role == "coordinator" and not self.territories:
            raise RuleBroken("territories", "a coordinator needs at least one territory")
        if self.role != "coordinator" and self.territories:
            raise RuleBroken("territories", "only coordinators have territories")
        if self.role == "conseiller" and self.conseiller_id is None:
            raise RuleBroken("conseiller_id", "a conseiller's account names the conseiller it is")
        if self.role != "conseiller" and self.conseiller_id is not None:
            raise RuleBroken("conseiller_id", "only a conseiller's account names a conseiller")


def _role(role: str) -> AccountRole:
    if role not in ROLES:
        raise RuleBroken("role", f"one of {', '.join(ROLES)}")
    return role  # type: ignore[return-value]


def _name(name: str | None, login: str) -> str:
    name = " ".join((name or "").split()) or login
    if len(name) > MAX_NAME:
        raise RuleBroken("name", f"at most {MAX_NAME} characters")
    return name


def _territories(codes: tuple[str, ...]) -> tuple[str, ...]:
    bad = [code for code in codes if not TERRITORY_CODE.match(code)]
    if bad:
        raise RuleBroken("territories", f"not territory codes: {', '.join(bad[:10])}")
    return tuple(sorted(set(codes)))


# --- the brute-force guard ------------------------------------------------------------------

MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)


def blocked_until(failures: list[dt.datetime], now: dt.datetime) -> dt.datetime | None:
    """After ``MAX_FAILURES`` failed logins within ``FAILURE_WINDOW``, the login is refused until the
    oldest of them leaves the window; None when it is not blocked."""
    recent = sorted(at for at in failures if at > now - FAILURE_WINDOW)
    if len(recent) < MAX_FAILURES:
        return None
    return recent[-MAX_FAILURES] + FAILURE_WINDOW
