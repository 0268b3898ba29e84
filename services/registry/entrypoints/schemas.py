"""The registry's HTTP request and response bodies."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from services.registry.domain.conseillers import Conseiller
from services.registry.domain.demand import Demand
from services.registry.domain.geography import Commune, Territory
from services.registry.domain.places import Lieu, Structure
from services.registry.domain.recurrences import MAX_EVERY_WEEKS, MAX_RECURRENCES, Recurrence
from shared.events import AbsenceKind, AvailabilitySlot, HalfDay, LieuKind, RecurrenceKind, StructureKind, TravelMode
from shared.events.catalogue import INSEE_PATTERN, TERRITORY_CODE_PATTERN

T = TypeVar("T")
Insee = Annotated[str, Field(pattern=INSEE_PATTERN, examples=["61293"])]
TerritoryCode = Annotated[str, Field(pattern=TERRITORY_CODE_PATTERN, examples=["epci:200036069"])]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, local time", examples=["16:00"])]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Versioned(_In):
    version: int = Field(ge=1, description="the version you read; a stale one gets 409")


class PageOf(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# --- territories and communes ---------------------------------------------------------------


class TerritoryIn(_In):
    code: TerritoryCode
    name: str | None = Field(default=None, max_length=200)
    communes: list[Insee] = Field(default=[], max_length=5000, description="for custom: territories only")


class CommuneOut(BaseModel):
    insee: str
    name: str
    population: int
    departement: str
    region: str
    epci_siren: str | None
    epci_name: str | None
    latitude: float | None
    longitude: float | None
    mairie_latitude: float | None
    mairie_longitude: float | None
    mairie_address: str | None
    mairie_opening_hours: str | None

    @classmethod
    def of(cls, c: Commune) -> CommuneOut:
        return cls(**vars(c))


class TerritorySummary(BaseModel):
    code: str
    kind: str
    name: str
    time_zone: str
    holiday_calendar: str
    version: int


class TerritoryOut(TerritorySummary):
    communes: list[str]
    population: int

    @classmethod
    def of(cls, t: Territory) -> TerritoryOut:
        return cls(
            code=t.code, kind=t.kind, name=t.name, time_zone=t.time_zone, holiday_calendar=t.holiday_calendar,
            version=t.version, communes=[c.insee for c in t.communes], population=sum(c.population for c in t.communes),
        )  # fmt: skip


# --- structures and lieux -------------------------------------------------------------------


class StructureIn(_In):
    name: Name
    kind: StructureKind
    commune: Insee
    address: str = Field(default="", max_length=300)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    siret: str | None = Field(default=None, pattern=r"^\d{14}$")


class StructurePatch(Versioned):
    name: Name | None = None
    kind: StructureKind | None = None
    commune: Insee | None = None
    address: str | None = Field(default=None, max_length=300)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    siret: str | None = Field(default=None, pattern=r"^\d{14}$")


class StructureOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    commune: str
    address: str
    latitude: float | None
    longitude: float | None
    siret: str | None
    archived: bool
    version: int

    @classmethod
    def of(cls, s: Structure) -> StructureOut:
        return cls(**{k: v for k, v in vars(s).items() if k != "events"})


class RecurrenceIn(_In):
    """Something to hold at the lieu regularly, by one conseiller each time."""

    id: uuid.UUID | None = Field(default=None, description="keep it when editing; the registry gives new ones an id")
    weekday: int = Field(ge=0, le=6, description="0 is Monday")
    start: Clock
    end: Clock
    every_weeks: int = Field(default=1, ge=1, le=MAX_EVERY_WEEKS)
    from_date: dt.date | None = Field(
        default=None, description="the first occurrence, on weekday; required when every_weeks > 1"
    )
    kind: RecurrenceKind
    skill: str | None = Field(default=None, max_length=40, description="a skill the conseiller needs")
    seats: int = Field(default=0, ge=0, le=500, description="at most the lieu's capacity")
    needs_computers: bool = False


class RecurrenceOut(BaseModel):
    id: uuid.UUID
    weekday: int
    start: str
    end: str
    every_weeks: int
    from_date: dt.date | None
    kind: str
    skill: str | None
    seats: int
    needs_computers: bool

    @classmethod
    def of(cls, r: Recurrence) -> RecurrenceOut:
        return cls(**{**vars(r), "start": r.start.isoformat("minutes"), "end": r.end.isoformat("minutes")})


class LieuIn(_In):
    name: Name
    kind: LieuKind
    structure_id: uuid.UUID | None = None
    commune: Insee
    address: str = Field(default="", max_length=300)
    latitude: Latitude
    longitude: Longitude
    capacity: int = Field(ge=0, le=500, description="seats for an atelier")
    has_computers: bool = False
    accessible: bool = True
    opening_hours: str = Field(
        max_length=2000, description="OSM opening_hours syntax", examples=["Mo-Fr 09:00-12:00,14:00-17:00; PH off"]
    )
    recurrences: list[RecurrenceIn] = Field(default=[], max_length=MAX_RECURRENCES)


class LieuPatch(Versioned):
    name: Name | None = None
    kind: LieuKind | None = None
    structure_id: uuid.UUID | None = None
    commune: Insee | None = None
    address: str | None = Field(default=None, max_length=300)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    capacity: int | None = Field(default=None, ge=0, le=500)
    has_computers: bool | None = None
    accessible: bool | None = None
    opening_hours: str | None = Field(default=None, max_length=2000)
    recurrences: list[RecurrenceIn] | None = Field(
        default=None, max_length=MAX_RECURRENCES, description="the whole list: it replaces the current one"
    )


class TownHallIn(_In):
    commune: Insee
    capacity: int = Field(default=10, ge=0, le=500)


class LieuOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    structure_id: uuid.UUID | None
    commune: str
    address: str
    latitude: float
    longitude: float
    capacity: int
    has_computers: bool
    accessible: bool
    opening_hours: str
    recurrences: list[RecurrenceOut]
    external_id: str | None
    closed: bool
    version: int

    @classmethod
    def of(cls, lieu: Lieu) -> LieuOut:
        values: dict[str, Any] = {k: v for k, v in vars(lieu).items() if k != "events"}
        recurrences = [RecurrenceOut.of(r) for r in lieu.recurrences]
        return cls(**{**values, "opening_hours": lieu.opening_hours.to_osm(), "recurrences": recurrences})


# --- conseillers ----------------------------------------------------------------------------


class ConseillerIn(_In):
    name: Name
    email: str = Field(max_length=254, description="professional e-mail", examples=["camille.l@epn-mortagne.fr"])
    phone: str | None = Field(default=None, max_length=20)
    employer_structure_id: uuid.UUID
    home_lieu_id: uuid.UUID
    weekly_hours: float = Field(gt=0, le=48)
    availability: list[AvailabilitySlot] = Field(max_length=14)
    skills: list[str] = Field(default=[], max_length=30)
    travel_mode: TravelMode = "car"
    max_travel_minutes_per_day: int = Field(default=120, gt=0, le=480)
    territories: list[TerritoryCode] = Field(min_length=1, max_length=20)


class ConseillerPatch(Versioned):
    name: Name | None = None
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    employer_structure_id: uuid.UUID | None = None
    home_lieu_id: uuid.UUID | None = None
    weekly_hours: float | None = Field(default=None, gt=0, le=48)
    availability: list[AvailabilitySlot] | None = Field(default=None, max_length=14)
    skills: list[str] | None = Field(default=None, max_length=30)
    travel_mode: TravelMode | None = None
    max_travel_minutes_per_day: int | None = Field(default=None, gt=0, le=480)
    territories: list[TerritoryCode] | None = Field(default=None, min_length=1, max_length=20)


class AbsenceIn(_In):
    start_date: dt.date
    start_half: HalfDay = "am"
    end_date: dt.date
    end_half: HalfDay = "pm"
    kind: AbsenceKind = "conge"


class AbsenceOut(BaseModel):
    id: uuid.UUID
    start_date: dt.date
    start_half: str
    end_date: dt.date
    end_half: str
    kind: str


class ConseillerOut(BaseModel):
    id: uuid.UUID
    name: str
    email: str
    phone: str | None
    employer_structure_id: uuid.UUID
    home_lieu_id: uuid.UUID
    weekly_hours: float
    availability: list[AvailabilitySlot]
    skills: list[str]
    travel_mode: str
    max_travel_minutes_per_day: int
    territories: list[str]
    absences: list[AbsenceOut]
    archived: bool
    version: int

    @classmethod
    def of(cls, c: Conseiller) -> ConseillerOut:
        values: dict[str, Any] = {k: v for k, v in vars(c).items() if k != "events"}
        values["absences"] = [AbsenceOut(**vars(a)) for a in c.absences]
        return cls(**values)


# --- demand ---------------------------------------------------------------------------------


class DemandIn(_In):
    individual_hours: float = Field(ge=0, le=500, description="expected weekly hours of individual help")
    atelier_hours: float = Field(ge=0, le=500, description="expected weekly hours of ateliers")


class DemandOut(BaseModel):
    commune: str
    individual_hours: float
    atelier_hours: float
    source: Literal["default", "coordinator"]

    @classmethod
    def of(cls, d: Demand) -> DemandOut:
        source: Literal["default", "coordinator"] = "coordinator" if d.overridden else "default"
        return cls(commune=d.commune, individual_hours=d.individual_hours, atelier_hours=d.atelier_hours, source=source)
