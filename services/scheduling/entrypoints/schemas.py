"""Scheduling's HTTP request and response bodies."""

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer

from services.scheduling.domain.model import Kind, Permanence, Plan
from services.scheduling.domain.plan_check import PlanCheck, PlanWarning
from services.scheduling.domain.registry_copy import HalfDay, RecurrenceKind
from services.scheduling.domain.solves import SolveKind, SolveRequest, SolveStatus
from services.scheduling.planner.findings import Code
from services.scheduling.service_layer.plans import Preview
from shared.events.catalogue import INSEE_PATTERN, TERRITORY_CODE_PATTERN

T = TypeVar("T")

REQUEST_ID = "send the same one again (after a timeout, say) to get the same request back, not a second solve"


class PageOf(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


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


class WeightsIn(BaseModel):
    """The objective's weights, each what one unit of its term costs in minutes of driving
    (``docs/planner-model.md``); any left out keeps its default."""

    model_config = ConfigDict(extra="forbid")

    travel_per_minute: int = Field(default=1, ge=0, le=1000)
    uncovered_per_hour: int = Field(default=60, ge=0, le=100_000, description="per hour of demand left uncovered")
    fairness_per_minute: int = Field(default=1, ge=0, le=1000, description="per minute of the longest day's travel")
    move_per_permanence: int = Field(default=120, ge=0, le=100_000, description="re-plans: per permanence moved")
    short_hours_per_hour: int = Field(default=240, ge=0, le=100_000, description="per hour under a weekly minimum")
    hours_fairness_per_point: int = Field(
        default=1, ge=0, le=1000, description="per point between the highest and lowest share of their contract"
    )
    uncovered_atelier_per_hour: int = Field(default=60, ge=0, le=100_000)


class SolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    territory: str = Field(pattern=TERRITORY_CODE_PATTERN, examples=["epci:200036069"])
    week_start: dt.date = Field(description="the Monday the plan starts")
    days: int = Field(default=5, ge=1, le=7, description="how many days from week_start (5: Monday to Friday)")
    time_limit_s: float = Field(default=20, gt=0, le=300, description="the solver's time limit")
    weights: WeightsIn = Field(default_factory=WeightsIn)
    reach_km: float = Field(default=15, gt=0, le=60, description="how far usagers travel to a permanence")
    request_id: uuid.UUID = Field(default_factory=uuid.uuid4, description=REQUEST_ID + " (it is the plan's id)")


class WhatIfIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    territory: str = Field(pattern=TERRITORY_CODE_PATTERN, examples=["epci:200072049"])
    week_start: dt.date
    lieu_id: uuid.UUID = Field(description="where the extra conseiller would be based (a lieu of the territory)")
    weekly_hours: float = Field(default=35, gt=0, le=48)
    time_limit_s: float = Field(default=20, gt=0, le=300)
    request_id: uuid.UUID = Field(default_factory=uuid.uuid4, description=REQUEST_ID)


class ReplanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, examples=["absence de Camille mardi"])
    time_limit_s: float = Field(default=10, gt=0, le=300)
    request_id: uuid.UUID = Field(default_factory=uuid.uuid4, description=REQUEST_ID + " (it is the new plan's id)")


class SolveRequestOut(BaseModel):
    """A solve asked for, and how far it got: follow ``progress`` while it runs."""

    id: uuid.UUID
    kind: SolveKind
    territory: str
    status: SolveStatus = Field(description="queued, running, done or failed")
    parameters: dict[str, Any]
    requested_at: dt.datetime
    attempts: int = Field(description="how many times a solver started it (a replica that died is replaced)")
    worker: str | None = Field(description="the solver replica that took it last (host:pid)")
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    progress: dict[str, Any] | None = Field(
        description="while running: elapsed_s, time_limit_s, solutions found, best objective, bound and gap"
    )
    plan_id: uuid.UUID | None = Field(description="once done: the draft plan it made (a plan or a re-plan)")
    result: dict[str, Any] | None = Field(description="once done: the plan's figures, or a what-if's answer")
    error: str | None = Field(description="once failed: why")

    @classmethod
    def of(cls, request: SolveRequest) -> "SolveRequestOut":
        fields = {k: v for k, v in vars(request).items() if k != "requested_by"}
        return cls(**fields, plan_id=request.plan_id)


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


class MoveIn(BaseModel):
    """Where and when a permanence goes; it keeps its kind and its pin."""

    model_config = ConfigDict(extra="forbid")

    conseiller_id: uuid.UUID = Field(description="a conseiller of scheduling's copy, not archived")
    lieu_id: uuid.UUID = Field(description="a lieu of scheduling's copy (its commune and name are the permanence's)")
    starts_at: AwareDatetime = Field(examples=["2026-12-01T14:00:00+01:00"])
    ends_at: AwareDatetime = Field(examples=["2026-12-01T17:00:00+01:00"], description="the same (local) day")


class WarningOut(BaseModel):
    """A rule the plan breaks, as the checker tells it."""

    code: Code = Field(description="which rule (a stable set: see ``planner/findings.py``)")
    permanence_id: uuid.UUID | None = Field(description="the permanence it is about, when it is about one")
    permanence_ids: list[uuid.UUID] = Field(description="every permanence it is about (a crowded room: several)")
    conseiller_id: uuid.UUID | None
    message: str = Field(
        description="for the coordinator, in French, in the territory's time",
        examples=[
            "Absence de Camille Lefèvre le mardi 1er décembre (après-midi) : permanence au lieu « EPN », 14h–17h."
        ],
    )

    @classmethod
    def of(cls, warning: PlanWarning) -> "WarningOut":
        return cls(
            code=warning.code, permanence_id=warning.permanence_id, permanence_ids=list(warning.permanence_ids),
            conseiller_id=warning.conseiller_id, message=warning.message,
        )  # fmt: skip


