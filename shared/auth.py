"""Authentication and roles, the same for every service: signed JWT (HS256) bearer tokens.

Roles:
- ``admin``: everything;
- ``coordinator``: limited to the territories listed in the token (``territories`` claim);
- ``conseiller``: their own record (``sub`` is their id), and their own absences.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Query, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

ISSUER = "tournees"
ALGORITHM = "HS256"

_bearer = HTTPBearer(auto_error=False, description="A token from `tournees token`")


class Role(enum.StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    CONSEILLER = "conseiller"


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says."""

    subject: str
    role: Role
    territories: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def may_act_in(self, territories: Iterable[str]) -> bool:
        """Admins act everywhere; coordinators where one of ``territories`` is theirs."""
        return self.is_admin or (self.role is Role.COORDINATOR and not self.territories.isdisjoint(territories))

    def is_conseiller(self, conseiller_id: uuid.UUID) -> bool:
        return self.role is Role.CONSEILLER and self.subject == str(conseiller_id)


def issue_token(
    secret: SecretStr,
    *,
    subject: str,
    role: Role,
    territories: Iterable[str] = (),
    ttl: dt.timedelta = dt.timedelta(hours=12),
    now: dt.datetime | None = None,
) -> str:
    issued = now or dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": subject,
        "role": role.value,
        "territories": sorted(territories),
        "iat": issued,
        "exp": issued + ttl,
    }
    return jwt.encode(claims, secret.get_secret_value(), algorithm=ALGORITHM)


def verify_token(secret: SecretStr, token: str) -> Principal:
    """The principal of a valid token; ``jwt.InvalidTokenError`` (or ValueError) otherwise."""
    claims = jwt.decode(
        token,
        secret.get_secret_value(),
        algorithms=[ALGORITHM],
        issuer=ISSUER,
        options={"require": ["exp", "iat", "sub", "iss"]},
    )
    territories = claims.get("territories", [])
    if not isinstance(territories, list) or not all(isinstance(t, str) for t in territories):
        raise ValueError("territories must be a list of codes")
    return Principal(subject=str(claims["sub"]), role=Role(claims["role"]), territories=frozenset(territories))


def authenticator(secret: SecretStr) -> Callable[..., Principal]:
    """A FastAPI dependency giving the caller's principal, or answering 401."""

    def principal(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        return _principal(secret, credentials.credentials if credentials else None)

    return principal


def feed_authenticator(secret: SecretStr) -> Callable[..., Principal]:
    """For feeds a calendar app subscribes to: it cannot send headers, so the token may come as
    ``?token=`` instead (keep such a link private: it is a credential)."""

    def principal(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        token: Annotated[str | None, Query(description="the bearer token, for calendar apps")] = None,
    ) -> Principal:
        return _principal(secret, credentials.credentials if credentials else token)

    return principal


def _principal(secret: SecretStr, token: str | None) -> Principal:
    if token is None:
        raise _unauthorized("missing bearer token")
    try:
        return verify_token(secret, token)
    except (jwt.InvalidTokenError, ValueError, KeyError) as exc:
        raise _unauthorized("invalid or expired token") from exc


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role may not do this")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})
