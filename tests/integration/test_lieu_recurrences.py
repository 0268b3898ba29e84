"""Recurrences of a lieu through the registry's API, its database, its events and its import."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest

from services.registry.adapters import orm
from services.registry.adapters.repository import LieuRepository
from services.registry.bootstrap import MIGRATIONS
from shared.db import session_factory
from shared.migrations import upgrade
from tests.integration.helpers import eventually
from tests.integration.lieux_import_stack import CSV, MEDIATHEQUE, csv_of, imported, lieux_of
from tests.integration.registry_stack import (
    COORDINATOR,
    MORTAGNE,
    RunningRegistry,
    running_registry,
    template_database,
)

ATELIER = {
    "weekday": 4, "start": "16:00", "end": "17:00", "kind": "atelier", "skill": "smartphone", "seats": 8,
    "needs_computers": True,
}  # fmt: skip
FORTNIGHTLY = {
    "weekday": 1, "start": "09:00", "end": "12:00", "every_weeks": 2, "from_date": "2026-12-01", "kind": "permanence",
}  # fmt: skip
SALLE = {
    "name": "Salle des fêtes", "kind": "salle_communale", "commune": "61293", "latitude": 48.52, "longitude": 0.55,
    "capacity": 30, "opening_hours": "Tu 09:00-12:00; Fr 14:00-18:00",
}  # fmt: skip


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    return template_database(tmp_path_factory.mktemp("registry-template"))


@pytest.fixture
async def registry(template, tmp_path, nats_url, nc) -> AsyncIterator[RunningRegistry]:
    async with running_registry(template, tmp_path / "registry", nats_url) as running:
        await running.ok("PUT", "/territories", json={"code": MORTAGNE})
        yield running


def fields(response) -> set[str]:
    return {".".join(str(part) for part in error["loc"][1:]) for error in response.json()["detail"]}


@pytest.mark.parametrize(
    ("recurrence", "field"),
    [
        ({"weekday": 7}, "recurrences.0.weekday"),
        ({"start": "4pm"}, "recurrences.0.start"),
        ({"every_weeks": 5}, "recurrences.0.every_weeks"),
        ({"kind": "cours"}, "recurrences.0.kind"),
        ({"surprise": 1}, "recurrences.0.surprise"),
        ({"end": "15:00"}, "recurrences.0.end"),  # before it starts
        ({"end": "16:20"}, "recurrences.0.end"),  # under 30 minutes
        ({"start": "18:00", "end": "19:00"}, "recurrences.0.start"),  # after closing
        ({"weekday": 0}, "recurrences.0.weekday"),  # closed on Mondays
        ({"seats": 31}, "recurrences.0.seats"),  # capacity is 30
        ({"needs_computers": True}, "recurrences.0.needs_computers"),  # the salle has none
        ({"every_weeks": 2}, "recurrences.0.from_date"),
        ({"skill": "Démarches en ligne"}, "recurrences.0.skill"),
    ],
)
async def test_bad_recurrences_get_422_naming_the_field(registry, recurrence, field):
    body = {**SALLE, "recurrences": [{**ATELIER, "needs_computers": False, **recurrence}]}
    response = await registry.call("POST", "/lieux", COORDINATOR, json=body)
    assert response.status_code == 422, response.text
    assert fields(response) == {field}


async def test_a_coordinator_gives_recurrences_at_opening_and_edits_them_keeping_ids(registry):
    body = {**SALLE, "recurrences": [{**ATELIER, "needs_computers": False}]}
    opened = await registry.ok("POST", "/lieux", COORDINATOR, json=body)
    [atelier] = opened["recurrences"]
    uuid.UUID(atelier["id"])  # given by the registry
    assert atelier == {
        "id": atelier["id"], "weekday": 4, "start": "16:00", "end": "17:00", "every_weeks": 1, "from_date": None,
        "kind": "atelier", "skill": "smartphone", "seats": 8, "needs_computers": False,
    }  # fmt: skip
    path = f"/lieux/{opened['id']}"
    assert (await registry.ok("GET", path, COORDINATOR))["recurrences"] == [atelier]

    edited = [{**atelier, "seats": 12}, FORTNIGHTLY]
    changed = await registry.ok("PATCH", path, COORDINATOR, json={"version": 1, "recurrences": edited})
    assert changed["version"] == 2
    assert [(r["id"] == atelier["id"], r["seats"], r["kind"]) for r in changed["recurrences"]] == [
        (True, 12, "atelier"), (False, 0, "permanence"),
    ]  # fmt: skip
    assert changed["recurrences"][1]["from_date"] == "2026-12-01"

    stale = await registry.call("PATCH", path, COORDINATOR, json={"version": 1, "recurrences": []})
    assert stale.status_code == 409
    null = await registry.call("PATCH", path, COORDINATOR, json={"version": 2, "recurrences": None})
    assert (null.status_code, fields(null)) == (422, {"recurrences"})
    assert (await registry.ok("GET", path, COORDINATOR))["recurrences"] == changed["recurrences"]

    cleared = await registry.ok("PATCH", path, COORDINATOR, json={"version": 2, "recurrences": []})
    assert (cleared["version"], cleared["recurrences"]) == (3, [])


async def test_new_hours_that_leave_a_recurrence_out_get_422_naming_it(registry):
    body = {**SALLE, "recurrences": [FORTNIGHTLY]}
    opened = await registry.ok("POST", "/lieux", COORDINATOR, json=body)
    response = await registry.call(
        "PATCH", f"/lieux/{opened['id']}", COORDINATOR, json={"version": 1, "opening_hours": "Tu 10:00-12:00"}
    )
    assert (response.status_code, fields(response)) == (422, {"recurrences.0.start"})


async def test_the_lieu_changed_event_carries_the_recurrences(registry, nc):
    opened = await registry.ok("POST", "/lieux", COORDINATOR, json=SALLE)
    recurrences = [{**ATELIER, "needs_computers": False}, FORTNIGHTLY]
    changed = await registry.ok(
        "PATCH", f"/lieux/{opened['id']}", COORDINATOR, json={"version": 1, "recurrences": recurrences}
    )
    js = nc.jetstream()

    async def published() -> bool:
        info = await js.stream_info("REGISTRY", subjects_filter="registry.lieu.changed.v1")
        return bool(info.state.subjects)

    await eventually(published)
    event = json.loads((await js.get_last_msg("REGISTRY", "registry.lieu.changed.v1")).data)["data"]
    assert event["lieu_id"] == opened["id"]
    assert event["recurrences"] == [
        {
            "recurrence_id": changed["recurrences"][0]["id"], "weekday": 4, "start": "16:00:00", "end": "17:00:00",
            "every_weeks": 1, "from_date": None, "kind": "atelier", "skill": "smartphone", "seats": 8,
            "needs_computers": False,
        },
        {
            "recurrence_id": changed["recurrences"][1]["id"], "weekday": 1, "start": "09:00:00", "end": "12:00:00",
            "every_weeks": 2, "from_date": "2026-12-01", "kind": "permanence", "skill": None, "seats": 0,
            "needs_computers": False,
        },
    ]  # fmt: skip


async def test_lieux_stored_before_recurrences_existed_have_none(database):
    engine = database.engine()
    await upgrade(engine, MIGRATIONS, "0001")
    lieu_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            orm.communes.insert().values(insee="61293", name="Mortagne-au-Perche", population=3818, departement="61",
                                         region="28")
        )  # fmt: skip
        await conn.execute(
            orm.lieux.insert().values(
                id=lieu_id, name="EPN", kind="structure", commune="61293", address="", latitude=48.52, longitude=0.55,
                capacity=12, has_computers=True, accessible=True, opening_hours="Mo-Fr 09:00-12:00", closed=False,
                version=1,
            )
        )  # fmt: skip
    await upgrade(engine, MIGRATIONS)
    try:
        async with session_factory(engine)() as session:
            lieu = await LieuRepository(session).get(lieu_id)
    finally:
        await engine.dispose()
    assert lieu is not None
    assert (lieu.name, lieu.recurrences) == ("EPN", ())


# --- the import of the standard de la médiation numérique -------------------------------------

SATURDAY_ATELIER = {
    "weekday": 5, "start": "10:00", "end": "12:00", "kind": "atelier", "seats": 8, "needs_computers": True,
}  # fmt: skip


async def test_an_import_updating_a_lieu_keeps_its_recurrences(registry):
    await imported(registry, csv_of([MEDIATHEQUE]).encode(), COORDINATOR, CSV)
    mediatheque = (await lieux_of(registry))["hub-61-001"]
    patch = {"version": 1, "capacity": 12, "recurrences": [SATURDAY_ATELIER]}
    planned = await registry.ok("PATCH", f"/lieux/{mediatheque['id']}", COORDINATOR, json=patch)

    renamed = MEDIATHEQUE | {"nom": "Médiathèque de Mortagne", "horaires": "Tu-Sa 10:00-12:30,14:00-19:00"}
    report = await imported(registry, csv_of([renamed]).encode(), COORDINATOR, CSV)
    assert report["updated"] == 1
    after = (await lieux_of(registry))["hub-61-001"]
    assert (after["name"], after["version"]) == ("Médiathèque de Mortagne", 3)
    assert after["recurrences"] == planned["recurrences"]


async def test_an_import_whose_hours_leave_a_recurrence_out_is_reported_and_changes_nothing(registry):
    await imported(registry, csv_of([MEDIATHEQUE]).encode(), COORDINATOR, CSV)
    mediatheque = (await lieux_of(registry))["hub-61-001"]
    patch = {"version": 1, "capacity": 12, "recurrences": [SATURDAY_ATELIER]}
    planned = await registry.ok("PATCH", f"/lieux/{mediatheque['id']}", COORDINATOR, json=patch)

    afternoons = MEDIATHEQUE | {"horaires": "Tu-Sa 14:00-18:00"}
    report = await imported(registry, csv_of([afternoons]).encode(), COORDINATOR, CSV)
    assert (report["updated"], report["invalid"]) == (0, 1)
    assert [(p["line"], p["field"]) for p in report["invalid_rows"]] == [(2, "recurrences.0.start")]
    assert (await lieux_of(registry))["hub-61-001"] == planned
