"""What callers ask of notifications: one small dataclass per intent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from services.notifications.domain.contacts import Channel


@dataclass(frozen=True)
class RegisterUsager:
    name: str
    phone: str | None = field(repr=False)
    email: str | None = field(repr=False)
    preferred_channel: Channel
    consent: bool
    territory: str
    usager_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class Book:
    usager_id: uuid.UUID
    permanence_id: uuid.UUID
    booking_id: uuid.UUID = field(default_factory=uuid.uuid4)
