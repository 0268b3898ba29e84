"""Bodies of the account routes. None carries a password hash; a password comes in as a
``SecretStr``, so it shows as ``**********`` wherever a request body is printed."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from services.registry.domain.accounts import MAX_LOGIN, MAX_NAME, Account
from services.registry.entrypoints.schemas import TerritoryCode
from shared.auth import Role


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, no secret
    expires_in: int = Field(description="seconds")
    role: Role
    territories: list[str]
    name: str


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login: str = Field(max_length=MAX_LOGIN, examples=["coordination.mortagne@example.org"])
    name: str | None = Field(default=None, max_length=MAX_NAME)
    role: Role
    territories: list[TerritoryCode] = Field(default=[], max_length=200, description="coordinators only")
    conseiller_id: uuid.UUID | None = Field(default=None, description="conseillers only: which one")
    password: SecretStr = Field(description="12 characters or more")


class AccountPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=MAX_NAME)
    territories: list[TerritoryCode] | None = Field(default=None, max_length=200)
    active: bool | None = Field(default=None, description="false: this account may not log in any more")
    password: SecretStr | None = Field(default=None, description="a new password (reset)")


class AccountOut(BaseModel):
    id: uuid.UUID
    login: str
    name: str
    role: Role
    territories: list[str]
    conseiller_id: uuid.UUID | None
    active: bool
    created_at: dt.datetime

    @classmethod
    def of(cls, a: Account) -> AccountOut:
        return cls(
            id=a.id, login=a.login, name=a.name, role=Role(a.role), territories=list(a.territories),
            conseiller_id=a.conseiller_id, active=a.active, created_at=a.created_at,
        )  # fmt: skip
