"""Every event of the system, with its subject and version, in one place.

Registry events carry the full state of what changed ("registered", "updated", "opened",
"changed" are snapshots), so a consumer keeps its copy by upserting, and a new consumer
rebuilds the whole registry by replaying the REGISTRY stream from its start. Personal
contact data of conseillers stays in the registry: no event carries it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.events.envelope import Event

INSEE_PATTERN = r"^(\d{5}|2[AB]\d{3})$"
TERRITORY_CODE_PATTERN = r"^(epci:\d{9}|dep:(\d{2,3}|2[AB])|custom:[a-z0-9][a-z0-9-]{0,62})$"

InseeCode = str  # validated by INSEE_PATTERN where it enters


def _known_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("unknown time zone") from exc
    return name


TimeZone = Annotated[str, Field(max_length=64), AfterValidator(_known_time_zone)]
"""An IANA time zone this machine knows (consumers compute local times with it, and keep it in 64 characters)."""

HalfDay = Literal["am", "pm"]
TravelMode = Literal["car", "public_transport", "bike", "walk"]
StructureKind = Literal[
    "epn", "mediatheque", "france_services", "ccas", "mairie", "mission_locale", "association", "autre"
]
LieuKind = Literal["structure", "salle_communale", "mairie", "pied_immeuble", "bus", "partenaire", "autre"]
AbsenceKind = Literal["conge", "formation", "autre"]
RecurrenceKind = Literal["permanence", "atelier"]


class _Snapshot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- registry -------------------------------------------------------------------------------


class CommuneRef(_Snapshot):
    insee: InseeCode = Field(pattern=INSEE_PATTERN)
    name: str
    population: int = Field(ge=0)
    latitude: float | None = None
    longitude: float | None = None


class TerritoryDefined(Event):
    subject = "registry.territory.defined.v1"

    code: str = Field(pattern=TERRITORY_CODE_PATTERN)
    kind: Literal["epci", "departement", "custom"]
    name: str
    time_zone: TimeZone
    holiday_calendar: str
    """``FR``, or ``FR-<subdivision>`` of the ``holidays`` package (``FR-57``, ``FR-6AE``, ``FR-974``…)."""
    communes: list[CommuneRef]


class StructureFields(_Snapshot):
    structure_id: uuid.UUID
    name: str
    kind: StructureKind
    commune: InseeCode = Field(pattern=INSEE_PATTERN)
    latitude: float | None
    longitude: float | None
    archived: bool = False


class StructureRegistered(StructureFields, Event):
    subject = "registry.structure.registered.v1"


class StructureUpdated(StructureFields, Event):
    subject = "registry.structure.updated.v1"


def check_anchor(weekday: int, every_weeks: int, from_date: dt.date | None, what: str = "slot") -> None:
    """The rule of everything recurring on a weekday: every N weeks needs its first occurrence,
    ``from_date``, and that date falls on the weekday. ValueError otherwise."""
    if every_weeks > 1 and from_date is None:
        raise ValueError(f"a {what} every N weeks needs the from_date of its first occurrence")
    if from_date is not None and from_date.weekday() != weekday:
        raise ValueError(f"from_date {from_date} is not on weekday {weekday}")


class RecurrenceFields(_Snapshot):
    """A coordinator's standing request at a lieu: a ``kind`` on ``weekday`` (0 is Monday) from
    ``start`` to ``end`` (local time of the lieu), every ``every_weeks`` weeks counted from
    ``from_date`` (its first occurrence; none before it), to be held by one conseiller."""

    recurrence_id: uuid.UUID
    weekday: int = Field(ge=0, le=6)
    start: dt.time
    end: dt.time
    every_weeks: int = Field(default=1, ge=1, le=4)
    from_date: dt.date | None = None
    kind: RecurrenceKind
    skill: str | None = None
    """A skill the conseiller needs (as in ``ConseillerFields.skills``), if any."""
    seats: int = Field(default=0, ge=0)
    needs_computers: bool = False

    @model_validator(mode="after")
    def _anchored(self) -> RecurrenceFields:
        check_anchor(self.weekday, self.every_weeks, self.from_date, "recurrence")
        return self


class LieuFields(_Snapshot):
    lieu_id: uuid.UUID
    name: str
    kind: LieuKind
    structure_id: uuid.UUID | None
    commune: InseeCode = Field(pattern=INSEE_PATTERN)
    latitude: float
    longitude: float
    capacity: int = Field(ge=0)
    has_computers: bool
    accessible: bool
    opening_hours: str
    """OSM ``opening_hours`` syntax, local time of the lieu's territory."""
    recurrences: list[RecurrenceFields] = Field(default_factory=list)
    """What must happen there regularly; empty in events from before recurrences existed."""


class LieuOpened(LieuFields, Event):
    subject = "registry.lieu.opened.v1"


class LieuChanged(LieuFields, Event):
    subject = "registry.lieu.changed.v1"


