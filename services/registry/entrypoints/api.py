"""Registry HTTP API: thin routes that call the handlers."""

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from services.registry.domain.commands import RegisterConseiller
from services.registry.domain.model import Conseiller, InvalidConseiller
from services.registry.service_layer import handlers
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork


class ConseillerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["Camille Martin"])
    home_commune: str = Field(description="INSEE code of the home commune", examples=["61293"])
    weekly_hours: float = Field(gt=0, le=48, examples=[35])


class ConseillerOut(BaseModel):
    id: uuid.UUID
    name: str
    home_commune: str
    weekly_hours: float
    version: int

    @classmethod
    def of(cls, conseiller: Conseiller) -> "ConseillerOut":
        return cls(
            id=conseiller.id,
            name=conseiller.name,
            home_commune=conseiller.home_commune,
            weekly_hours=conseiller.weekly_hours,
            version=conseiller.version,
        )


def router(uow: Callable[[], RegistryUnitOfWork], auth: Callable[..., None]) -> APIRouter:
    api = APIRouter(prefix="/conseillers", tags=["conseillers"], dependencies=[Depends(auth)])

    @api.post("", status_code=status.HTTP_201_CREATED)
    async def register_conseiller(body: ConseillerIn) -> ConseillerOut:
        cmd = RegisterConseiller(
            name=body.name, home_commune=body.home_commune, weekly_hours=body.weekly_hours
        )
        try:
            conseiller = await handlers.register_conseiller(cmd, uow())
        except InvalidConseiller as exc:
            raise RequestValidationError(
                [{"loc": ("body", exc.field), "msg": exc.message, "type": "value_error"}]
            ) from exc
        return ConseillerOut.of(conseiller)

    @api.get("/{conseiller_id}")
    async def get_conseiller(conseiller_id: uuid.UUID) -> ConseillerOut:
        try:
            return ConseillerOut.of(await handlers.get_conseiller(conseiller_id, uow()))
        except handlers.ConseillerNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conseiller") from exc

    @api.get("")
    async def list_conseillers(
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[ConseillerOut]:
        return [
            ConseillerOut.of(c) for c in await handlers.list_conseillers(uow(), limit=limit, offset=offset)
        ]

    return api
