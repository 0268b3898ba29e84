"""Scheduling HTTP API: thin routes that call the handlers."""

import datetime as dt
import uuid
from collections.abc import Callable

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.scheduling.adapters.repository import ConcurrentUpdate
from services.scheduling.domain.commands import DraftPlan, PermanenceRequest, PublishPlan
from services.scheduling.domain.model import Kind, Plan, PlanError
from services.scheduling.service_layer import handlers
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork

INSEE = r"^(\d{5}|2[AB]\d{3})$"


class PermanenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conseiller_id: uuid.UUID
    commune: str = Field(pattern=INSEE, examples=["61293"])
    lieu: str = Field(min_length=1, max_length=200, examples=["EPN de Mortagne-au-Perche"])
    kind: Kind = "permanence"
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    territory: str = Field(min_length=1, max_length=100, examples=["epci:200036069"])
    week_start: dt.date = Field(description="the Monday the plan starts")
    time_zone: str = Field(default="Europe/Paris", examples=["Europe/Paris", "Indian/Reunion"])
    permanences: list[PermanenceIn] = Field(max_length=5000)


class PermanenceOut(BaseModel):
    id: uuid.UUID
    conseiller_id: uuid.UUID
    commune: str
    lieu: str
    kind: Kind
    starts_at: dt.datetime
    ends_at: dt.datetime


class PlanOut(BaseModel):
    id: uuid.UUID
    territory: str
    week_start: dt.date
    time_zone: str
    status: str
    version: int
    permanences: list[PermanenceOut]

    @classmethod
    def of(cls, plan: Plan) -> "PlanOut":
        return cls(
            id=plan.id,
            territory=plan.territory,
            week_start=plan.week_start,
            time_zone=plan.time_zone,
            status=plan.status.value,
            version=plan.version,
            permanences=[
                PermanenceOut(
                    id=p.id,
                    conseiller_id=p.conseiller_id,
                    commune=p.commune,
                    lieu=p.lieu,
                    kind=p.kind,
                    starts_at=p.starts_at,
                    ends_at=p.ends_at,
                )
                for p in plan.permanences
            ],
        )


class ConseillerOut(BaseModel):
    id: uuid.UUID
    name: str
    home_commune: str
    weekly_hours: float


def _unprocessable(exc: PlanError) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("body", *exc.field.split(".")), "msg": exc.message, "type": "value_error"}]
    )


def router(uow: Callable[[], SchedulingUnitOfWork], auth: Callable[..., None]) -> APIRouter:
    api = APIRouter(dependencies=[Depends(auth)])

    @api.post("/plans", status_code=status.HTTP_201_CREATED, tags=["plans"])
    async def draft_plan(body: PlanIn) -> PlanOut:
        cmd = DraftPlan(
            territory=body.territory,
            week_start=body.week_start,
            time_zone=body.time_zone,
            permanences=[PermanenceRequest(**p.model_dump()) for p in body.permanences],
        )
        try:
            return PlanOut.of(await handlers.draft_plan(cmd, uow()))
        except PlanError as exc:
            raise _unprocessable(exc) from exc

    @api.get("/plans/{plan_id}", tags=["plans"])
    async def get_plan(plan_id: uuid.UUID) -> PlanOut:
        try:
            return PlanOut.of(await handlers.get_plan(plan_id, uow()))
        except handlers.PlanNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such plan") from exc

    @api.post("/plans/{plan_id}/publish", tags=["plans"])
    async def publish_plan(plan_id: uuid.UUID) -> PlanOut:
        try:
            return PlanOut.of(await handlers.publish_plan(PublishPlan(plan_id), uow()))
        except handlers.PlanNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such plan") from exc
        except PlanError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, exc.message) from exc
        except ConcurrentUpdate as exc:
            raise HTTPException(
                status.HTTP_409_CONFLICT, "the plan changed meanwhile; read it again"
            ) from exc

    @api.get("/conseillers", tags=["conseillers"])
    async def list_conseillers() -> list[ConseillerOut]:
        return [ConseillerOut(**vars(c)) for c in await handlers.list_conseillers(uow())]

    return api
