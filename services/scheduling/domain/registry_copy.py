"""Scheduling's copy of the registry: the facts the planner plans from. Pure Python, no I/O.

Every object here is a frozen snapshot, written only by registry events (see
``service_layer/registry_copy.apply_registry_event``); scheduling never edits them itself.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

HalfDay = Literal["am", "pm"]
HALF_DAYS: tuple[HalfDay, ...] = ("am", "pm")
RecurrenceKind = Literal["permanence", "atelier"]


def _half_index(half: HalfDay) -> int:
    return HALF_DAYS.index(half)


def _occurs_on(day: dt.date, weekday: int, every_weeks: int, from_date: dt.date | None) -> bool:
    """Whether something on ``weekday`` every ``every_weeks`` weeks from ``from_date`` happens on ``day``."""
    if day.weekday() != weekday:
        return False
    if from_date is None:
        first = dt.date.min + dt.timedelta(days=weekday)  # 0001-01-01 is a Monday
    else:
        first = from_date + dt.timedelta(days=(weekday - from_date.weekday()) % 7)
    if day < first:
        return False
    return ((day - first).days // 7) % every_weeks == 0


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    population: int
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Territory:
    """An EPCI, a département or a custom set of communes, with its local time and holidays."""

    code: str
    kind: str
    name: str
    time_zone: str
    holiday_calendar: str
    communes: tuple[Commune, ...] = ()

    def covers(self, insee: str) -> bool:
        return any(commune.insee == insee for commune in self.communes)


@dataclass(frozen=True)
class Structure:
    """A conseiller's employer or home structure (EPN, médiathèque, France Services…)."""

    id: uuid.UUID
    name: str
    kind: str
    commune: str
    latitude: float | None
    longitude: float | None
    archived: bool = False


@dataclass(frozen=True, kw_only=True)
class Recurrence:
    """A coordinator's standing request at a lieu: a ``kind`` on ``weekday`` (0 is Monday) from
    ``start`` to ``end``, local time of the lieu, every ``every_weeks`` weeks (1 to 4) counted from
    ``from_date``, as an ``AvailabilitySlot`` (none before it; without it, weekly and always running).

    Each occurrence is to be held by exactly one conseiller, who has ``skill`` if one is given;
    an atelier has ``seats`` places, and ``needs_computers`` the lieu's computers (the registry
    checked that the slot lies in the lieu's weekly hours, ``seats`` within its capacity, and
    computers only where it has them).
    """

    id: uuid.UUID
    weekday: int
    start: dt.time
    end: dt.time
    every_weeks: int = 1
    from_date: dt.date | None = None
    kind: RecurrenceKind
    skill: str | None = None
    seats: int = 0
    needs_computers: bool = False

    def occurs_on(self, day: dt.date) -> bool:
        return _occurs_on(day, self.weekday, self.every_weeks, self.from_date)


@dataclass(frozen=True)
class Lieu:
    """A place where permanences and ateliers can be held."""

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
    """OSM ``opening_hours`` syntax, in the local time of the lieu's territory."""
    closed: bool = False
    recurrences: tuple[Recurrence, ...] = ()
    """What must be held there regularly, each occurrence by one conseiller."""


@dataclass(frozen=True)
class AvailabilitySlot:
    """A recurring half-day a conseiller works: ``weekday`` 0 is Monday.

    The recurrence starts on ``from_date`` (the registry's contract puts it on ``weekday``; the
    first such weekday on or after it is taken all the same) and repeats every ``every_weeks``
    weeks ("every other Saturday" is ``every_weeks=2``). Without ``from_date`` (only allowed
    weekly) it has always been running.
    """

    weekday: int
    half: HalfDay
    every_weeks: int = 1
    from_date: dt.date | None = None

    def occurs_on(self, day: dt.date) -> bool:
        return _occurs_on(day, self.weekday, self.every_weeks, self.from_date)


@dataclass(frozen=True)
class Absence:
    """A conseiller away from ``start_date``'s ``start_half`` to ``end_date``'s ``end_half``, both included."""

    id: uuid.UUID
    conseiller_id: uuid.UUID
    start_date: dt.date
    start_half: HalfDay
    end_date: dt.date
    end_half: HalfDay
    kind: str

    def covers(self, day: dt.date, half: HalfDay) -> bool:
        moment = (day, _half_index(half))
        return (self.start_date, _half_index(self.start_half)) <= moment <= (self.end_date, _half_index(self.end_half))


@dataclass(frozen=True)
class Conseiller:
    """What the planner knows of a conseiller (no personal contact data: that stays in the registry)."""

    id: uuid.UUID
    name: str
    employer_structure_id: uuid.UUID
    home_lieu_id: uuid.UUID
    weekly_hours: float
    availability: tuple[AvailabilitySlot, ...]
    skills: tuple[str, ...]
    travel_mode: str
    max_travel_minutes_per_day: int
    territories: tuple[str, ...]
    archived: bool = False

    def works_in(self, territory: str) -> bool:
        return territory in self.territories

    def is_available(self, day: dt.date, half: HalfDay, absences: Iterable[Absence] = ()) -> bool:
        """Whether this conseiller can be planned on ``day``'s ``half``, given their absences."""
        if self.archived:
            return False
        if not any(slot.half == half and slot.occurs_on(day) for slot in self.availability):
            return False
        return not any(a.conseiller_id == self.id and a.covers(day, half) for a in absences)


@dataclass(frozen=True)
class Demand:
    """Expected weekly hours of help in a commune."""

    commune: str
    individual_hours: float
    atelier_hours: float
    overridden: bool
