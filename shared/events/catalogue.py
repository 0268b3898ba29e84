"""Every event of the system, with its subject and version, in one place."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events.envelope import Event

InseeCode = str  # validated where it enters (registry); events carry it as-is
INSEE_PATTERN = r"^(\d{5}|2[AB]\d{3})$"


class ConseillerRegistered(Event):
    subject = "registry.conseiller.registered.v1"

    conseiller_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    home_commune: InseeCode = Field(pattern=INSEE_PATTERN)
    weekly_hours: float = Field(gt=0, le=48)


class PlannedPermanence(BaseModel):
    """One permanence inside a published plan."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    permanence_id: uuid.UUID
    conseiller_id: uuid.UUID
    commune: InseeCode = Field(pattern=INSEE_PATTERN)
    lieu: str = Field(min_length=1, max_length=200)
    kind: Literal["permanence", "atelier"] = "permanence"
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    time_zone: str


class PlanPublished(Event):
    subject = "scheduling.plan.published.v1"

    plan_id: uuid.UUID
    territory: str = Field(min_length=1, max_length=100)
    week_start: dt.date
    permanences: list[PlannedPermanence]


CATALOGUE: dict[str, type[Event]] = {
    event_type.subject: event_type for event_type in (ConseillerRegistered, PlanPublished)
}
