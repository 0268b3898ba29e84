"""Communes and territories: where things are, in which time zone, with which holidays."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from services.registry.domain.errors import RuleBroken
from shared.events import CommuneRef, TerritoryDefined

INSEE_CODE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
TERRITORY_CODE = re.compile(r"^(epci:\d{9}|dep:(\d{2,3}|2[AB])|custom:[a-z0-9][a-z0-9-]{0,62})$")
TerritoryKind = Literal["epci", "departement", "custom"]

# Overseas départements: their own time zone and holiday calendar (``holidays`` subdivisions).
OVERSEAS = {
    "971": ("America/Guadeloupe", "FR-971"),
    "972": ("America/Martinique", "FR-972"),
    "973": ("America/Cayenne", "FR-973"),
    "974": ("Indian/Reunion", "FR-974"),
    "976": ("Indian/Mayotte", "FR-976"),
}
# Alsace-Moselle keeps Good Friday and St Stephen's day (Concordat-era local law).
ALSACE_MOSELLE = {"57": "FR-57", "67": "FR-6AE", "68": "FR-6AE"}


def check_insee(code: str, field: str = "commune") -> str:
    if not INSEE_CODE.match(code):
        raise RuleBroken(field, f"{code!r} is not an INSEE commune code")
    return code


@dataclass(frozen=True)
class Commune:
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
    """Town-hall hours as in the shipped data (JSON), converted to a lieu's hours on demand."""

    @property
    def location(self) -> tuple[float, float] | None:
        """The town hall if known, else the centroid; None for the few communes with neither."""
        if self.mairie_latitude is not None and self.mairie_longitude is not None:
            return self.mairie_latitude, self.mairie_longitude
        if self.latitude is not None and self.longitude is not None:
            return self.latitude, self.longitude
        return None

    def ref(self) -> CommuneRef:
        return CommuneRef(
            insee=self.insee,
            name=self.name,
            population=self.population,
            latitude=self.latitude,
            longitude=self.longitude,
        )


def time_zone_for(departements: set[str]) -> str:
    zones = {OVERSEAS.get(dep, ("Europe/Paris", ""))[0] for dep in departements}
    if len(zones) != 1:
        raise RuleBroken("communes", f"a territory lies in one time zone, these span {sorted(zones)}")
    return zones.pop()


def holiday_calendar_for(departements: set[str]) -> str:
    """``FR`` or the subdivision every commune shares (Alsace-Moselle, an overseas département)."""
    calendars = {OVERSEAS[dep][1] if dep in OVERSEAS else ALSACE_MOSELLE.get(dep, "FR") for dep in departements}
    return calendars.pop() if len(calendars) == 1 else "FR"


@dataclass
class Territory:
    """An EPCI, a département or a custom set of communes a coordinator plans for."""

    code: str
    kind: TerritoryKind
    name: str
    communes: tuple[Commune, ...]
    time_zone: str
    holiday_calendar: str
    version: int = 1
    events: list[TerritoryDefined] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def define(cls, code: str, name: str, communes: list[Commune]) -> Territory:
        if not TERRITORY_CODE.match(code):
            raise RuleBroken("code", "expected epci:<SIREN>, dep:<code> or custom:<slug>")
        if not communes:
            raise RuleBroken("communes", "a territory needs at least one commune")
        kind: TerritoryKind = {"epci": "epci", "dep": "departement"}.get(code.split(":")[0], "custom")  # type: ignore[assignment]
        departements = {c.departement for c in communes}
        territory = cls(
            code=code,
            kind=kind,
            name=" ".join(name.split()) or code,
            communes=tuple(sorted(communes, key=lambda c: c.insee)),
            time_zone=time_zone_for(departements),
            holiday_calendar=holiday_calendar_for(departements),
        )
        territory.events.append(territory.defined())
        return territory

    def defined(self) -> TerritoryDefined:
        return TerritoryDefined(
            code=self.code,
            kind=self.kind,
            name=self.name,
            time_zone=self.time_zone,
            holiday_calendar=self.holiday_calendar,
            communes=[c.ref() for c in self.communes],
        )

    @property
    def insee_codes(self) -> frozenset[str]:
        return frozenset(c.insee for c in self.communes)
