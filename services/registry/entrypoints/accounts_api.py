"""Logging in (``POST /auth/token``, the OAuth2 password flow) and the admins' account routes.

No response carries a password or its hash (``account_schemas``).
"""

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import SecretStr

from services.registry.domain import commands
from services.registry.entrypoints.account_schemas import AccountIn, AccountOut, AccountPatch, TokenOut
from services.registry.entrypoints.api import PageQuery
from services.registry.entrypoints.schemas import PageOf
from services.registry.service_layer import accounts
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.auth import Authenticator, Principal, Role, issue_token
from shared.http import problems


def router(
    uow: Callable[[], RegistryUnitOfWork], principal: Authenticator, secret: SecretStr, ttl: dt.timedelta
) -> APIRouter:
    api = APIRouter()
    Who = Annotated[Principal, Depends(principal)]

    @api.post("/auth/token", tags=["auth"], responses=problems(401, 429))
    async def log_in(form: Annotated[OAuth2PasswordRequestForm, Depends()], response: Response) -> TokenOut:
        """A bearer token for a login and password (form fields ``username`` and ``password``)."""
        try:
            account = await accounts.authenticate(form.username, form.password, uow())
        except accounts.InvalidCredentials as exc:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, str(exc), headers={"WWW-Authenticate": "Bearer"}
            ) from None
        except accounts.TooManyAttempts as exc:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS, str(exc), headers={"Retry-After": str(exc.retry_after_s)}
            ) from None
        role = Role(account.role)
        token = issue_token(secret, subject=account.subject, role=role, territories=account.territories, ttl=ttl)
        response.headers["Cache-Control"] = "no-store"
        return TokenOut(
            access_token=token, expires_in=int(ttl.total_seconds()), role=role, territories=list(account.territories),
            name=account.name,
        )  # fmt: skip

    @api.post("/accounts", status_code=status.HTTP_201_CREATED, tags=["accounts"], responses=problems(401, 403, 409))
    async def create_account(body: AccountIn, who: Who) -> AccountOut:
        """Admins only. 409 if the login has an account already."""
        cmd = commands.CreateAccount(
            login=body.login, role=body.role.value, password=body.password.get_secret_value(), name=body.name,
            territories=tuple(body.territories), conseiller_id=body.conseiller_id,
        )  # fmt: skip
        return AccountOut.of(await accounts.create_account(cmd, uow(), who))

    @api.get("/accounts", tags=["accounts"], responses=problems(401, 403))
    async def list_accounts(who: Who, p: PageQuery, role: Role | None = None) -> PageOf[AccountOut]:
        """Admins only."""
        items, total = await accounts.list_accounts(uow(), who, p, role=None if role is None else role.value)
        return PageOf[AccountOut](items=[AccountOut.of(a) for a in items], total=total, limit=p.limit, offset=p.offset)

    @api.patch("/accounts/{account_id}", tags=["accounts"], responses=problems(401, 403, 404))
    async def change_account(account_id: uuid.UUID, body: AccountPatch, who: Who) -> AccountOut:
        """Admins only: deactivate or reactivate, rename, change a coordinator's territories, reset
        the password. A token issued before a deactivation stays valid until it expires."""
        cmd = commands.ChangeAccount(
            account_id, name=body.name, active=body.active,
            territories=None if body.territories is None else tuple(body.territories),
            password=None if body.password is None else body.password.get_secret_value(),
        )  # fmt: skip
        return AccountOut.of(await accounts.change_account(cmd, uow(), who))

    return api