class PlanCheckOut(BaseModel):
    warnings: list[WarningOut]
    figures: dict[str, Any] = Field(
        description="as a solve's: travel_km, travel_km_by_conseiller, hours_by_conseiller (by conseiller id), "
        "covered_hours_by_commune (by INSEE code), demand_hours, uncovered_demand_hours, and the ateliers' and "
        "contracts' figures; counted over the permanences at a registry lieu"
    )

    @classmethod
    def of(cls, check: PlanCheck) -> "PlanCheckOut":
        return cls(warnings=[WarningOut.of(w) for w in check.warnings], figures=check.figures)


class MovedOut(PlanOut):
    """The plan once the permanence moved, and the rules it breaks now."""

    warnings: list[WarningOut]

    @classmethod
    def checked(cls, plan: Plan, check: PlanCheck) -> "MovedOut":
        return cls(**PlanOut.of(plan).model_dump(), warnings=[WarningOut.of(w) for w in check.warnings])


class ChangedPermanenceOut(BaseModel):
    permanence_id: uuid.UUID
    conseiller_id: uuid.UUID
    lieu: str
    lieu_id: uuid.UUID | None
    commune: str = Field(description="its INSEE code")
    commune_name: str = Field(description='as the usagers\' messages name it ("" when the copy has no name)')
    kind: Kind
    starts_at: dt.datetime = Field(description="in the territory's time")
    ends_at: dt.datetime

    @classmethod
    def of(cls, p: Permanence, zone: ZoneInfo, commune_names: Mapping[str, str]) -> "ChangedPermanenceOut":
        return cls(
            permanence_id=p.id, conseiller_id=p.conseiller_id, lieu=p.lieu, lieu_id=p.lieu_id, commune=p.commune,
            commune_name=commune_names.get(p.commune, ""), kind=p.kind, starts_at=p.starts_at.astimezone(zone),
            ends_at=p.ends_at.astimezone(zone),
        )  # fmt: skip


class ChangeOut(ChangedPermanenceOut):
    """A permanence of the published plan that publishing the re-plan moves or cancels: its usagers are told."""

    change: Literal["moved", "cancelled"]
    to: ChangedPermanenceOut | None = Field(description="where it moves (the same lieu, that day); null: cancelled")


class ChangesOut(BaseModel):
    """What publishing a re-plan tells: the same decision publishing makes."""

    replaces: uuid.UUID
    reason: str = Field(description="told to the usagers of each permanence moved or cancelled")
    changes: list[ChangeOut] = Field(description="by start")
    kept: int = Field(description="how many permanences of the published plan stay as they are (nothing to tell)")
    added: list[ChangedPermanenceOut] = Field(description="the re-plan's new permanences no change moves to")

    @classmethod
    def of(cls, preview: Preview) -> "ChangesOut":
        zone, names = ZoneInfo(preview.plan.time_zone), preview.commune_names
        changes = preview.changes
        assert preview.plan.replaces is not None  # a preview is of a re-plan
        return cls(
            replaces=preview.plan.replaces,
            reason=changes.reason,
            changes=[
                ChangeOut(
                    **ChangedPermanenceOut.of(c.old, zone, names).model_dump(),
                    change="cancelled" if c.to is None else "moved",
                    to=None if c.to is None else ChangedPermanenceOut.of(c.to, zone, names),
                )
                for c in changes.changes
            ],
            kept=len(changes.kept),
            added=[ChangedPermanenceOut.of(p, zone, names) for p in changes.added],
        )


class CalendarLinkOut(BaseModel):
    url: str = Field(
        description="the feed with its token, relative to the scheduling API (a credential: keep it private)",
        examples=["/conseillers/6f1c1c3e-3d4b-4a43-9a57-0d6c2b9b7a11/calendar.ics?token=eyJ…"],
    )
    expires_at: dt.datetime


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


Clock = Annotated[dt.time, PlainSerializer(lambda t: t.isoformat("minutes"), return_type=str)]
"""HH:MM, local time of the lieu (as the registry's API writes it)."""


class RecurrenceOut(_FromDomain):
    id: uuid.UUID
    weekday: int = Field(description="0 is Monday")
    start: Clock
    end: Clock
    every_weeks: int
    from_date: dt.date | None = Field(description="the first occurrence; the weeks are counted from it")
    kind: RecurrenceKind
    skill: str | None
    seats: int
    needs_computers: bool


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
    recurrences: list[RecurrenceOut]


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


class DayOut(BaseModel):
    date: dt.date
    holiday: str | None = Field(description='the public holiday\'s name ("Noël"), or null')


class AbsenceOut(_FromDomain):
    id: uuid.UUID
    conseiller_id: uuid.UUID
    start_date: dt.date
    start_half: HalfDay
    end_date: dt.date
    end_half: HalfDay
    kind: str


class WeekOut(BaseModel):
    """A territory's week as the coordinator's grid shows it, besides the plan."""

    territory: str
    time_zone: str
    days: list[DayOut]
    absences: list[AbsenceOut] = Field(description="of the territory's conseillers, touching one of the days")
