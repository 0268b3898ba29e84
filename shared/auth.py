"""Authentication and roles, the same for every service: signed JWT (HS256) bearer tokens.

Roles:
- ``admin``: everything;
- ``coordinator``: limited to the territories listed in the token (``territories`` claim);
- ``conseiller``: their own record (``sub`` is their id), and their own absences.

A token may be scoped: a calendar link's token (``scope`` "calendar", role conseiller, ``sub`` the
conseiller) opens that conseiller's calendar feed and nothing else (``feed_authenticator`` takes it,
``authenticator`` refuses it). A token without a scope is an ordinary one.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Query, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

ISSUER = "tournees"
ALGORITHM = "HS256"
CALENDAR_SCOPE = "calendar"
CALENDAR_LINK_TTL = dt.timedelta(days=365)

Authenticator = Callable[..., Awaitable["Principal"]]
"""A FastAPI dependency giving the caller's principal; async, so FastAPI calls it on the event loop, not in a thread."""

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
    scope: str | None = None
    """What a scoped token is limited to (``CALENDAR_SCOPE``); None for an ordinary token."""

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
    scope: str | None = None,
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
    if scope is not None:
        claims["scope"] = scope
    return jwt.encode(claims, secret.get_secret_value(), algorithm=ALGORITHM)


def issue_calendar_token(
    secret: SecretStr, conseiller_id: uuid.UUID, now: dt.datetime | None = None
) -> tuple[str, dt.datetime]:
    """A token that opens one conseiller's calendar feed only, and when it expires (``CALENDAR_LINK_TTL``)."""
    issued = now or dt.datetime.now(dt.UTC)
    token = issue_token(
        secret, subject=str(conseiller_id), role=Role.CONSEILLER, ttl=CALENDAR_LINK_TTL, now=issued,
        scope=CALENDAR_SCOPE,
    )  # fmt: skip
    return token, issued + CALENDAR_LINK_TTL


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
    scope = claims.get("scope")
    if scope is not None and not isinstance(scope, str):
        raise ValueError("scope must be a string")
    return Principal(
        subject=str(claims["sub"]), role=Role(claims["role"]), territories=frozenset(territories), scope=scope
    )


def authenticator(secret: SecretStr) -> Authenticator:
    """A FastAPI dependency giving the caller's principal, or answering 401 (a scoped token too:
    a calendar link's token is no key to the APIs)."""

    async def principal(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        return _principal(secret, credentials.credentials if credentials else None, scopes={None})

    return principal


class FeedAuthenticator:
    """For feeds a calendar app subscribes to: it cannot send headers, so the token may come as
    ``?token=`` instead (keep such a link private: it is a credential). An ordinary token or a
    calendar link's is taken; it also issues the latter (``calendar_token``)."""

    def __init__(self, secret: SecretStr) -> None:
        self._secret = secret

    async def __call__(
        self,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        token: Annotated[str | None, Query(description="the bearer token, for calendar apps")] = None,
    ) -> Principal:
        return _principal(
            self._secret, credentials.credentials if credentials else token, scopes={None, CALENDAR_SCOPE}
        )

    def calendar_token(self, conseiller_id: uuid.UUID, now: dt.datetime | None = None) -> tuple[str, dt.datetime]:
        """A token for this conseiller's feed only, and when it expires."""
        return issue_calendar_token(self._secret, conseiller_id, now)


def feed_authenticator(secret: SecretStr) -> FeedAuthenticator:
    return FeedAuthenticator(secret)


def _principal(secret: SecretStr, token: str | None, *, scopes: Collection[str | None]) -> Principal:
    if token is None:
        raise _unauthorized("missing bearer token")
    try:
        principal = verify_token(secret, token)
    except (jwt.InvalidTokenError, ValueError, KeyError) as exc:
        raise _unauthorized("invalid or expired token") from exc
    if principal.scope not in scopes:
        raise _unauthorized(f"a token scoped to {principal.scope!r} does not open this route")
    return principal


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role may not do this")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})
