"""Scheduling domain: plans and their permanences; pure Python, no I/O."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.scheduling.domain.registry_copy import Conseiller
from shared.events import Event, PlannedPermanence, PlanPublished


class PlanError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


Kind = Literal["permanence", "atelier"]


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


@dataclass(frozen=True)
class Permanence:
    """A conseiller at a lieu for a block of time on one date."""

    id: uuid.UUID
    conseiller_id: uuid.UUID
    commune: str
    lieu: str
    kind: Kind
    starts_at: dt.datetime
    ends_at: dt.datetime

    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


@dataclass
class Plan:
    """The rounds of a territory for one week."""

    id: uuid.UUID
    territory: str
    week_start: dt.date
    time_zone: str
    permanences: list[Permanence]
    status: PlanStatus = PlanStatus.DRAFT
    version: int = 1
    figures: dict[str, Any] | None = None
    """What the solve that made the plan reports (status, gap, travel, coverage…); None if made by hand."""
    events: list[Event] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def draft(
        cls,
        id: uuid.UUID,
        territory: str,
        week_start: dt.date,
        time_zone: str,
        permanences: list[Permanence],
        conseillers: Mapping[uuid.UUID, Conseiller],
        figures: dict[str, Any] | None = None,
    ) -> Plan:
        """A new draft; ``conseillers`` is the local copy of (at least) the conseillers it names."""
        try:
            zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PlanError("time_zone", f"unknown time zone {time_zone!r}") from exc
        if week_start.weekday() != 0:
            raise PlanError("week_start", "must be a Monday")
        week_end = week_start + dt.timedelta(days=7)
        for i, p in enumerate(permanences):
            where = f"permanences.{i}"
            conseiller = conseillers.get(p.conseiller_id)
            if conseiller is None:
                raise PlanError(f"{where}.conseiller_id", "unknown conseiller (not registered yet?)")
            if conseiller.archived:
                raise PlanError(f"{where}.conseiller_id", "this conseiller is archived")
            if p.starts_at.tzinfo is None or p.ends_at.tzinfo is None:
                raise PlanError(f"{where}.starts_at", "times must carry a UTC offset")
            if p.ends_at <= p.starts_at:
                raise PlanError(f"{where}.ends_at", "must be after starts_at")
            local_day = p.starts_at.astimezone(zone).date()
            if not week_start <= local_day < week_end:
                raise PlanError(f"{where}.starts_at", f"not in the week of {week_start}")
        _refuse_overlaps(permanences)
        return cls(id, territory, week_start, time_zone, list(permanences), figures=figures)

    def publish(self) -> None:
        if self.status is PlanStatus.PUBLISHED:
            raise PlanError("status", "plan is already published")
        if not self.permanences:
            raise PlanError("permanences", "an empty plan cannot be published")
        self.status = PlanStatus.PUBLISHED
        self.version += 1
        self.events.append(
            PlanPublished(
                plan_id=self.id,
                territory=self.territory,
                week_start=self.week_start,
                permanences=[
                    PlannedPermanence(
                        permanence_id=p.id,
                        conseiller_id=p.conseiller_id,
                        commune=p.commune,
                        lieu=p.lieu,
                        kind=p.kind,
                        starts_at=p.starts_at,
                        ends_at=p.ends_at,
                        time_zone=self.time_zone,
                    )
                    for p in sorted(self.permanences, key=lambda p: p.starts_at)
                ],
            )
        )


def _refuse_overlaps(permanences: list[Permanence]) -> None:
    by_conseiller: dict[uuid.UUID, list[Permanence]] = {}
    for p in permanences:
        by_conseiller.setdefault(p.conseiller_id, []).append(p)
    for items in by_conseiller.values():
        items.sort(key=lambda p: p.starts_at)
        for before, after in pairwise(items):
            if after.starts_at < before.ends_at:
                raise PlanError(
                    "permanences", f"conseiller {before.conseiller_id} is in two places at {after.starts_at}"
                )
