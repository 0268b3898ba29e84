"""Recurrences of lieux in scheduling's copy of the registry: from registry events over real NATS,
on SQLite and Postgres, and from the registry's API to scheduling's."""

from __future__ import annotations

import datetime as dt
import uuid

from services.scheduling.adapters import orm
from services.scheduling.bootstrap import MIGRATIONS
from services.scheduling.domain.registry_copy import Recurrence
from shared.events import LieuChanged, LieuClosed, LieuOpened, RecurrenceFields
from shared.migrations import upgrade
from tests.integration.helpers import eventually
from tests.integration.registry_history import EPN, EPN_STRUCTURE, lieu, read
from tests.integration.registry_stack import ADMIN, MORTAGNE, RunningRegistry, mortagne_with_a_conseiller
from tests.integration.test_scheduling_copy import applied_up_to, engine, publish, start_copy

__all__ = ["engine", "start_copy"]

ATELIER_ID, PERMANENCE_ID = uuid.uuid4(), uuid.uuid4()
ATELIER = RecurrenceFields(
    recurrence_id=ATELIER_ID, weekday=4, start=dt.time(16), end=dt.time(17), kind="atelier", skill="smartphone",
    seats=8, needs_computers=True,
)  # fmt: skip
FORTNIGHTLY = RecurrenceFields(
    recurrence_id=PERMANENCE_ID, weekday=5, start=dt.time(9), end=dt.time(12), every_weeks=2,
    from_date=dt.date(2026, 12, 5), kind="permanence",
)  # fmt: skip
EPN_FIELDS = {
    "name": "EPN", "kind": "structure", "structure_id": EPN_STRUCTURE, "commune": "61293", "latitude": 48.5202,
    "longitude": 0.5451, "has_computers": True, "opening_hours": "Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00",
}  # fmt: skip


async def recurrences_of(engine, lieu_id: uuid.UUID) -> tuple[Recurrence, ...]:
    copied = await read(engine, lambda uow: uow.lieux.get(lieu_id))
    return copied.recurrences


async def test_a_lieus_recurrences_reach_the_copy_and_follow_its_changes(engine, nc, start_copy):
    await start_copy(engine)
    await applied_up_to(nc, await publish(nc, lieu(LieuOpened, EPN, **EPN_FIELDS, recurrences=[ATELIER, FORTNIGHTLY])))
    assert await recurrences_of(engine, EPN) == (
        Recurrence(
            id=ATELIER_ID, weekday=4, start=dt.time(16), end=dt.time(17), kind="atelier", skill="smartphone", seats=8,
            needs_computers=True,
        ),
        Recurrence(
            id=PERMANENCE_ID, weekday=5, start=dt.time(9), end=dt.time(12), every_weeks=2,
            from_date=dt.date(2026, 12, 5), kind="permanence",
        ),
    )  # fmt: skip

    fewer_seats = ATELIER.model_copy(update={"seats": 6})
    await applied_up_to(nc, await publish(nc, lieu(LieuChanged, EPN, **EPN_FIELDS, recurrences=[fewer_seats])))
    [atelier] = await recurrences_of(engine, EPN)
    assert (atelier.id, atelier.seats) == (ATELIER_ID, 6)

    await applied_up_to(nc, await publish(nc, LieuClosed(lieu_id=EPN)))
    assert [r.id for r in await recurrences_of(engine, EPN)] == [ATELIER_ID]  # the last snapshot stays, closed

    await applied_up_to(nc, await publish(nc, lieu(LieuOpened, EPN, **EPN_FIELDS)))
    assert await recurrences_of(engine, EPN) == ()


async def test_a_fortnightly_recurrence_occurs_every_other_week_from_its_first_date(engine, nc, start_copy):
    await start_copy(engine)
    await applied_up_to(nc, await publish(nc, lieu(LieuOpened, EPN, **EPN_FIELDS, recurrences=[FORTNIGHTLY])))
    [fortnightly] = await recurrences_of(engine, EPN)
    saturdays = [dt.date(2026, 11, 28) + dt.timedelta(weeks=w) for w in range(5)]
    assert [fortnightly.occurs_on(day) for day in saturdays] == [False, True, False, True, False]


async def test_lieux_copied_before_recurrences_existed_have_none(database):
    engine = database.engine()
    await upgrade(engine, MIGRATIONS, "0002")
    async with engine.begin() as conn:
        await conn.execute(
            orm.lieux.insert().values(
                lieu_id=EPN, name="EPN", kind="structure", commune="61293", latitude=48.52, longitude=0.55,
                capacity=12, has_computers=True, accessible=True, opening_hours="Mo-Fr 09:00-12:00", closed=False,
            )
        )  # fmt: skip
    await upgrade(engine, MIGRATIONS)
    try:
        assert await recurrences_of(engine, EPN) == ()
    finally:
        await engine.dispose()


async def test_recurrences_given_in_the_registry_show_in_schedulings_api(clients):
    registry = RunningRegistry(None, clients["registry"])
    room = (await mortagne_with_a_conseiller(registry))["room"]
    atelier = {"weekday": 4, "start": "16:00", "end": "17:00", "kind": "atelier", "seats": 8, "needs_computers": True}
    changed = await registry.ok("PATCH", f"/lieux/{room['id']}", json={"version": 1, "recurrences": [atelier]})
    expected = [{**atelier, "id": changed["recurrences"][0]["id"], "every_weeks": 1, "from_date": None, "skill": None}]

    async def copied() -> bool:
        response = await clients["scheduling"].get("/lieux", params={"territory": MORTAGNE}, headers=ADMIN)
        by_id = {item["id"]: item for item in response.json()["items"]}
        return room["id"] in by_id and by_id[room["id"]]["recurrences"] == expected

    await eventually(copied)
