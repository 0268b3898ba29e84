"""Structures (who employs and hosts) and lieux (where a permanence or atelier can be held)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, get_args

from services.registry.domain.errors import Conflict, RuleBroken
from services.registry.domain.geography import Commune, check_insee
from services.registry.domain.recurrences import Recurrence, parse_recurrences
from shared.events import (
    Event,
    LieuChanged,
    LieuClosed,
    LieuKind,
    LieuOpened,
    StructureKind,
    StructureRegistered,
    StructureUpdated,
)
from shared.opening_hours import InvalidOpeningHours, OpeningHours

STRUCTURE_KINDS: tuple[str, ...] = get_args(StructureKind)
LIEU_KINDS: tuple[str, ...] = get_args(LieuKind)
MAX_CAPACITY = 500


def _name(value: str, field: str = "name") -> str:
    name = " ".join(value.split())
    if not name:
        raise RuleBroken(field, "must not be blank")
    if len(name) > 200:
        raise RuleBroken(field, "at most 200 characters")
    return name


def _location(latitude: float | None, longitude: float | None) -> tuple[float | None, float | None]:
    if (latitude is None) != (longitude is None):
        raise RuleBroken("latitude", "give both latitude and longitude, or neither")
    if latitude is not None and not -90 <= latitude <= 90:
        raise RuleBroken("latitude", "must be between -90 and 90")
    if longitude is not None and not -180 <= longitude <= 180:
        raise RuleBroken("longitude", "must be between -180 and 180")
    return latitude, longitude


def check_version(current: int, expected: int) -> None:
    if current != expected:
        raise Conflict(f"version {expected} is stale: the record is at version {current}; read it again")


@dataclass
class Structure:
    """An EPN, a médiathèque, a France Services, a CCAS…: employs conseillers, hosts lieux."""

    id: uuid.UUID
    name: str
    kind: str
    commune: str
    address: str
    latitude: float | None
    longitude: float | None
    siret: str | None = None
    archived: bool = False
    version: int = 1
    events: list[Event] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def register(cls, id: uuid.UUID, **data: Any) -> Structure:
        structure = cls(id=id, **_structure_fields(data))
        structure.events.append(StructureRegistered(**structure._snapshot()))
        return structure

    def update(self, version: int, **changes: Any) -> None:
        check_version(self.version, version)
        current = {
            k: getattr(self, k) for k in ("name", "kind", "commune", "address", "latitude", "longitude", "siret")
        }
        for key, value in _structure_fields({**current, **changes}).items():
            setattr(self, key, value)
        self._changed()

    def archive(self, version: int) -> None:
        check_version(self.version, version)
        self.archived = True
        self._changed()

    def _changed(self) -> None:
        self.version += 1
        self.events.append(StructureUpdated(**self._snapshot()))

    def _snapshot(self) -> dict[str, Any]:
        return {
            "structure_id": self.id,
            "name": self.name,
            "kind": self.kind,
            "commune": self.commune,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "archived": self.archived,
        }


def _structure_fields(data: dict[str, Any]) -> dict[str, Any]:
    if data["kind"] not in STRUCTURE_KINDS:
        raise RuleBroken("kind", f"one of {', '.join(STRUCTURE_KINDS)}")
    siret = data.get("siret")
    if siret is not None and not (len(siret) == 14 and siret.isdigit()):
        raise RuleBroken("siret", "14 digits")
    latitude, longitude = _location(data.get("latitude"), data.get("longitude"))
    return {
        "name": _name(data["name"]),
        "kind": data["kind"],
        "commune": check_insee(data["commune"]),
        "address": " ".join(str(data.get("address") or "").split()),
        "latitude": latitude,
        "longitude": longitude,
        "siret": siret,
    }


@dataclass
class Lieu:
    """A place where a permanence or an atelier can be held, with its hours and its room."""

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
    opening_hours: OpeningHours
    recurrences: tuple[Recurrence, ...] = ()
    """What a coordinator wants held there regularly (see ``recurrences``)."""
    external_id: str | None = None
    """The lieu's id in the standard de la médiation numérique, when imported from it."""
    closed: bool = False
    version: int = 1
    events: list[Event] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def open(cls, id: uuid.UUID, **data: Any) -> Lieu:
        lieu = cls(id=id, **_lieu_fields(data))
        lieu.events.append(LieuOpened(**lieu._snapshot()))
        return lieu

    @classmethod
    def at_town_hall(cls, id: uuid.UUID, commune: Commune, capacity: int = 10) -> Lieu:
        """A commune's town hall as a lieu, in one action, with its opening hours from the data."""
        location = commune.location
        if location is None:
            raise RuleBroken("commune", f"{commune.name} has no known location: give one")
        try:
            hours = OpeningHours.from_mairie_horaires(commune.mairie_opening_hours or "")
        except InvalidOpeningHours as exc:
            raise RuleBroken("opening_hours", f"town-hall hours unusable: {exc}") from exc
        return cls.open(
            id,
            name=f"Mairie de {commune.name}",
            kind="mairie",
            structure_id=None,
            commune=commune.insee,
            address=commune.mairie_address or "",
            latitude=location[0],
            longitude=location[1],
            capacity=capacity,
            has_computers=False,
            accessible=True,
            opening_hours=hours,
        )

    def change(self, version: int, **changes: Any) -> None:
        check_version(self.version, version)
        if self.closed:
            raise Conflict("this lieu is closed")
        keys = (
            "name", "kind", "structure_id", "commune", "address", "latitude", "longitude",
            "capacity", "has_computers", "accessible", "opening_hours", "recurrences", "external_id",
        )  # fmt: skip
        updated = _lieu_fields({**{k: getattr(self, k) for k in keys}, **changes})
        if all(getattr(self, k) == v for k, v in updated.items()):
            return
        for key, value in updated.items():
            setattr(self, key, value)
        self.version += 1
        self.events.append(LieuChanged(**self._snapshot()))

    def close(self, version: int) -> None:
        check_version(self.version, version)
        if self.closed:
            return
        self.closed = True
        self.version += 1
        self.events.append(LieuClosed(lieu_id=self.id))

    def _snapshot(self) -> dict[str, Any]:
        return {
            "lieu_id": self.id,
            "name": self.name,
            "kind": self.kind,
            "structure_id": self.structure_id,
            "commune": self.commune,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "capacity": self.capacity,
            "has_computers": self.has_computers,
            "accessible": self.accessible,
            "opening_hours": self.opening_hours.to_osm(),
            "recurrences": [r.snapshot() for r in self.recurrences],
        }


