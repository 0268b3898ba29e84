"""What a coordinator asks the registry to do: one small dataclass per intent."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from shared.events import HalfDay


@dataclass(frozen=True)
class DefineTerritory:
    code: str
    name: str | None = None
    communes: tuple[str, ...] = ()
    """Only for custom territories; an EPCI or a département takes its communes from the data."""


@dataclass(frozen=True)
class RegisterStructure:
    data: dict[str, Any]
    structure_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class OpenLieu:
    data: dict[str, Any]
    lieu_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class OpenTownHall:
    commune: str
    capacity: int = 10
    lieu_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class RegisterConseiller:
    data: dict[str, Any]
    conseiller_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class Change:
    """Change some fields of a record read at ``version``."""

    id: uuid.UUID
    version: int
    changes: dict[str, Any]


@dataclass(frozen=True)
class DeclareAbsence:
    conseiller_id: uuid.UUID
    start: tuple[dt.date, HalfDay]
    end: tuple[dt.date, HalfDay]
    kind: str
    absence_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class SetDemand:
    commune: str
    individual_hours: float
    atelier_hours: float


@dataclass(frozen=True)
class CreateAccount:
    login: str
    role: str
    password: str = field(repr=False)
    name: str | None = None
    territories: tuple[str, ...] = ()
    conseiller_id: uuid.UUID | None = None
    account_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class ChangeAccount:
    """Only what is not None changes."""

    account_id: uuid.UUID
    name: str | None = None
    territories: tuple[str, ...] | None = None
    active: bool | None = None
    password: str | None = field(default=None, repr=False)
