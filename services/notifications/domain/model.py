"""Notifications domain: pure Python, no I/O."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from shared.events import PlannedPermanence

APPOINTMENT_LENGTH = dt.timedelta(minutes=30)
"""An individual permanence receives one usager per 30 minutes of its length."""


def capacity_of(kind: str, starts_at: dt.datetime, ends_at: dt.datetime, seats: int | None) -> int | None:
    """How many usagers can be booked into a permanence.

    - An atelier: its seats (the capacity of its lieu, sent by scheduling at publish); None when
      they are unknown (an atelier at a place outside the registry, an older event): not limited.
    - An individual permanence: one appointment per 30 minutes of its length, rounded down, at
      least one (a 3-hour permanence takes 6 usagers).
    """
    if kind == "atelier":
        return seats
    return max(1, (ends_at - starts_at) // APPOINTMENT_LENGTH)


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
    territory: str
    """The territory of the plan it was published in ("" for copies older than this field: admins only)."""
    capacity: int | None
    """How many usagers it takes (``capacity_of``); None: not limited."""
    commune_name: str = ""
    """The commune's name, shown to usagers ("" for copies of events older than this field: then only the lieu is)."""

    @classmethod
    def published(cls, plan_id: uuid.UUID, territory: str, planned: PlannedPermanence) -> Permanence:
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
            territory=territory,
            capacity=capacity_of(planned.kind, planned.starts_at, planned.ends_at, planned.seats),
            commune_name=planned.commune_name,
        )

    def has_room(self, booked: int) -> bool:
        """Whether one more usager fits, ``booked`` being taken already (the database applies the
        same rule atomically: see ``PermanenceRepository.take_seat``)."""
        return self.capacity is None or booked < self.capacity

    def has_started(self, now: dt.datetime) -> bool:
        return now >= self.starts_at

    def local_start(self) -> dt.datetime:
        """When usagers must come, in the territory's own time zone."""
        return self.starts_at.astimezone(ZoneInfo(self.time_zone))