def _lieu_fields(data: dict[str, Any]) -> dict[str, Any]:
    if data["kind"] not in LIEU_KINDS:
        raise RuleBroken("kind", f"one of {', '.join(LIEU_KINDS)}")
    latitude, longitude = _location(data.get("latitude"), data.get("longitude"))
    if latitude is None or longitude is None:
        raise RuleBroken("latitude", "a lieu needs a location")
    capacity = data["capacity"]
    if not 0 <= capacity <= MAX_CAPACITY:
        raise RuleBroken("capacity", f"between 0 and {MAX_CAPACITY} seats")
    hours = data["opening_hours"]
    if isinstance(hours, str):
        try:
            hours = OpeningHours.parse(hours)
        except InvalidOpeningHours as exc:
            raise RuleBroken("opening_hours", str(exc)) from exc
    has_computers = bool(data["has_computers"])
    recurrences = parse_recurrences(
        data.get("recurrences") or (), hours=hours, capacity=capacity, has_computers=has_computers
    )
    return {
        "name": _name(data["name"]),
        "kind": data["kind"],
        "structure_id": data.get("structure_id"),
        "commune": check_insee(data["commune"]),
        "address": " ".join(str(data.get("address") or "").split()),
        "latitude": latitude,
        "longitude": longitude,
        "capacity": capacity,
        "has_computers": has_computers,
        "accessible": bool(data["accessible"]),
        "opening_hours": hours,
        "recurrences": recurrences,
        "external_id": data.get("external_id"),
    }
