"""Conseillers numériques: who they are for planning, when they can work, when they are away."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, get_args

from pydantic import ValidationError

from services.registry.domain.errors import Conflict, NotFound, RuleBroken
from services.registry.domain.places import check_version
from services.registry.domain.skills import SKILL, SKILL_RULE, normalized
from shared.events import (
    AbsenceDeclared,
    AbsenceKind,
    AbsenceWithdrawn,
    AvailabilitySlot,
    ConseillerRegistered,
    ConseillerUpdated,
    Event,
    HalfDay,
    TravelMode,
)

TRAVEL_MODES: tuple[str, ...] = get_args(TravelMode)
ABSENCE_KINDS: tuple[str, ...] = get_args(AbsenceKind)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_WEEKLY_HOURS = 48.0  # the legal weekly maximum in France
MAX_TRAVEL_MINUTES = 8 * 60


@dataclass(frozen=True)
class Absence:
    """Away from ``start`` to ``end`` inclusive, at half-day precision ("am" then "pm")."""

    id: uuid.UUID
    start_date: dt.date
    start_half: HalfDay
    end_date: dt.date
    end_half: HalfDay
    kind: str

    @property
    def first(self) -> tuple[dt.date, int]:
        return self.start_date, 0 if self.start_half == "am" else 1

    @property
    def last(self) -> tuple[dt.date, int]:
        return self.end_date, 0 if self.end_half == "am" else 1

    def overlaps(self, other: Absence) -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass
class Conseiller:
    """A conseiller numérique, planned from a home lieu, employed by a structure."""

    id: uuid.UUID
    name: str
    email: str
    phone: str | None
    employer_structure_id: uuid.UUID
    home_lieu_id: uuid.UUID
    weekly_hours: float
    availability: tuple[AvailabilitySlot, ...]
    skills: tuple[str, ...]
    travel_mode: str
    max_travel_minutes_per_day: int
    territories: tuple[str, ...]
    absences: list[Absence] = field(default_factory=list)
    archived: bool = False
    version: int = 1
    events: list[Event] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def register(cls, id: uuid.UUID, **data: Any) -> Conseiller:
        conseiller = cls(id=id, **_conseiller_fields(data))
        conseiller.events.append(ConseillerRegistered(**conseiller._snapshot()))
        return conseiller

    def update(self, version: int, **changes: Any) -> None:
        check_version(self.version, version)
        if self.archived:
            raise Conflict("this conseiller is archived")
        current = {k: getattr(self, k) for k in _UPDATABLE}
        for key, value in _conseiller_fields({**current, **changes}).items():
            setattr(self, key, value)
        self._updated()

    def archive(self, version: int) -> None:
        check_version(self.version, version)
        self.archived = True
        self._updated()

    def declare_absence(
        self, absence_id: uuid.UUID, start: tuple[dt.date, HalfDay], end: tuple[dt.date, HalfDay], kind: str
    ) -> Absence:
        if kind not in ABSENCE_KINDS:
            raise RuleBroken("kind", f"one of {', '.join(ABSENCE_KINDS)}")
        absence = Absence(absence_id, start[0], start[1], end[0], end[1], kind)
        if absence.last < absence.first:
            raise RuleBroken("end_date", "the absence ends before it starts")
        if (absence.end_date - absence.start_date).days > 366:
            raise RuleBroken("end_date", "an absence of more than a year: archive the conseiller instead")
        clash = next((a for a in self.absences if a.overlaps(absence)), None)
        if clash is not None:
            raise Conflict(
                f"overlaps the absence from {clash.start_date} {clash.start_half} to {clash.end_date} {clash.end_half}"
            )
        self.absences.append(absence)
        self.version += 1
        self.events.append(
            AbsenceDeclared(
                absence_id=absence.id,
                conseiller_id=self.id,
                start_date=absence.start_date,
                start_half=absence.start_half,
                end_date=absence.end_date,
                end_half=absence.end_half,
                kind=absence.kind,
            )
        )
        return absence

    def withdraw_absence(self, absence_id: uuid.UUID) -> None:
        absence = next((a for a in self.absences if a.id == absence_id), None)
        if absence is None:
            raise NotFound(f"no absence {absence_id}")
        self.absences.remove(absence)
        self.version += 1
        self.events.append(AbsenceWithdrawn(absence_id=absence_id, conseiller_id=self.id))

    def _updated(self) -> None:
        self.version += 1
        self.events.append(ConseillerUpdated(**self._snapshot()))

    def _snapshot(self) -> dict[str, Any]:
        """What other services may know: no personal contact data."""
        return {
            "conseiller_id": self.id,
            "name": self.name,
            "employer_structure_id": self.employer_structure_id,
            "home_lieu_id": self.home_lieu_id,
            "weekly_hours": self.weekly_hours,
            "availability": list(self.availability),
            "skills": list(self.skills),
            "travel_mode": self.travel_mode,
            "max_travel_minutes_per_day": self.max_travel_minutes_per_day,
            "territories": list(self.territories),
            "archived": self.archived,
        }


_UPDATABLE = (
    "name", "email", "phone", "employer_structure_id", "home_lieu_id", "weekly_hours", "availability",
    "skills", "travel_mode", "max_travel_minutes_per_day", "territories",
)  # fmt: skip


def _conseiller_fields(data: dict[str, Any]) -> dict[str, Any]:
    name = " ".join(str(data["name"]).split())
    if not name:
        raise RuleBroken("name", "must not be blank")
    email = str(data["email"]).strip().lower()
    if not EMAIL.match(email):
        raise RuleBroken("email", "a professional e-mail address")
    weekly_hours = float(data["weekly_hours"])
    if not 0 < weekly_hours <= MAX_WEEKLY_HOURS:
        raise RuleBroken("weekly_hours", f"between 0 and {MAX_WEEKLY_HOURS:g}")
    if data["travel_mode"] not in TRAVEL_MODES:
        raise RuleBroken("travel_mode", f"one of {', '.join(TRAVEL_MODES)}")
    max_travel = int(data["max_travel_minutes_per_day"])
    if not 0 < max_travel <= MAX_TRAVEL_MINUTES:
        raise RuleBroken("max_travel_minutes_per_day", f"between 1 and {MAX_TRAVEL_MINUTES}")
    skills = tuple(sorted({normalized(s) for s in data["skills"]}))
    bad = [s for s in skills if not SKILL.match(s)]
    if bad:
        raise RuleBroken("skills", f"{SKILL_RULE}: not {bad[0]!r}")
    territories = tuple(sorted(set(data["territories"])))
    if not territories:
        raise RuleBroken("territories", "a conseiller serves at least one territory")
    return {
        "name": name,
        "email": email,
        "phone": data.get("phone"),
        "employer_structure_id": data["employer_structure_id"],
        "home_lieu_id": data["home_lieu_id"],
        "weekly_hours": weekly_hours,
        "availability": _availability(data["availability"]),
        "skills": skills,
        "travel_mode": data["travel_mode"],
        "max_travel_minutes_per_day": max_travel,
        "territories": territories,
    }


def _availability(slots: Any) -> tuple[AvailabilitySlot, ...]:
    try:
        parsed = tuple(s if isinstance(s, AvailabilitySlot) else AvailabilitySlot.model_validate(s) for s in slots)
    except ValidationError as exc:
        raise RuleBroken("availability", exc.errors()[0]["msg"]) from exc
    seen: set[tuple[int, str]] = set()
    for slot in parsed:
        key = (slot.weekday, slot.half)
        if key in seen:
            raise RuleBroken("availability", f"weekday {slot.weekday} {slot.half} is given twice")
        seen.add(key)
    return tuple(sorted(parsed, key=lambda s: (s.weekday, s.half)))
