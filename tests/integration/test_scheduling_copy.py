"""Scheduling's copy of the registry, fed by registry events over real NATS, on real SQLite and Postgres;
and the API routes that read it, behind JWT principals."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from faststream.nats import NatsBroker
from nats.js.errors import NotFoundError
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.scheduling.adapters import orm
from services.scheduling.bootstrap import MIGRATIONS, bootstrap
from services.scheduling.domain.registry_copy import AvailabilitySlot as Slot
from services.scheduling.entrypoints import consumers
from services.scheduling.service_layer.registry_copy import REGISTRY_CONSUMER, apply_registry_event
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from services.scheduling.settings import SchedulingSettings
from shared.auth import Role, issue_token
from shared.db import session_factory
from shared.events import (
    AbsenceDeclared,
    AbsenceWithdrawn,
    AvailabilitySlot,
    CommuneRef,
    ConseillerRegistered,
    ConseillerUpdated,
    DemandChanged,
    Envelope,
    Event,
    LieuChanged,
    LieuClosed,
    LieuOpened,
    PlanPublished,
    StructureRegistered,
    StructureUpdated,
    TerritoryDefined,
)
from shared.messaging import ConsumerPolicy
from shared.migrations import upgrade
from tests.integration.helpers import count, eventually

FAST = ConsumerPolicy(max_deliver=3, ack_wait_s=5, base_delay_s=0.05, max_delay_s=0.2)
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


# --- plumbing -------------------------------------------------------------------------------------


async def publish(nc, event: Event, *, envelope: Envelope | None = None, msg_id: str | None = None) -> int:
    """Publish as the registry's relay does (Nats-Msg-Id = event id); the stream sequence it got."""
    envelope = envelope or Envelope.wrap(event, producer="registry")
    ack = await nc.jetstream().publish(
        event.subject, envelope.to_bytes(), headers={"Nats-Msg-Id": msg_id or str(envelope.event_id)}
    )
    return int(ack.seq)


async def applied_up_to(nc, sequence: int) -> None:
    """Wait until scheduling's consumer has handled and acknowledged everything up to ``sequence``."""

    async def done() -> bool:
        try:
            info = await nc.jetstream().consumer_info("REGISTRY", REGISTRY_CONSUMER)
        except NotFoundError:
            return False
        return info.delivered.stream_seq >= sequence and info.num_ack_pending == 0 and info.num_pending == 0

    await eventually(done)


@pytest.fixture
async def engine(database) -> AsyncIterator[AsyncEngine]:
    engine = database.engine()
    await upgrade(engine, MIGRATIONS)
    yield engine
    await engine.dispose()


@pytest.fixture
async def start_copy(nats_url, nc) -> AsyncIterator[Callable[[AsyncEngine], Awaitable[NatsBroker]]]:
    """Starts scheduling's registry consumer, writing to the given database."""
    brokers: list[NatsBroker] = []

    async def start(engine: AsyncEngine) -> NatsBroker:
        broker = NatsBroker(nats_url)
        broker.include_router(consumers.router(lambda: SchedulingUnitOfWork(session_factory(engine)), FAST))
        await broker.start()
        brokers.append(broker)
        return broker

    yield start
    for broker in brokers:
        await broker.stop()


# --- the copy -------------------------------------------------------------------------------------


async def test_the_copy_follows_registry_events_as_they_happen(engine, nc, start_copy):
    await start_copy(engine)
    for step in HISTORY:
        for event in step.events:
            sequence = await publish(nc, event)
        await applied_up_to(nc, sequence)
        await step.then(engine)

    await assert_full_copy(engine)
    assert await count(engine, orm.inbox, orm.inbox.c.consumer == REGISTRY_CONSUMER) == sequence
    assert (await nc.jetstream().stream_info("DEADLETTER")).state.messages == 0


