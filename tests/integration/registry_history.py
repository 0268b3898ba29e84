"""A realistic registry history for scheduling's copy (the Perche in the Orne, the south of La Réunion):
its events step by step, and what the copy must hold after each."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.scheduling.adapters import orm
from services.scheduling.domain.registry_copy import AvailabilitySlot as Slot
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from shared.db import session_factory
from shared.events import (
    AbsenceDeclared,
    AbsenceWithdrawn,
    AvailabilitySlot,
    CommuneRef,
    ConseillerRegistered,
    ConseillerUpdated,
    DemandChanged,
    Event,
    LieuChanged,
    LieuClosed,
    LieuOpened,
    StructureRegistered,
    StructureUpdated,
    TerritoryDefined,
)

MONDAY = dt.date(2026, 11, 30)

# --- a realistic registry: the Perche (Orne) and the south of La Réunion ------------------------

PERCHE = "epci:200036069"
SUD = "epci:249740085"
MORTAGNE = CommuneRef(insee="61293", name="Mortagne-au-Perche", population=3818, latitude=48.52074, longitude=0.5608)
PERVENCHERES = CommuneRef(insee="61327", name="Pervenchères", population=344, latitude=48.44403, longitude=0.4115)
BAZOCHES = CommuneRef(insee="61029", name="Bazoches-sur-Hoëne", population=861, latitude=48.55091, longitude=0.47032)
CHAPELLE = CommuneRef(
    insee="61097", name="La Chapelle-Montligeon", population=520, latitude=48.48546, longitude=0.66001
)
LE_TAMPON = CommuneRef(insee="97422", name="Le Tampon", population=78629, latitude=-21.22313, longitude=55.55858)
SAINT_JOSEPH = CommuneRef(insee="97412", name="Saint-Joseph", population=37644)  # no location: real data has holes

EPN_STRUCTURE, EPN, SALLE, BAZOCHES_SALLE, RELAIS = (uuid.uuid4() for _ in range(5))
CAMILLE, ANA, JULES = (uuid.uuid4() for _ in range(3))
FORMATION, CONGE = uuid.uuid4(), uuid.uuid4()


def territory(code: str, name: str, zone: str, calendar: str, *communes: CommuneRef) -> TerritoryDefined:
    kind = "epci" if code.startswith("epci:") else "custom"
    return TerritoryDefined(
        code=code, kind=kind, name=name, time_zone=zone, holiday_calendar=calendar, communes=list(communes)
    )


def lieu(event_type: type[LieuOpened] | type[LieuChanged], lieu_id: uuid.UUID, /, **fields: Any) -> Event:
    defaults: dict[str, Any] = {
        "kind": "salle_communale",
        "structure_id": None,
        "capacity": 12,
        "has_computers": False,
        "accessible": True,
        "opening_hours": "Tu 09:00-12:00",
    }
    return event_type(lieu_id=lieu_id, **{**defaults, **fields})


def conseiller(
    event_type: type[ConseillerRegistered] | type[ConseillerUpdated], conseiller_id: uuid.UUID, /, **fields: Any
) -> Event:
    defaults: dict[str, Any] = {
        "employer_structure_id": EPN_STRUCTURE,
        "home_lieu_id": EPN,
        "weekly_hours": 35,
        "availability": [AvailabilitySlot(weekday=0, half="pm"), AvailabilitySlot(weekday=1, half="am")],
        "skills": ["administratif"],
        "travel_mode": "car",
        "max_travel_minutes_per_day": 90,
        "territories": [PERCHE],
    }
    return event_type(conseiller_id=conseiller_id, **{**defaults, **fields})


CAMILLE_AVAILABILITY = [
    AvailabilitySlot(weekday=0, half="pm"),
    AvailabilitySlot(weekday=1, half="am"),
    AvailabilitySlot(weekday=4, half="pm"),
    AvailabilitySlot(weekday=5, half="am", every_weeks=2, from_date=MONDAY + dt.timedelta(days=5)),
]

# The registry's history, in the order it happened; each step ends with what the copy must then hold.
PERCHE_FIRST = territory(
    PERCHE, "CC du Pays de Mortagne au Perche", "Europe/Paris", "FR", MORTAGNE, PERVENCHERES, BAZOCHES
)
PERCHE_NOW = territory(
    PERCHE, "CC du Pays de Mortagne au Perche", "Europe/Paris", "FR", MORTAGNE, PERVENCHERES, CHAPELLE
)
SUD_DEFINED = territory(SUD, "CA du Sud", "Indian/Reunion", "FR-974", LE_TAMPON, SAINT_JOSEPH)
EPN_REGISTERED = StructureRegistered(
    structure_id=EPN_STRUCTURE, name="EPN de Mortagne", kind="epn", commune="61293", latitude=48.52, longitude=0.547
)
EPN_RENAMED = StructureUpdated(**{**EPN_REGISTERED.model_dump(), "name": "Espace numérique du Perche"})
LIEUX_OPENED = [
    lieu(
        LieuOpened,
        EPN,
        name="EPN",
        kind="structure",
        structure_id=EPN_STRUCTURE,
        commune="61293",
        latitude=48.5202,
        longitude=0.5451,
        has_computers=True,
        opening_hours="Mo-Fr 09:00-12:00,14:00-17:00",
    ),
    lieu(LieuOpened, SALLE, name="Salle des fêtes", commune="61327", latitude=48.4384, longitude=0.4255),
    lieu(
        LieuOpened,
        BAZOCHES_SALLE,
        name="Mairie de Bazoches",
        kind="mairie",
        commune="61029",
        latitude=48.5509,
        longitude=0.4703,
    ),
    lieu(
        LieuOpened,
        RELAIS,
        name="Relais solidarité",
        kind="partenaire",
        commune="97422",
        latitude=-21.2786,
        longitude=55.5149,
        capacity=8,
    ),
]
SALLE_CHANGED = lieu(
    LieuChanged,
    SALLE,
    name="Salle des fêtes",
    commune="61327",
    latitude=48.4384,
    longitude=0.4255,
    capacity=20,
    opening_hours="Tu,Th 09:30-12:30; PH off",
)
CONSEILLERS_REGISTERED = [
    conseiller(ConseillerRegistered, CAMILLE, name="Camille Lefèvre"),
    conseiller(
        ConseillerRegistered,
        ANA,
        name="Ana Payet",
        territories=[SUD],
        home_lieu_id=RELAIS,
        availability=[AvailabilitySlot(weekday=d, half=h) for d in range(5) for h in ("am", "pm")],
    ),
    conseiller(ConseillerRegistered, JULES, name="Jules Martin", weekly_hours=20),
]
CONSEILLERS_UPDATED = [
    conseiller(
        ConseillerUpdated,
        CAMILLE,
        name="Camille Lefèvre",
        weekly_hours=28,
        availability=CAMILLE_AVAILABILITY,
        skills=["administratif", "smartphone"],
        territories=[PERCHE, "dep:61"],
        travel_mode="public_transport",
    ),
    conseiller(ConseillerUpdated, JULES, name="Jules Martin", weekly_hours=20, archived=True),
]
ABSENCES = [
    AbsenceDeclared(
        absence_id=FORMATION,
        conseiller_id=CAMILLE,
        start_date=MONDAY,
        start_half="pm",
        end_date=MONDAY + dt.timedelta(days=1),
        end_half="am",
        kind="formation",
    ),
    AbsenceDeclared(
        absence_id=CONGE,
        conseiller_id=CAMILLE,
        start_date=MONDAY + dt.timedelta(days=14),
        start_half="am",
        end_date=MONDAY + dt.timedelta(days=18),
        end_half="pm",
        kind="conge",
    ),
]
DEMAND = [
    DemandChanged(commune="61293", individual_hours=6.5, atelier_hours=2, overridden=False),
    DemandChanged(commune="61293", individual_hours=10, atelier_hours=4, overridden=True),
    DemandChanged(commune="61327", individual_hours=1.5, atelier_hours=0, overridden=False),
]


async def read(engine: AsyncEngine, query: Callable[[SchedulingUnitOfWork], Awaitable[Any]]) -> Any:
    async with SchedulingUnitOfWork(session_factory(engine)) as uow:
        return await query(uow)


async def communes_of(engine: AsyncEngine, code: str) -> list[str]:
    found = await read(engine, lambda uow: uow.territories.get(code))
    return [c.insee for c in found.communes]


async def after_territories(engine: AsyncEngine) -> None:
    assert await communes_of(engine, PERCHE) == ["61029", "61293", "61327"]
    await sud_defined(engine)


async def sud_defined(engine: AsyncEngine) -> None:
    sud = await read(engine, lambda uow: uow.territories.get(SUD))
    assert (sud.name, sud.time_zone, sud.holiday_calendar) == ("CA du Sud", "Indian/Reunion", "FR-974")
    assert [(c.insee, c.latitude) for c in sud.communes] == [("97412", None), ("97422", -21.22313)]


async def after_structure(engine: AsyncEngine) -> None:
    epn = await read(engine, lambda uow: uow.structures.get(EPN_STRUCTURE))
    assert (epn.name, epn.kind, epn.commune, epn.archived) == ("Espace numérique du Perche", "epn", "61293", False)


async def after_lieux_opened(engine: AsyncEngine) -> None:
    salle = await read(engine, lambda uow: uow.lieux.get(SALLE))
    assert (salle.capacity, salle.opening_hours, salle.closed) == (12, "Tu 09:00-12:00", False)
    await epn_opened(engine)


async def epn_opened(engine: AsyncEngine) -> None:
    epn = await read(engine, lambda uow: uow.lieux.get(EPN))
    assert (epn.structure_id, epn.has_computers, epn.kind) == (EPN_STRUCTURE, True, "structure")


async def after_lieu_changed(engine: AsyncEngine) -> None:
    salle = await read(engine, lambda uow: uow.lieux.get(SALLE))
    assert (salle.capacity, salle.opening_hours, salle.closed) == (20, "Tu,Th 09:30-12:30; PH off", False)


async def after_lieu_closed(engine: AsyncEngine) -> None:
    salle = await read(engine, lambda uow: uow.lieux.get(SALLE))
    assert salle.closed
    assert salle.capacity == 20  # the last snapshot stays, marked closed


async def after_conseillers_registered(engine: AsyncEngine) -> None:
    found = await read(engine, lambda uow: uow.conseillers.by_ids([CAMILLE, ANA, JULES]))
    assert {c.name: c.weekly_hours for c in found.values()} == {
        "Camille Lefèvre": 35,
        "Ana Payet": 35,
        "Jules Martin": 20,
    }
    await ana_registered(engine)


async def ana_registered(engine: AsyncEngine) -> None:
    ana = (await read(engine, lambda uow: uow.conseillers.by_ids([ANA])))[ANA]
    assert (ana.territories, ana.home_lieu_id, ana.archived) == ((SUD,), RELAIS, False)
    assert len(ana.availability) == 10


async def after_conseillers_updated(engine: AsyncEngine) -> None:
    found = await read(engine, lambda uow: uow.conseillers.by_ids([CAMILLE, JULES]))
    camille = found[CAMILLE]
    assert (camille.weekly_hours, camille.travel_mode) == (28, "public_transport")
    assert camille.skills == ("administratif", "smartphone")
    assert camille.territories == (PERCHE, "dep:61")
    assert camille.availability == (
        Slot(0, "pm"),
        Slot(1, "am"),
        Slot(4, "pm"),
        Slot(5, "am", every_weeks=2, from_date=MONDAY + dt.timedelta(days=5)),
    )
    assert found[JULES].archived


async def absences_of_camille(engine: AsyncEngine) -> list[Any]:
    window = (MONDAY, MONDAY + dt.timedelta(days=60))
    return await read(engine, lambda uow: uow.absences.of([CAMILLE], overlapping=window))


async def after_absences_declared(engine: AsyncEngine) -> None:
    assert [(a.id, a.kind) for a in await absences_of_camille(engine)] == [(FORMATION, "formation"), (CONGE, "conge")]


async def after_absence_withdrawn(engine: AsyncEngine) -> None:
    [formation] = await absences_of_camille(engine)
    assert (formation.id, formation.start_half, formation.end_date) == (FORMATION, "pm", MONDAY + dt.timedelta(days=1))
    camille = (await read(engine, lambda uow: uow.conseillers.by_ids([CAMILLE])))[CAMILLE]
    assert not camille.is_available(MONDAY, "pm", [formation])
    assert camille.is_available(MONDAY + dt.timedelta(days=7), "pm", [formation])


async def after_demand(engine: AsyncEngine) -> None:
    demand = await read(engine, lambda uow: uow.demand.of(["61293", "61327", "61029"]))
    assert {k: (d.individual_hours, d.atelier_hours, d.overridden) for k, d in demand.items()} == {
        "61293": (10, 4, True),
        "61327": (1.5, 0, False),
    }


async def after_territory_redefined(engine: AsyncEngine) -> None:
    assert await communes_of(engine, PERCHE) == ["61097", "61293", "61327"]


@dataclass(frozen=True)
class Step:
    events: Sequence[Event]
    then: Callable[[AsyncEngine], Awaitable[None]]


HISTORY = [
    Step([PERCHE_FIRST, SUD_DEFINED], after_territories),
    Step([EPN_REGISTERED, EPN_RENAMED], after_structure),
    Step(LIEUX_OPENED, after_lieux_opened),
    Step([SALLE_CHANGED], after_lieu_changed),
    Step([LieuClosed(lieu_id=SALLE)], after_lieu_closed),
    Step(CONSEILLERS_REGISTERED, after_conseillers_registered),
    Step(CONSEILLERS_UPDATED, after_conseillers_updated),
    Step(ABSENCES, after_absences_declared),
    Step([AbsenceWithdrawn(absence_id=CONGE, conseiller_id=CAMILLE)], after_absence_withdrawn),
    Step(DEMAND, after_demand),
    Step([PERCHE_NOW], after_territory_redefined),
]


async def assert_full_copy(engine: AsyncEngine) -> None:
    """What the copy holds once the whole history is applied."""
    await after_territory_redefined(engine)
    await sud_defined(engine)
    await after_structure(engine)
    await epn_opened(engine)
    await after_lieu_closed(engine)
    await ana_registered(engine)
    await after_conseillers_updated(engine)
    await after_absence_withdrawn(engine)
    await after_demand(engine)


COPY_TABLES = [
    orm.territories,
    orm.territory_communes,
    orm.structures,
    orm.lieux,
    orm.conseillers,
    orm.absences,
    orm.demand,
]


async def dump(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the copy, in primary-key order."""
    async with engine.connect() as conn:
        return {
            table.name: [tuple(row) for row in await conn.execute(select(table).order_by(*table.primary_key.columns))]
            for table in COPY_TABLES
        }
