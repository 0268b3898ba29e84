"""Lieux exported to the standard and imported back, with and without Tournées' extension columns."""

from __future__ import annotations

import uuid

import pytest

from services.registry.adapters import mediation_numerique as mn
from services.registry.domain.places import Lieu
from shared.opening_hours import OpeningHours
from tests.unit.test_mediation_numerique import HOURS_FORMS, KEPT, TODAY, as_tuple, lieu

# --- round trips ----------------------------------------------------------------------------


def lieux_to_round_trip() -> list[Lieu]:
    return [
        lieu(),
        lieu(
            name='Médiathèque « L\'Éclat », salle "Jules-Verne"',
            kind="salle_communale",
            capacity=30,
            address="Salle n°2, 3 rue de l'Église, 61400 Mortagne-au-Perche",
            has_computers=False,
            accessible=False,
            external_id="hub-normandie-0042",
        ),
        lieu(
            name="Bus numérique du Perche",
            kind="bus",
            commune="61029",
            address="Place de l'Église",
            latitude=48.5499,
            longitude=0.4711,
            capacity=6,
            external_id="bus;1|2,3",
        ),
        lieu(
            name="Mairie de Bazoches-sur-Hoëne",
            kind="mairie",
            commune="61029",
            address="4 rue du Presbytère, 61560 Bazoches-sur-Hoëne",
            accessible=True,
            capacity=10,
        ),
        lieu(
            name="Relais solidarité — Trois-Mares",
            kind="pied_immeuble",
            commune="97422",
            address="",
            latitude=-21.2776,
            longitude=55.5155,
            capacity=0,
            has_computers=False,
        ),
        lieu(
            name="Centre hospitalier, salle des familles",
            kind="partenaire",
            commune="13055",
            address="Quai du Port, 13233 Marseille Cedex 20",
            latitude=43.2965,
            longitude=5.3698,
        ),
        *[lieu(name=f"Lieu {i}", kind="autre", opening_hours=hours) for i, hours in enumerate(HOURS_FORMS)],
    ]


COMMUNE_NAMES = {
    "61293": "Mortagne-au-Perche",
    "61029": "Bazoches-sur-Hoëne",
    "97422": "Le Tampon",
    "13055": "Marseille",
}


def exported(lieux: list[Lieu], file_format: str, extensions: bool) -> list[mn.SourceRow]:
    rows = [
        mn.lieu_to_row(x, updated=TODAY, commune_name=COMMUNE_NAMES[x.commune], extensions=extensions) for x in lieux
    ]
    if file_format == "csv":
        return mn.parse_csv(mn.write_csv(rows, extensions=extensions))
    return mn.parse_json(mn.write_json(rows, extensions=extensions))


@pytest.mark.parametrize("file_format", ["csv", "json"])
def test_with_the_extensions_a_new_instance_gets_every_field_back(file_format: str) -> None:
    originals = lieux_to_round_trip()
    for original, row in zip(originals, exported(originals, file_format, extensions=True), strict=True):
        copy = Lieu.open(uuid.uuid4(), **mn.row_to_lieu_data(row.values))
        assert as_tuple(copy, KEPT[:-1]) == as_tuple(original, KEPT[:-1]), original.name
        assert copy.external_id == (original.external_id or str(original.id))


@pytest.mark.parametrize("file_format", ["csv", "json"])
def test_without_them_the_standards_fields_come_back(file_format: str) -> None:
    originals = lieux_to_round_trip()
    for original, row in zip(originals, exported(originals, file_format, extensions=False), strict=True):
        copy = Lieu.open(uuid.uuid4(), **mn.row_to_lieu_data(row.values))
        expressed = ("name", "commune", "address", "latitude", "longitude", "has_computers", "opening_hours")
        assert as_tuple(copy, expressed) == as_tuple(original, expressed), original.name
        assert copy.kind == (original.kind if original.kind in ("mairie", "bus") else "structure")
        assert (copy.capacity, copy.accessible, copy.structure_id) == (0, False, None)


@pytest.mark.parametrize("file_format", ["csv", "json"])
def test_reimporting_an_export_onto_its_lieux_changes_nothing(file_format: str) -> None:
    originals = lieux_to_round_trip()
    for original, row in zip(originals, exported(originals, file_format, extensions=False), strict=True):
        before = as_tuple(original)
        original.change(original.version, **mn.row_to_lieu_data(row.values, original))
        assert (original.version, as_tuple(original)) == (1, before), original.name


@pytest.mark.parametrize("hours", HOURS_FORMS)
def test_every_opening_hours_form_survives_the_standard(hours: str) -> None:
    [row] = exported([lieu(opening_hours=hours)], "csv", extensions=False)
    assert mn.read_row(row.values).opening_hours == OpeningHours.parse(hours)
