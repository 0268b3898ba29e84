"""Scheduling's HTTP request and response bodies."""

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.scheduling.domain.model import Kind, Plan
from services.scheduling.domain.registry_copy import HalfDay
from shared.events.catalogue import INSEE_PATTERN, TERRITORY_CODE_PATTERN


class PermanenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conseiller_id: uuid.UUID
    commune: str = Field(pattern=INSEE_PATTERN, examples=["61293"])
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


class SolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    territory: str = Field(pattern=TERRITORY_CODE_PATTERN, examples=["epci:200036069"])
    week_start: dt.date = Field(description="the Monday the plan starts")
    days: int = Field(default=5, ge=1, le=7, description="how many days from week_start (5: Monday to Friday)")
    time_limit_s: float = Field(default=20, gt=0, le=300, description="the solver's time limit")
    request_id: uuid.UUID = Field(
        default_factory=uuid.uuid4,
        description="send the same one again (after a timeout, say) to get the same plan, not a second solve",
    )


class WhatIfIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    territory: str = Field(pattern=TERRITORY_CODE_PATTERN, examples=["epci:200072049"])
    week_start: dt.date
    lieu_id: uuid.UUID = Field(description="where the extra conseiller would be based (a lieu of the territory)")
    weekly_hours: float = Field(default=35, gt=0, le=48)
    time_limit_s: float = Field(default=20, gt=0, le=300)


class ReplanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, examples=["absence de Camille mardi"])
    time_limit_s: float = Field(default=10, gt=0, le=300)


class PermanenceOut(BaseModel):
    id: uuid.UUID
    conseiller_id: uuid.UUID
    commune: str
    lieu: str
    kind: Kind
    starts_at: dt.datetime
    ends_at: dt.datetime
    lieu_id: uuid.UUID | None
    pinned: bool


class PlanOut(BaseModel):
    id: uuid.UUID
    territory: str
    week_start: dt.date
    time_zone: str
    status: str
    version: int
    figures: dict[str, Any] | None = Field(
        description="the solve's figures (status, bound, gap, travel, coverage); null for a plan made by hand"
    )
    replaces: uuid.UUID | None = Field(description="for a re-plan: the published plan it replaces")
    reason: str | None
    permanences: list[PermanenceOut]

    @classmethod
    def of(cls, plan: Plan) -> "PlanOut":
        zone = ZoneInfo(plan.time_zone)
        return cls(
            id=plan.id,
            territory=plan.territory,
            week_start=plan.week_start,
            time_zone=plan.time_zone,
            status=plan.status.value,
            figures=plan.figures,
            replaces=plan.replaces,
            reason=plan.reason,
            version=plan.version,
            permanences=[
                PermanenceOut(
                    id=p.id,
                    conseiller_id=p.conseiller_id,
                    commune=p.commune,
                    lieu=p.lieu,
                    kind=p.kind,
                    starts_at=p.starts_at.astimezone(zone),  # in the territory's time, however stored
                    ends_at=p.ends_at.astimezone(zone),
                    lieu_id=p.lieu_id,
                    pinned=p.pinned,
                )
                for p in plan.permanences
            ],
        )


class _FromDomain(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AvailabilitySlotOut(_FromDomain):
    weekday: int = Field(description="0 is Monday")
    half: HalfDay
    every_weeks: int
    from_date: dt.date | None


class ConseillerOut(_FromDomain):
    id: uuid.UUID
    name: str
    employer_structure_id: uuid.UUID
    home_lieu_id: uuid.UUID
    weekly_hours: float
    availability: list[AvailabilitySlotOut]
    skills: list[str]
    travel_mode: str
    max_travel_minutes_per_day: int
    territories: list[str]
    archived: bool


class LieuOut(_FromDomain):
    id: uuid.UUID
    name: str
    kind: str
    structure_id: uuid.UUID | None
    commune: str
    latitude: float
    longitude: float
    capacity: int
    has_computers: bool
    accessible: bool
    opening_hours: str
    closed: bool


class CommuneOut(_FromDomain):
    insee: str
    name: str
    population: int
    latitude: float | None
    longitude: float | None


class TerritoryOut(_FromDomain):
    code: str
    kind: str
    name: str
    time_zone: str
    holiday_calendar: str
    communes: list[CommuneOut]
