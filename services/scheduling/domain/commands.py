import datetime as dt
import uuid
from dataclasses import dataclass, field

from services.scheduling.domain.model import Kind


@dataclass(frozen=True)
class PermanenceRequest:
    conseiller_id: uuid.UUID
    commune: str
    lieu: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: Kind = "permanence"


@dataclass(frozen=True)
class DraftPlan:
    territory: str
    week_start: dt.date
    time_zone: str
    permanences: list[PermanenceRequest]
    plan_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class PublishPlan:
    plan_id: uuid.UUID


@dataclass(frozen=True)
class MovePermanence:
    """A coordinator moves a permanence of a draft by hand."""

    plan_id: uuid.UUID
    permanence_id: uuid.UUID
    conseiller_id: uuid.UUID
    lieu_id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
