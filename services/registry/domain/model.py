"""Registry domain: pure Python, no I/O."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from shared.events import ConseillerRegistered, Event

INSEE_CODE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
MAX_WEEKLY_HOURS = 48.0  # legal weekly maximum in France


class InvalidConseiller(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class Conseiller:
    """A conseiller numérique, who holds permanences from a home commune."""

    id: uuid.UUID
    name: str
    home_commune: str
    weekly_hours: float
    version: int = 1
    events: list[Event] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def register(cls, id: uuid.UUID, name: str, home_commune: str, weekly_hours: float) -> Conseiller:
        name = " ".join(name.split())
        if not name:
            raise InvalidConseiller("name", "must not be blank")
        if not INSEE_CODE.match(home_commune):
            raise InvalidConseiller("home_commune", f"{home_commune!r} is not an INSEE commune code")
        if not 0 < weekly_hours <= MAX_WEEKLY_HOURS:
            raise InvalidConseiller("weekly_hours", f"must be in (0, {MAX_WEEKLY_HOURS:g}]")
        conseiller = cls(id=id, name=name, home_commune=home_commune, weekly_hours=weekly_hours)
        conseiller.events.append(
            ConseillerRegistered(
                conseiller_id=id, name=name, home_commune=home_commune, weekly_hours=weekly_hours
            )
        )
        return conseiller