async def test_a_consumer_started_after_all_events_rebuilds_the_whole_copy(engine, other_database, nc, start_copy):
    """A new consumer replays the REGISTRY stream from its start; replaying again into an empty database
    (after deleting the durable consumer: how ops rebuild a copy) gives the same copy, row for row."""
    for step in HISTORY:
        for event in step.events:
            sequence = await publish(nc, event)

    broker = await start_copy(engine)
    await applied_up_to(nc, sequence)
    await assert_full_copy(engine)

    await broker.stop()
    await nc.jetstream().delete_consumer("REGISTRY", REGISTRY_CONSUMER)
    rebuilt = other_database.engine()
    await upgrade(rebuilt, MIGRATIONS)
    try:
        await start_copy(rebuilt)
        await applied_up_to(nc, sequence)
        assert await dump(rebuilt) == await dump(engine)
    finally:
        await rebuilt.dispose()


async def test_an_event_delivered_twice_is_applied_once(engine, nc, start_copy):
    """Past JetStream's de-duplication window an old event can come again: the inbox drops it, so an old
    snapshot does not overwrite a newer one and a withdrawn absence does not come back."""
    await start_copy(engine)
    opened = Envelope.wrap(LIEUX_OPENED[1], producer="registry")
    declared = Envelope.wrap(ABSENCES[1], producer="registry")
    await publish(nc, LIEUX_OPENED[1], envelope=opened)
    await publish(nc, SALLE_CHANGED)
    await publish(nc, ABSENCES[1], envelope=declared)
    await publish(nc, AbsenceWithdrawn(absence_id=CONGE, conseiller_id=CAMILLE))
    await publish(nc, LIEUX_OPENED[1], envelope=opened, msg_id="replayed-later-1")
    last = await publish(nc, ABSENCES[1], envelope=declared, msg_id="replayed-later-2")
    assert last == 6  # JetStream kept both copies: only the inbox stands between them and the copy

    await applied_up_to(nc, last)
    salle = await read(engine, lambda uow: uow.lieux.get(SALLE))
    assert salle.capacity == 20
    assert await count(engine, orm.absences) == 0
    assert await count(engine, orm.inbox, orm.inbox.c.consumer == REGISTRY_CONSUMER) == 4


async def test_an_event_applied_again_by_hand_changes_nothing(engine):
    envelope = Envelope.wrap(CONSEILLERS_REGISTERED[0], producer="registry")
    sessions = session_factory(engine)
    await apply_registry_event(envelope, CONSEILLERS_REGISTERED[0], SchedulingUnitOfWork(sessions))
    before = await dump(engine)
    await apply_registry_event(envelope, CONSEILLERS_REGISTERED[0], SchedulingUnitOfWork(sessions))
    assert await dump(engine) == before
    assert await count(engine, orm.inbox) == 1


async def test_an_event_that_is_not_the_registrys_is_refused_untouched(engine):
    plan = PlanPublished(plan_id=uuid.uuid4(), territory=PERCHE, week_start=MONDAY, permanences=[])
    with pytest.raises(TypeError, match="no use for"):
        await apply_registry_event(
            Envelope.wrap(plan, producer="scheduling"), plan, SchedulingUnitOfWork(session_factory(engine))
        )
    assert await count(engine, orm.inbox) == 0


# --- the API over the copy ------------------------------------------------------------------------

SECRET = SecretStr("scheduling-tests-secret-0123456789abcdef")


def bearer(role: Role, *territories: str, subject: str = "someone") -> dict[str, str]:
    token = issue_token(SECRET, subject=subject, role=role, territories=territories)
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(Role.ADMIN, subject="ops")
COORDINATOR_PERCHE = bearer(Role.COORDINATOR, PERCHE, subject="coord-perche")
COORDINATOR_SUD = bearer(Role.COORDINATOR, SUD, subject="coord-sud")
COORDINATOR_BOTH = bearer(Role.COORDINATOR, PERCHE, SUD, subject="coord-both")
CONSEILLER = bearer(Role.CONSEILLER, subject=str(CAMILLE))


