"""A territory's week for the coordinator's grid: public holidays and absences, from scheduling's copy."""

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status

from services.scheduling.entrypoints.access import may_plan_or_read
from services.scheduling.entrypoints.schemas import AbsenceOut, DayOut, WeekOut
from services.scheduling.service_layer import registry_copy
from services.scheduling.service_layer.errors import TerritoryNotFound
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from shared.auth import Authenticator, Principal
from shared.events.catalogue import TERRITORY_CODE_PATTERN
from shared.http import problems


def router(uow: Callable[[], SchedulingUnitOfWork], principal_dependency: Authenticator) -> APIRouter:
    api = APIRouter(tags=["registry copy"], responses=problems(401))

    @api.get("/territories/{code}/week", responses=problems(403, 404))
    async def week(
        code: Annotated[str, Path(pattern=TERRITORY_CODE_PATTERN, examples=["epci:200036069"])],
        week_start: Annotated[dt.date, Query(description="the Monday the week starts")],
        principal: Annotated[Principal, Depends(principal_dependency)],
        days: Annotated[int, Query(ge=1, le=7)] = 7,
    ) -> WeekOut:
        """The days of a week with their public holidays (the territory's calendar), and the absences of
        its conseillers, as scheduling's copy of the registry knows them."""
        may_plan_or_read(principal, code)
        try:
            found = await registry_copy.week_of(code, week_start, days, uow())
        except TerritoryNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such territory") from exc
        return WeekOut(
            territory=code,
            time_zone=found.territory.time_zone,
            days=[DayOut(date=d, holiday=found.holidays.get(d)) for d in found.days],
            absences=[AbsenceOut.model_validate(a) for a in found.absences],
        )

    return api
