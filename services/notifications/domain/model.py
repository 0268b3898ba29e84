"""Notifications domain: pure Python, no I/O."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from shared.events import PlannedPermanence


@dataclass(frozen=True)
class Permanence:
    """A published permanence usagers can be booked into (notifications' local copy)."""

    id: uuid.UUID
    plan_id: uuid.UUID
    conseiller_id: uuid.UUID
    commune: str
    lieu: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    time_zone: str

    @classmethod
    def published(cls, plan_id: uuid.UUID, planned: PlannedPermanence) -> Permanence:
        return cls(
            id=planned.permanence_id,
            plan_id=plan_id,
            conseiller_id=planned.conseiller_id,
            commune=planned.commune,
            lieu=planned.lieu,
            kind=planned.kind,
            starts_at=planned.starts_at,
            ends_at=planned.ends_at,
            time_zone=planned.time_zone,
        )

    def local_start(self) -> dt.datetime:
        """When usagers must come, in the territory's own time zone."""
        return self.starts_at.astimezone(ZoneInfo(self.time_zone))