@pytest.fixture
async def api(database, nats_url, nc, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    """Scheduling as it runs (migrations, consumer, routes), on a copy rebuilt from the whole history."""
    for step in HISTORY:
        for event in step.events:
            sequence = await publish(nc, event)
    settings = SchedulingSettings(
        nats_url=nats_url,
        data_dir=tmp_path,
        database_url=database.url,
        database_schema=database.schema,
        auth_secret=SECRET,
        relay_interval_s=0.05,
    )
    service = bootstrap(settings)
    await service.runtime.start()
    try:
        await applied_up_to(nc, sequence)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url="http://test") as client:
            yield client
    finally:
        await service.runtime.stop()


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] >= len(page["items"])
    return [item["name"] for item in page["items"]]


async def test_admins_list_the_copy_with_filters_and_pages(api):
    assert names(await api.get("/conseillers", headers=ADMIN)) == ["Ana Payet", "Camille Lefèvre"]
    everyone = await api.get("/conseillers", params={"include_archived": True}, headers=ADMIN)
    assert names(everyone) == ["Ana Payet", "Camille Lefèvre", "Jules Martin"]
    assert names(await api.get("/conseillers", params={"territory": "dep:61"}, headers=ADMIN)) == ["Camille Lefèvre"]
    page = await api.get("/conseillers", params={"include_archived": True, "limit": 1, "offset": 1}, headers=ADMIN)
    assert names(page) == ["Camille Lefèvre"]
    assert (page.json()["total"], page.json()["limit"], page.json()["offset"]) == (3, 1, 1)
    camille = page.json()["items"][0]
    assert camille["id"] == str(CAMILLE)
    assert camille["availability"][-1] == {"weekday": 5, "half": "am", "every_weeks": 2, "from_date": "2026-12-05"}
    assert camille["territories"] == [PERCHE, "dep:61"]

    assert names(await api.get("/lieux", headers=ADMIN)) == ["EPN", "Mairie de Bazoches", "Relais solidarité"]
    with_closed = await api.get("/lieux", params={"include_closed": True, "territory": PERCHE}, headers=ADMIN)
    assert names(with_closed) == ["EPN", "Salle des fêtes"]  # Bazoches left the territory when it was redefined
    assert with_closed.json()["items"][1]["closed"] is True
    assert names(await api.get("/lieux", params={"commune": "97422"}, headers=ADMIN)) == ["Relais solidarité"]
    assert names(await api.get("/lieux", params={"limit": 2, "offset": 2}, headers=ADMIN)) == ["Relais solidarité"]

    perche = await api.get(f"/territories/{PERCHE}", headers=ADMIN)
    assert perche.status_code == 200
    body = perche.json()
    assert (body["name"], body["time_zone"]) == ("CC du Pays de Mortagne au Perche", "Europe/Paris")
    assert [c["insee"] for c in body["communes"]] == ["61097", "61293", "61327"]
    assert body["communes"][1] == MORTAGNE.model_dump()
    assert (await api.get("/territories/epci:200000000", headers=ADMIN)).status_code == 404


@pytest.mark.parametrize(
    ("params", "status"),
    [({"limit": 0}, 422), ({"limit": 501}, 422), ({"offset": -1}, 422), ({"territory": "nowhere"}, 422)],
)
async def test_bad_listing_parameters_get_422_naming_them(api, params, status):
    response = await api.get("/conseillers", params=params, headers=ADMIN)
    assert response.status_code == status
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(params))]


