"""Rows of scheduling's copy of the registry to its domain objects, and back (JSON columns included)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import RowMapping

from services.scheduling.domain.registry_copy import Absence, AvailabilitySlot, Conseiller, Lieu, Recurrence


def lieu_values(lieu: Lieu) -> dict[str, Any]:
    return {
        "lieu_id": lieu.id,
        "name": lieu.name,
        "kind": lieu.kind,
        "structure_id": lieu.structure_id,
        "commune": lieu.commune,
        "latitude": lieu.latitude,
        "longitude": lieu.longitude,
        "capacity": lieu.capacity,
        "has_computers": lieu.has_computers,
        "accessible": lieu.accessible,
        "opening_hours": lieu.opening_hours,
        "closed": lieu.closed,
        "recurrences": [recurrence_json(r) for r in lieu.recurrences],
    }


def lieu_from_row(m: RowMapping) -> Lieu:
    return Lieu(
        id=m["lieu_id"],
        name=m["name"],
        kind=m["kind"],
        structure_id=m["structure_id"],
        commune=m["commune"],
        latitude=m["latitude"],
        longitude=m["longitude"],
        capacity=m["capacity"],
        has_computers=m["has_computers"],
        accessible=m["accessible"],
        opening_hours=m["opening_hours"],
        closed=m["closed"],
        recurrences=tuple(recurrence_from_json(item) for item in m["recurrences"]),
    )


def recurrence_json(r: Recurrence) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "weekday": r.weekday,
        "start": r.start.isoformat("minutes"),
        "end": r.end.isoformat("minutes"),
        "every_weeks": r.every_weeks,
        "from_date": r.from_date.isoformat() if r.from_date else None,
        "kind": r.kind,
        "skill": r.skill,
        "seats": r.seats,
        "needs_computers": r.needs_computers,
    }


def recurrence_from_json(item: dict[str, Any]) -> Recurrence:
    from_date = item["from_date"]
    return Recurrence(
        id=uuid.UUID(item["id"]),
        weekday=item["weekday"],
        start=dt.time.fromisoformat(item["start"]),
        end=dt.time.fromisoformat(item["end"]),
        every_weeks=item["every_weeks"],
        from_date=dt.date.fromisoformat(from_date) if from_date else None,
        kind=item["kind"],
        skill=item["skill"],
        seats=item["seats"],
        needs_computers=item["needs_computers"],
    )


def slot_json(slot: AvailabilitySlot) -> dict[str, Any]:
    return {
        "weekday": slot.weekday,
        "half": slot.half,
        "every_weeks": slot.every_weeks,
        "from_date": slot.from_date.isoformat() if slot.from_date else None,
    }


def slot_from_json(item: dict[str, Any]) -> AvailabilitySlot:
    from_date = item.get("from_date")
    return AvailabilitySlot(
        weekday=item["weekday"],
        half=item["half"],
        every_weeks=item.get("every_weeks", 1),
        from_date=dt.date.fromisoformat(from_date) if from_date else None,
    )


def conseiller_from_row(m: RowMapping) -> Conseiller:
    return Conseiller(
        id=m["conseiller_id"],
        name=m["name"],
        employer_structure_id=m["employer_structure_id"],
        home_lieu_id=m["home_lieu_id"],
        weekly_hours=m["weekly_hours"],
        availability=tuple(slot_from_json(item) for item in m["availability"]),
        skills=tuple(m["skills"]),
        travel_mode=m["travel_mode"],
        max_travel_minutes_per_day=m["max_travel_minutes_per_day"],
        territories=tuple(m["territories"]),
        archived=m["archived"],
    )


def absence_from_row(m: RowMapping) -> Absence:
    return Absence(
        id=m["absence_id"],
        conseiller_id=m["conseiller_id"],
        start_date=m["start_date"],
        start_half=m["start_half"],
        end_date=m["end_date"],
        end_half=m["end_half"],
        kind=m["kind"],
    )
