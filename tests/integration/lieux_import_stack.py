"""What the lieux import and export tests share: a running registry with Mortagne, documents of the standard, and
how to send them."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from services.registry.adapters import mediation_numerique as mn
from services.registry.adapters import orm
from tests.integration.registry_stack import (
    ADMIN,
    RunningRegistry,
    mortagne_with_a_conseiller,
    running_registry,
    template_database,
)

CSV = {"Content-Type": "text/csv"}
JSON = {"Content-Type": "application/json"}


async def send(registry, body, who, content_type):
    return await registry.http.post("/lieux/import", content=body, headers=who | content_type)


async def imported(registry, body, who, content_type) -> dict[str, Any]:
    response = await send(registry, body, who, content_type)
    assert response.status_code == 200, response.text
    return response.json()


LIEU_FIELDS = (
    "name", "kind", "structure_id", "commune", "address", "latitude", "longitude", "capacity", "has_computers",
    "accessible", "opening_hours", "external_id", "closed", "version",
)  # fmt: skip


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    return template_database(tmp_path_factory.mktemp("registry-template"))


@pytest.fixture
async def registry(template, tmp_path, nats_url, nc) -> AsyncIterator[RunningRegistry]:
    async with running_registry(template, tmp_path / "registry", nats_url) as running:
        yield running


@pytest.fixture
async def mortagne(registry):
    return await mortagne_with_a_conseiller(registry)


def csv_of(rows: list[dict[str, str]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=mn.FIELDS, restval="", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


MEDIATHEQUE = {
    "id": "hub-61-001", "pivot": "43493312300029", "nom": "Médiathèque « L'Éclat », salle \"Verne\"",
    "commune": "Mortagne-au-Perche", "code_postal": "61400", "code_insee": "61293", "adresse": "3 rue de l'Église",
    "latitude": "48.5212", "longitude": "0.5479", "typologie": "BIB|MUNI", "horaires": "Tu-Sa 10:00-12:30,14:00-18:00; PH off",
    "date_maj": "2026-10-01", "services": "Accès internet et matériel informatique|Aide aux démarches administratives",
    "itinerance": "Fixe",
}  # fmt: skip
FRANCE_SERVICES = MEDIATHEQUE | {
    "id": "hub-61-002", "nom": "Espace France Services, Mortagne", "typologie": "RFS",
    "adresse": "8 rue des Quinze-Fusillés\nBâtiment B", "complement_adresse": "2e étage", "services": "Aide aux démarches administratives",
}  # fmt: skip
MAIRIE_BY_NAME = {
    "id": "hub-61-003", "pivot": "21610029300019", "nom": "Mairie de Bazoches-sur-Hoëne", "commune": "Bazoches-sur-Hoëne",
    "code_postal": "61560", "code_insee": "", "adresse": "4 rue du Presbytère", "latitude": "48.5500",
    "longitude": "0.4650", "typologie": "MUNI", "horaires": "Tu-Fr 09:00-12:30", "date_maj": "2026-10-01",
    "services": "Aide aux démarches administratives",
}  # fmt: skip
BUS = MEDIATHEQUE | {"id": "bus-perche", "nom": "Bus numérique du Perche", "typologie": "", "itinerance": "Itinérant"}
MIXED = [
    MEDIATHEQUE,  # line 2
    MEDIATHEQUE | {"id": "bad-insee", "code_insee": "99999"},  # 3
    MEDIATHEQUE | {"id": "bad-hours", "horaires": "Mo-Fr 09:00-25:00"},  # 4
    MEDIATHEQUE | {"id": "no-name", "nom": ""},  # 5
    MEDIATHEQUE | {"id": "bad-coordinates", "latitude": "quarante-huit"},  # 6
    MEDIATHEQUE | {"id": "swapped", "latitude": "0.5479", "longitude": "48.5212"},  # 7
    MEDIATHEQUE
    | {
        "id": "thionville",
        "code_insee": "57672",
        "commune": "Thionville",
        "code_postal": "57100",
        "latitude": "49.3579",
        "longitude": "6.1684",
    },  # 8
    FRANCE_SERVICES,  # 9 and 10: a line break in its address
    MAIRIE_BY_NAME,  # 11: no code_insee, found from its name and postcode
    MEDIATHEQUE | {"nom": "Doublon"},  # 12: the id of line 2 again
    BUS,  # 13
]
MIXED_PROBLEMS = [
    (3, "code_insee"), (4, "horaires"), (5, "nom"), (6, "latitude"), (7, "latitude"), (8, "code_insee"), (12, "id"),
]  # fmt: skip


async def lieux_of(registry, who=ADMIN) -> dict[str, dict[str, Any]]:
    """Every open lieu the caller sees, by external id (or id), as the API shows it."""
    page = await registry.ok("GET", "/lieux?limit=500", who)
    return {item["external_id"] or item["id"]: item for item in page["items"]}


async def subjects(registry) -> list[str]:
    async with registry.service.runtime.engine.connect() as conn:
        return list((await conn.execute(select(orm.outbox.c.subject).order_by(orm.outbox.c.id))).scalars())