class LieuClosed(Event):
    subject = "registry.lieu.closed.v1"

    lieu_id: uuid.UUID


class AvailabilitySlot(_Snapshot):
    """A recurring half-day (``weekday`` 0 is Monday). ``from_date`` is the first occurrence (none
    before it); ``every_weeks`` = 2 with it is "every other Saturday", the weeks counted from it."""

    weekday: int = Field(ge=0, le=6)
    half: HalfDay
    every_weeks: int = Field(default=1, ge=1, le=8)
    from_date: dt.date | None = None

    @model_validator(mode="after")
    def _anchored(self) -> AvailabilitySlot:
        check_anchor(self.weekday, self.every_weeks, self.from_date)
        return self


class ConseillerFields(_Snapshot):
    conseiller_id: uuid.UUID
    name: str
    employer_structure_id: uuid.UUID
    home_lieu_id: uuid.UUID
    weekly_hours: float = Field(gt=0, le=48)
    availability: list[AvailabilitySlot]
    skills: list[str]
    travel_mode: TravelMode
    max_travel_minutes_per_day: int = Field(gt=0)
    territories: list[Annotated[str, Field(pattern=TERRITORY_CODE_PATTERN)]]
    archived: bool = False


class ConseillerRegistered(ConseillerFields, Event):
    subject = "registry.conseiller.registered.v1"


class ConseillerUpdated(ConseillerFields, Event):
    subject = "registry.conseiller.updated.v1"


class AbsenceDeclared(Event):
    subject = "registry.conseiller.absence_declared.v1"

    absence_id: uuid.UUID
    conseiller_id: uuid.UUID
    start_date: dt.date
    start_half: HalfDay
    end_date: dt.date
    end_half: HalfDay
    kind: AbsenceKind


class AbsenceWithdrawn(Event):
    subject = "registry.conseiller.absence_withdrawn.v1"

    absence_id: uuid.UUID
    conseiller_id: uuid.UUID


class DemandChanged(Event):
    """Expected weekly hours of help in a commune (a default from population, or a coordinator's)."""

    subject = "registry.demand.changed.v1"

    commune: InseeCode = Field(pattern=INSEE_PATTERN)
    individual_hours: float = Field(ge=0)
    atelier_hours: float = Field(ge=0)
    overridden: bool


# --- scheduling -----------------------------------------------------------------------------


class PlannedPermanence(_Snapshot):
    """One permanence inside a published plan."""

    permanence_id: uuid.UUID
    conseiller_id: uuid.UUID
    commune: InseeCode = Field(pattern=INSEE_PATTERN)
    commune_name: str = Field(default="", max_length=200)
    """The commune's name, for the usagers' messages; empty in events older than this field."""
    lieu: str = Field(min_length=1, max_length=200)
    kind: Literal["permanence", "atelier"] = "permanence"
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    time_zone: TimeZone
    seats: int | None = Field(default=None, ge=1)
    """An atelier's seats (its lieu's capacity); None: not limited by seats (a permanence, or an older event)."""

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> PlannedPermanence:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class PlanPublished(Event):
    subject = "scheduling.plan.published.v1"

    plan_id: uuid.UUID
    territory: str = Field(min_length=1, max_length=100)
    week_start: dt.date
    permanences: list[PlannedPermanence]


class PermanenceMoved(Event):
    """A published permanence that a re-plan moves: usagers booked in it go to ``to`` instead."""

    subject = "scheduling.permanence.moved.v1"

    plan_id: uuid.UUID
    """The plan that replaces the one the permanence was published in."""
    permanence_id: uuid.UUID
    to: PlannedPermanence
    reason: str = Field(max_length=500)


class PermanenceCancelled(Event):
    """A published permanence that a re-plan drops, with nothing at its lieu that day to move to."""

    subject = "scheduling.permanence.cancelled.v1"

    plan_id: uuid.UUID
    permanence_id: uuid.UUID
    reason: str = Field(max_length=500)


# --- the solver's work queue (scheduling to its own replicas) --------------------------------


class SolveRequested(Event):
    """A solve waits in the work queue; the request itself (what to solve) is in scheduling's database."""

    subject = "solver.solve.requested.v1"

    request_id: uuid.UUID
    territory: str = Field(pattern=TERRITORY_CODE_PATTERN)
    kind: Literal["plan", "replan", "what_if"]


CATALOGUE: dict[str, type[Event]] = {
    event_type.subject: event_type
    for event_type in (
        TerritoryDefined,
        StructureRegistered,
        StructureUpdated,
        LieuOpened,
        LieuChanged,
        LieuClosed,
        ConseillerRegistered,
        ConseillerUpdated,
        AbsenceDeclared,
        AbsenceWithdrawn,
        DemandChanged,
        PlanPublished,
        PermanenceMoved,
        PermanenceCancelled,
        SolveRequested,
    )
}