async def test_coordinators_see_only_their_territories(api):
    assert names(await api.get("/conseillers", headers=COORDINATOR_PERCHE)) == ["Camille Lefèvre"]
    assert names(await api.get("/conseillers", headers=COORDINATOR_SUD)) == ["Ana Payet"]
    assert names(await api.get("/conseillers", headers=COORDINATOR_BOTH)) == ["Ana Payet", "Camille Lefèvre"]
    perche_only = await api.get("/conseillers", params={"territory": PERCHE}, headers=COORDINATOR_BOTH)
    assert names(perche_only) == ["Camille Lefèvre"]
    assert names(await api.get("/lieux", headers=COORDINATOR_PERCHE)) == ["EPN"]
    assert names(await api.get("/lieux", headers=COORDINATOR_SUD)) == ["Relais solidarité"]
    assert names(await api.get("/lieux", params={"commune": "97422"}, headers=COORDINATOR_PERCHE)) == []
    assert (await api.get(f"/territories/{PERCHE}", headers=COORDINATOR_PERCHE)).status_code == 200

    for path, params in [
        ("/conseillers", {"territory": SUD}),
        ("/lieux", {"territory": SUD}),
        (f"/territories/{SUD}", {}),
        ("/territories/epci:200000000", {}),  # not theirs, known or not
    ]:
        response = await api.get(path, params=params, headers=COORDINATOR_PERCHE)
        assert response.status_code == 403, path


@pytest.mark.parametrize(
    ("path", "params"),
    [("/conseillers", {}), ("/lieux", {}), (f"/territories/{PERCHE}", {}), ("/conseillers", {"territory": PERCHE})],
)
async def test_conseillers_are_refused_and_strangers_must_authenticate(api, path, params):
    assert (await api.get(path, params=params, headers=CONSEILLER)).status_code == 403
    expired = issue_token(SECRET, subject="ops", role=Role.ADMIN, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    forged = issue_token(SecretStr("another-secret-0123456789abcdef-xyz"), subject="ops", role=Role.ADMIN)
    for headers in [{}, {"Authorization": f"Bearer {expired}"}, {"Authorization": f"Bearer {forged}"}]:
        response = await api.get(path, params=params, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def slot(conseiller_id: uuid.UUID, day: int, start: int, end: int) -> dict[str, Any]:
    date = MONDAY + dt.timedelta(days=day)
    paris = dt.timezone(dt.timedelta(hours=1))  # Paris in winter
    return {
        "conseiller_id": str(conseiller_id),
        "commune": "61293",
        "lieu": "EPN",
        "starts_at": dt.datetime.combine(date, dt.time(start), paris).isoformat(),
        "ends_at": dt.datetime.combine(date, dt.time(end), paris).isoformat(),
    }


async def test_plans_are_for_coordinators_of_their_territory_and_known_active_conseillers(api):
    body = {"territory": PERCHE, "week_start": MONDAY.isoformat(), "permanences": [slot(CAMILLE, 0, 14, 17)]}
    for headers, status in [(CONSEILLER, 403), (COORDINATOR_SUD, 403), ({}, 401)]:
        assert (await api.post("/plans", json=body, headers=headers)).status_code == status

    for permanences, message in [
        ([slot(JULES, 0, 14, 17)], "archived"),
        ([slot(uuid.uuid4(), 0, 14, 17)], "unknown conseiller"),
    ]:
        refused = await api.post("/plans", json={**body, "permanences": permanences}, headers=COORDINATOR_PERCHE)
        assert refused.status_code == 422
        [error] = refused.json()["detail"]
        assert error["loc"] == ["body", "permanences", "0", "conseiller_id"]
        assert message in error["msg"]

    drafted = await api.post("/plans", json=body, headers=COORDINATOR_PERCHE)
    assert drafted.status_code == 201, drafted.text
    plan_id = drafted.json()["id"]
    for headers, status in [(COORDINATOR_SUD, 403), (CONSEILLER, 403), (ADMIN, 200), (COORDINATOR_PERCHE, 200)]:
        assert (await api.get(f"/plans/{plan_id}", headers=headers)).status_code == status
    for headers, status in [(COORDINATOR_SUD, 403), (CONSEILLER, 403), (COORDINATOR_PERCHE, 200)]:
        assert (await api.post(f"/plans/{plan_id}/publish", headers=headers)).status_code == status
    assert (await api.post(f"/plans/{plan_id}/publish", headers=ADMIN)).status_code == 409
    assert (await api.get(f"/plans/{uuid.uuid4()}", headers=ADMIN)).status_code == 404
