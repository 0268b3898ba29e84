"""Import and export of lieux in the standard de la médiation numérique, through a running registry."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.registry.adapters import mediation_numerique as mn
from tests.integration.lieux_import_stack import (
    BUS,
    CSV,
    FRANCE_SERVICES,
    JSON,
    LIEU_FIELDS,
    MAIRIE_BY_NAME,
    MEDIATHEQUE,
    MIXED,
    MIXED_PROBLEMS,
    csv_of,
    imported,
    lieux_of,
    mortagne,
    registry,
    subjects,
    template,
)
from tests.integration.registry_stack import ADMIN, COORDINATOR, MORTAGNE, OTHER_COORDINATOR, running_registry

__all__ = ["mortagne", "registry", "template"]  # fixtures

# --- import ---------------------------------------------------------------------------------


async def test_valid_rows_are_imported_and_invalid_ones_reported_by_line(registry, mortagne):
    events_before = len(await subjects(registry))
    report = await imported(registry, csv_of(MIXED).encode(), COORDINATOR, CSV)

    assert (report["created"], report["updated"], report["unchanged"], report["invalid"]) == (4, 0, 0, 7)
    assert [(p["line"], p["field"]) for p in report["invalid_rows"]] == MIXED_PROBLEMS
    reasons = {p["line"]: p["reason"] for p in report["invalid_rows"]}
    assert reasons[3] == "unknown INSEE code 99999"
    assert "25:00" in reasons[4]
    assert reasons[5] == "required"
    assert reasons[6] == "'quarante-huit' is not a number"
    assert "swapped" in reasons[7]
    assert reasons[8] == "commune 57672 (Thionville) is outside your territories"
    assert reasons[12] == "'hub-61-001' is already the id of line 2: ids are unique in a file"

    lieux = await lieux_of(registry, COORDINATOR)
    assert len(lieux) == 2 + 4
    mediatheque = lieux["hub-61-001"]
    assert {k: mediatheque[k] for k in ("name", "kind", "commune", "address", "capacity", "has_computers")} == {
        "name": "Médiathèque « L'Éclat », salle \"Verne\"", "kind": "structure", "commune": "61293",
        "address": "3 rue de l'Église, 61400 Mortagne-au-Perche", "capacity": 0, "has_computers": True,
    }  # fmt: skip
    assert (mediatheque["latitude"], mediatheque["opening_hours"]) == (48.5212, "Tu-Sa 10:00-12:30,14:00-18:00; PH off")
    assert lieux["hub-61-002"]["address"] == "8 rue des Quinze-Fusillés Bâtiment B, 2e étage, 61400 Mortagne-au-Perche"
    assert lieux["hub-61-002"]["has_computers"] is False
    assert (lieux["hub-61-003"]["kind"], lieux["hub-61-003"]["commune"]) == ("mairie", "61029")
    assert lieux["bus-perche"]["kind"] == "bus"
    assert (await subjects(registry))[events_before:] == ["registry.lieu.opened.v1"] * 4


async def test_reimporting_updates_the_same_lieux_without_duplicates(registry, mortagne):
    body = csv_of([MEDIATHEQUE, FRANCE_SERVICES, BUS])
    first = await imported(registry, body.encode(), COORDINATOR, CSV)
    assert (first["created"], first["invalid"]) == (3, 0)
    again = await imported(registry, body.encode(), COORDINATOR, CSV)
    assert (again["created"], again["updated"], again["unchanged"], again["invalid"]) == (0, 0, 3, 0)
    events_before = len(await subjects(registry))

    changed = MEDIATHEQUE | {
        "nom": "Médiathèque L'Éclat",
        "horaires": "Tu-Sa 10:00-18:00",
        "services": "Aide aux démarches administratives",
    }
    third = await imported(registry, csv_of([changed, BUS]).encode(), COORDINATOR, CSV)
    assert (third["created"], third["updated"], third["unchanged"]) == (0, 1, 1)
    lieux = await lieux_of(registry, COORDINATOR)
    assert len(lieux) == 2 + 3
    mediatheque = lieux["hub-61-001"]
    assert (mediatheque["name"], mediatheque["opening_hours"], mediatheque["has_computers"], mediatheque["version"]) == (
        "Médiathèque L'Éclat", "Tu-Sa 10:00-18:00", False, 2,
    )  # fmt: skip
    assert (await subjects(registry))[events_before:] == ["registry.lieu.changed.v1"]


async def test_an_update_keeps_what_the_standard_cannot_say(registry, mortagne):
    await imported(registry, csv_of([MEDIATHEQUE]).encode(), COORDINATOR, CSV)
    mediatheque = (await lieux_of(registry))["hub-61-001"]
    patch = {"version": 1, "capacity": 24, "accessible": True, "kind": "salle_communale"}
    await registry.ok("PATCH", f"/lieux/{mediatheque['id']}", COORDINATOR, json=patch)
    renamed = MEDIATHEQUE | {"nom": "Médiathèque de Mortagne"}
    report = await imported(registry, csv_of([renamed]).encode(), COORDINATOR, CSV)
    assert report["updated"] == 1
    after = (await lieux_of(registry))["hub-61-001"]
    assert (after["name"], after["capacity"], after["accessible"], after["kind"]) == (
        "Médiathèque de Mortagne", 24, True, "salle_communale",
    )  # fmt: skip


async def test_json_documents_are_imported_with_their_index_as_line(registry, mortagne):
    document = [
        {
            **MEDIATHEQUE,
            "latitude": 48.5212,
            "longitude": 0.5479,
            "services": ["Accès internet et matériel informatique"],
        },
        {**BUS, "code_insee": 61293, "latitude": None},
        "not a lieu",
        {**MAIRIE_BY_NAME, "horaires": 'Mo-Fr 08:00-12:00 "sur rendez-vous"'},
    ]
    report = await imported(registry, json.dumps(document), COORDINATOR, JSON)
    assert (report["created"], report["invalid"]) == (1, 3)
    assert [(p["line"], p["field"]) for p in report["invalid_rows"]] == [(2, "latitude"), (3, ""), (4, "horaires")]
    assert (await lieux_of(registry))["hub-61-001"]["has_computers"] is True


async def test_cells_no_database_can_hold_are_reported_not_a_server_error(registry, mortagne):
    """A lone surrogate (JSON "\\ud800") cannot be written as UTF-8, NUL not into Postgres: both once failed
    the whole import with a 500; now their rows are reported and the others imported."""
    document = [
        {**MEDIATHEQUE, "nom": "Médiathèque \ud800"},
        {**MEDIATHEQUE, "id": "nul", "adresse": "3 rue\x00 de l'Église"},
        {**MEDIATHEQUE, "id": "fine"},
    ]
    report = await imported(registry, json.dumps(document), COORDINATOR, JSON)
    assert (report["created"], report["invalid"]) == (1, 2)
    assert [(p["line"], p["field"]) for p in report["invalid_rows"]] == [(1, "nom"), (2, "adresse")]
    assert set(await lieux_of(registry)) >= {"fine"}
    assert not {"hub-61-001", "nul"} & set(await lieux_of(registry))


async def test_a_closed_lieu_is_not_reopened_by_an_import(registry, mortagne):
    await imported(registry, csv_of([MEDIATHEQUE]).encode(), COORDINATOR, CSV)
    mediatheque = (await lieux_of(registry))["hub-61-001"]
    await registry.ok("DELETE", f"/lieux/{mediatheque['id']}?version=1", COORDINATOR)
    report = await imported(registry, csv_of([MEDIATHEQUE]).encode(), COORDINATOR, CSV)
    assert report["invalid_rows"] == [{"line": 2, "field": "id", "reason": "this id is a lieu closed in Tournées"}]


# --- export and round trips -----------------------------------------------------------------


async def test_the_export_is_a_file_of_the_standard(registry, mortagne):
    response = await registry.call("GET", f"/lieux/export?territory={MORTAGNE}", COORDINATOR)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    expected = f'attachment; filename="{today:%Y%m%d}_tournees_lieux-de-mediation-numerique_epci-200036069.csv"'
    assert response.headers["content-disposition"] == expected
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert list(rows[0]) == list(mn.FIELDS)
    by_name = {row["nom"]: row for row in rows}
    room, mairie = by_name["EPN de Mortagne-au-Perche"], by_name["Mairie de Bazoches-sur-Hoëne"]
    assert (room["id"], room["code_insee"], room["commune"]) == (mortagne["room"]["id"], "61293", "Mortagne-au-Perche")
    assert (room["structure_parente"], room["pivot"]) == ("EPN de Mortagne-au-Perche", mn.PIVOT_UNKNOWN)
    assert room["services"] == "Maîtrise des outils numériques du quotidien|Accès internet et matériel informatique"
    assert (mairie["typologie"], mairie["adresse"], mairie["code_postal"]) == ("MUNI", "4 rue du Presbytère", "61560")
    assert mairie["date_maj"] == today.isoformat()

    as_json = await registry.call("GET", f"/lieux/export?territory={MORTAGNE}&format=json", COORDINATOR)
    assert as_json.headers["content-type"] == "application/json; charset=utf-8"
    assert as_json.headers["content-disposition"].endswith('epci-200036069.json"')
    assert {item["nom"] for item in as_json.json()} == set(by_name)
    # A coordinator without a territory filter gets theirs; another coordinator gets none of them.
    assert len(list(csv.DictReader(io.StringIO((await registry.call("GET", "/lieux/export", COORDINATOR)).text)))) == 2
    assert (await registry.call("GET", "/lieux/export", OTHER_COORDINATOR)).text.count("\r\n") == 1


async def add_varied_lieux(registry, mortagne) -> None:
    await imported(registry, csv_of([MEDIATHEQUE, FRANCE_SERVICES, BUS]).encode(), COORDINATOR, CSV)
    for body in [
        {"name": "Salle des fêtes « Le Perche », côté \"jardin\"", "kind": "salle_communale", "commune": "61293",
         "address": "Rue de la Gare, Mortagne, 61400 Mortagne-au-Perche", "latitude": 48.519, "longitude": 0.551,
         "capacity": 40, "has_computers": False, "accessible": False,
         "opening_hours": "Mo-We,Fr 14:00-18:00; Sa-Su 10:00-12:00; PH off; 2026 Dec 24-2027 Jan 02 off; 2026 Dec 31 10:00-12:00"},
        {"name": "Pied d'immeuble — résidence Les Tilleuls", "kind": "pied_immeuble", "commune": "61293",
         "address": "Résidence Les Tilleuls", "latitude": 48.523, "longitude": 0.544, "capacity": 6,
         "opening_hours": "We 14:00-17:00"},
        {"name": "Centre hospitalier", "kind": "partenaire", "commune": "61293", "address": "", "latitude": 48.517,
         "longitude": 0.55, "capacity": 8, "has_computers": True, "accessible": True, "opening_hours": "24/7"},
    ]:  # fmt: skip
        await registry.ok("POST", "/lieux", COORDINATOR, json=body)


@pytest.mark.parametrize("file_format", ["csv", "json"])
async def test_export_then_import_changes_nothing(registry, mortagne, file_format):
    await add_varied_lieux(registry, mortagne)
    before = await lieux_of(registry)
    events_before = len(await subjects(registry))
    export = await registry.call("GET", f"/lieux/export?territory={MORTAGNE}&format={file_format}", COORDINATOR)
    headers = CSV if file_format == "csv" else JSON
    report = await imported(registry, export.content, COORDINATOR, headers)
    assert (report["created"], report["updated"], report["unchanged"], report["invalid"]) == (0, 0, len(before), 0)
    assert await lieux_of(registry) == before
    assert len(await subjects(registry)) == events_before
    room = mortagne["room"]
    assert (await registry.ok("GET", f"/lieux/{room['id']}"))["name"] == room[
        "name"
    ]  # the /lieux/{id} route still answers


async def test_with_the_extensions_another_instance_gets_the_same_lieux(
    registry, mortagne, template, tmp_path, nats_url
):
    await add_varied_lieux(registry, mortagne)
    export = await registry.call("GET", f"/lieux/export?territory={MORTAGNE}&extensions=true", COORDINATOR)
    assert export.text.split("\r\n")[0].endswith(",".join(mn.EXTENSION_FIELDS))
    originals = await lieux_of(registry)
    async with running_registry(template, tmp_path / "other", nats_url) as other:
        report = await imported(other, export.content, ADMIN, CSV)
        assert (report["created"], report["invalid"]) == (len(originals), 0)
        copies = await lieux_of(other)
    for original in originals.values():
        copy = copies[original["external_id"] or original["id"]]
        same = [f for f in LIEU_FIELDS if f not in ("structure_id", "external_id")]
        assert {f: copy[f] for f in same} == {f: original[f] for f in same}, original["name"]
