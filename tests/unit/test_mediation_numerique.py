"""Lieux to and from the standard de la médiation numérique: reading, checking, writing, round trips."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest

from services.registry.adapters import mediation_numerique as mn
from services.registry.domain.places import Lieu
from shared.opening_hours import OpeningHours

TODAY = date(2026, 11, 26)
KEPT = (
    "name", "kind", "commune", "address", "latitude", "longitude", "capacity", "has_computers", "accessible",
    "opening_hours", "external_id",
)  # fmt: skip
HOURS_FORMS = [
    "Mo 09:00-12:00",
    "Mo-Fr 08:30-12:00,13:30-17:00",
    "Mo,We,Fr 14:00-18:00",
    "Mo-We,Fr 14:00-18:00",
    "Sa-Mo 10:00-12:00",
    "10:00-12:00",
    "Tu",
    "Mo-Fr 09:00-12:00; We closed",
    "off",
    "24/7",
    "Fr 18:00-24:00",
    "PH off",
    "Mo-Fr 09:00-12:00; PH off",
    "Mo-Fr 09:00-12:00; PH off; 2026 Dec 25 off",
    "Mo-Sa 09:00-12:00; 2026 Dec 24-2027 Jan 02 off",
    "Tu-Th 14:00-17:30; 2026 Jul 14-Aug 15 off; 2026 Dec 26 10:00-12:00,14:00-16:00",
    "Mo 08:00-12:00,11:00-14:00",
    "We 2:30-5:00",
]


def lieu(**overrides: Any) -> Lieu:
    data: dict[str, Any] = {
        "name": "EPN de Mortagne-au-Perche", "kind": "structure", "structure_id": None, "commune": "61293",
        "address": "22 place du Général-de-Gaulle, 61400 Mortagne-au-Perche", "latitude": 48.5206,
        "longitude": 0.5465, "capacity": 12, "has_computers": True, "accessible": True,
        "opening_hours": "Mo-Fr 09:00-12:00,14:00-17:00; PH off", "external_id": None,
    } | overrides  # fmt: skip
    return Lieu.open(uuid.uuid4(), **data)


def standard_row(**cells: str) -> dict[str, str]:
    """A row as a published file would have it (every column, most empty)."""
    row = dict.fromkeys(mn.FIELDS, "")
    row |= {
        "id": "structure-1", "pivot": "43493312300029", "nom": "Anonymal", "commune": "Reims", "code_postal": "51100",
        "code_insee": "51454", "adresse": "12 BIS RUE DE LECLERCQ", "latitude": "49.2583", "longitude": "4.0317",
        "horaires": "Mo-Fr 09:00-12:00,14:00-18:30; Sa 08:30-12:00", "date_maj": "2022-06-02",
        "services": "Maîtrise des outils numériques du quotidien",
    }  # fmt: skip
    return row | cells


def problems(values: dict[str, str]) -> list[tuple[str, str]]:
    with pytest.raises(mn.InvalidRow) as caught:
        mn.read_row(values)
    return caught.value.problems


def fields_of(values: dict[str, str]) -> set[str]:
    return {field for field, _ in problems(values)}


def as_tuple(lieu: Lieu, keys: tuple[str, ...] = KEPT) -> tuple[Any, ...]:
    return tuple(getattr(lieu, key) for key in keys)


# --- one row to a lieu ----------------------------------------------------------------------


def test_a_published_row_becomes_a_lieu() -> None:
    data = mn.row_to_lieu_data(standard_row(complement_adresse="Le patio du bois de l'Aulne"))
    assert data == {
        "name": "Anonymal",
        "kind": "structure",
        "commune": "51454",
        "address": "12 BIS RUE DE LECLERCQ, Le patio du bois de l'Aulne, 51100 Reims",
        "latitude": 49.2583,
        "longitude": 4.0317,
        "capacity": 0,
        "has_computers": False,
        "accessible": False,
        "opening_hours": OpeningHours.parse("Mo-Fr 09:00-12:00,14:00-18:30; Sa 08:30-12:00"),
        "external_id": "structure-1",
        "structure_id": None,
    }
    assert Lieu.open(uuid.uuid4(), **data).external_id == "structure-1"


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({"id": ""}, {"id"}),
        ({"id": "x" * 201}, {"id"}),
        ({"nom": "  \n "}, {"nom"}),
        ({"code_insee": "612"}, {"code_insee"}),
        ({"code_insee": "612934"}, {"code_insee"}),
        ({"code_insee": "2C004"}, {"code_insee"}),
        ({"latitude": "quarante-huit"}, {"latitude"}),
        ({"latitude": "200"}, {"latitude"}),
        ({"longitude": "-181"}, {"longitude"}),
        ({"latitude": "nan"}, {"latitude"}),
        ({"longitude": ""}, {"longitude"}),
        ({"horaires": "Mo-Fr 09:00-25:00"}, {"horaires"}),
        ({"horaires": 'Mo-Fr 10:00-20:00 "sur rendez-vous"'}, {"horaires"}),
        ({"horaires": "week 1-53/2 Sa 09:00-12:00"}, {"horaires"}),
        ({"horaires": "Mo 09:00-12:00;" * 200}, {"horaires"}),
        ({"adresse": "x" * 300}, {"adresse"}),
        ({"tournees_kind": "chateau"}, {"tournees_kind"}),
        ({"tournees_capacity": "-2"}, {"tournees_capacity"}),
        ({"tournees_capacity": "501"}, {"tournees_capacity"}),
        ({"tournees_accessible": "peut-être"}, {"tournees_accessible"}),
        ({"nom": "", "code_insee": "123", "horaires": "Mo 25:00-26:00"}, {"nom", "code_insee", "horaires"}),
    ],
)
def test_invalid_cells_are_named_with_the_standards_field(cells: dict[str, str], expected: set[str]) -> None:
    assert fields_of(standard_row(**cells)) == expected


def test_a_reason_says_what_is_wrong() -> None:
    assert problems(standard_row(code_insee="99")) == [("code_insee", "'99' is not an INSEE commune code")]
    [(field, reason)] = problems(standard_row(horaires="Mo-Fr 09:00-25:00"))
    assert field == "horaires"
    assert "25:00" in reason


@pytest.mark.parametrize(
    ("typologie", "itinerance", "kind"),
    [
        ("MUNI", "", "mairie"),
        ("muni", "Fixe", "mairie"),
        ("MUNI|EPN", "", "structure"),  # a municipal EPN is not the town hall
        ("BIB;MUNI", "", "structure"),
        ("EPN", "", "structure"),
        ("", "Itinérant", "bus"),
        ("RFS", "itinerant", "bus"),
        ("", "Itinérant|Fixe", "structure"),
        ("", "", "structure"),
    ],
)
def test_the_kind_comes_from_typologie_and_itinerance(typologie: str, itinerance: str, kind: str) -> None:
    assert mn.row_to_lieu_data(standard_row(typologie=typologie, itinerance=itinerance))["kind"] == kind


@pytest.mark.parametrize(
    ("services", "has_computers"),
    [
        ("Accès internet et matériel informatique", True),
        ("Aide aux démarches administratives|Accès internet et matériel informatique", True),
        ("Aide aux démarches administratives;Acces internet et materiel informatique", True),
        ("Maîtrise des outils numériques du quotidien", False),
        ("Acquisition de matériel informatique à prix solidaire", False),
    ],
)
def test_computers_come_from_the_services(services: str, has_computers: bool) -> None:
    assert mn.row_to_lieu_data(standard_row(services=services))["has_computers"] is has_computers


def test_accessible_when_motor_disabilities_are_supported_else_unknown_so_false() -> None:
    assert mn.row_to_lieu_data(standard_row(prise_en_charge_specifique="Surdité|Handicaps moteurs"))["accessible"]
    assert not mn.row_to_lieu_data(standard_row(prise_en_charge_specifique="Surdité"))["accessible"]


def test_spreadsheet_damage_is_repaired() -> None:
    data = mn.row_to_lieu_data(
        standard_row(code_insee="1001", code_postal="1400", commune="L'Abergement-Clémenciat", latitude=" 46,15 ")
    )
    assert (data["commune"], data["latitude"]) == ("01001", 46.15)
    assert data["address"].endswith(", 01400 L'Abergement-Clémenciat")


def test_whitespace_and_line_breaks_inside_cells_are_collapsed() -> None:
    data = mn.row_to_lieu_data(standard_row(nom="  Maison\r\n France  Services ", adresse="2 rue B\nBâtiment C"))
    assert (data["name"], data["address"]) == ("Maison France Services", "2 rue B Bâtiment C, 51100 Reims")


def test_a_new_lieu_needs_what_tournees_plans_with() -> None:
    standard = mn.read_row(standard_row(code_insee="", latitude="", longitude="", horaires=""))
    with pytest.raises(mn.InvalidRow) as caught:
        standard.lieu_data()
    assert [f for f, _ in caught.value.problems] == ["code_insee", "latitude", "horaires"]
    with pytest.raises(mn.InvalidRow) as caught:
        standard.lieu_data(commune="51454")  # the import service found the commune by its name
    assert [f for f, _ in caught.value.problems] == ["latitude", "horaires"]


def test_an_update_keeps_what_the_row_leaves_empty_and_what_the_standard_cannot_say() -> None:
    current = lieu(kind="salle_communale", capacity=25, accessible=True, external_id="structure-1")
    row = standard_row(code_insee="", latitude="", longitude="", horaires="", services="", code_postal="", commune="")
    changes = mn.row_to_lieu_data(row, current)
    assert changes["commune"] == current.commune
    assert (changes["latitude"], changes["longitude"]) == (current.latitude, current.longitude)
    assert changes["opening_hours"] == current.opening_hours
    assert (changes["kind"], changes["capacity"], changes["has_computers"], changes["accessible"]) == (
        "salle_communale", 25, True, True,
    )  # fmt: skip
    assert "structure_id" not in changes


@pytest.mark.parametrize(
    ("current", "typologie", "itinerance", "kind"),
    [
        ("salle_communale", "", "Fixe", "salle_communale"),
        ("partenaire", "CAF", "", "partenaire"),
        ("partenaire", "MUNI", "", "mairie"),
        ("mairie", "MUNI", "Fixe", "mairie"),
        ("mairie", "RFS", "Fixe", "structure"),  # no longer said to be the town hall
        ("bus", "", "Itinérant", "bus"),
        ("bus", "", "Fixe", "structure"),
        ("pied_immeuble", "", "Itinérant", "bus"),
    ],
)
def test_an_update_changes_the_kind_only_when_the_row_says_another(
    current: str, typologie: str, itinerance: str, kind: str
) -> None:
    row = standard_row(typologie=typologie, itinerance=itinerance)
    assert mn.row_to_lieu_data(row, lieu(kind=current))["kind"] == kind


def test_the_extension_columns_win() -> None:
    row = standard_row(
        typologie="MUNI", services="", tournees_kind="pied_immeuble", tournees_capacity="6",
        tournees_has_computers="false", tournees_accessible="oui",
    )  # fmt: skip
    data = mn.row_to_lieu_data(row, lieu(has_computers=True, accessible=False))
    assert (data["kind"], data["capacity"], data["has_computers"], data["accessible"]) == (
        "pied_immeuble",
        6,
        False,
        True,
    )


def test_domain_fields_map_to_the_standards() -> None:
    assert [mn.standard_field(f) for f in ("name", "commune", "opening_hours", "address", "capacity", "other")] == [
        "nom", "code_insee", "horaires", "adresse", "tournees_capacity", "other",
    ]  # fmt: skip


# --- addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "commune", "split"),
    [
        ("22 place du Général-de-Gaulle, 61400 Mortagne-au-Perche", "Mortagne-au-Perche",
         ("22 place du Général-de-Gaulle", "61400", "Mortagne-au-Perche")),
        ("12 rue A, Bâtiment B, 61400 MORTAGNE AU PERCHE", "Mortagne-au-Perche",
         ("12 rue A, Bâtiment B", "61400", "MORTAGNE AU PERCHE")),
        ("Quai du Port, 13233 Marseille Cedex 20", "Marseille", ("Quai du Port, 13233 Marseille Cedex 20", "13233", "Marseille")),
        ("12 rue A 61400 Mortagne-au-Perche", "Mortagne-au-Perche",
         ("12 rue A 61400 Mortagne-au-Perche", "61400", "Mortagne-au-Perche")),
        ("61400 Mortagne-au-Perche", "Mortagne-au-Perche", ("", "61400", "Mortagne-au-Perche")),
        ("Le bourg", "Saint-Hilaire", ("Le bourg", "", "Saint-Hilaire")),
        ("", "Saint-Hilaire", ("", "", "Saint-Hilaire")),
        ("BP 12, 75001 Paris, 61400 Mortagne-au-Perche", "Mortagne-au-Perche",
         ("BP 12, 75001 Paris, 61400 Mortagne-au-Perche", "61400", "Mortagne-au-Perche")),
        ("Salle « L'Étoile », 1 rue d'Alençon, 61400 Mortagne-au-Perche", "",
         ("Salle « L'Étoile », 1 rue d'Alençon", "61400", "Mortagne-au-Perche")),
    ],
)  # fmt: skip
def test_addresses_split_for_the_standard_and_join_back(
    address: str, commune: str, split: tuple[str, str, str]
) -> None:
    assert mn.split_address(address, commune) == split
    adresse, postcode, town = split
    assert mn.join_address(adresse, "", postcode, town) == address


# --- a lieu to a row ------------------------------------------------------------------------


def test_a_lieu_is_written_with_every_field_of_the_standard() -> None:
    room = lieu(external_id="hub-42")
    row = mn.lieu_to_row(
        room, updated=TODAY, commune_name="Mortagne-au-Perche", structure_name="EPN du Perche", siret="43493312300029"
    )
    assert list(row) == list(mn.FIELDS)
    assert {k: v for k, v in row.items() if v != ""} == {
        "id": "hub-42", "pivot": "43493312300029", "nom": "EPN de Mortagne-au-Perche", "commune": "Mortagne-au-Perche",
        "code_postal": "61400", "code_insee": "61293", "adresse": "22 place du Général-de-Gaulle", "latitude": 48.5206,
        "longitude": 0.5465, "horaires": "Mo-Fr 09:00-12:00,14:00-17:00; PH off", "source": "Tournées",
        "itinerance": "Fixe", "structure_parente": "EPN du Perche", "date_maj": "2026-11-26",
        "services": "Maîtrise des outils numériques du quotidien|Accès internet et matériel informatique",
    }  # fmt: skip


def test_what_tournees_does_not_know_is_written_as_the_national_files_do() -> None:
    mairie = lieu(kind="mairie", has_computers=False)
    row = mn.lieu_to_row(mairie, updated=TODAY)
    assert row["id"] == str(mairie.id)
    assert (row["pivot"], row["typologie"], row["itinerance"]) == ("00000000000000", "MUNI", "Fixe")
    assert row["services"] == "Maîtrise des outils numériques du quotidien"
    assert mn.lieu_to_row(lieu(kind="bus"), updated=TODAY)["itinerance"] == "Itinérant"


def test_csv_has_the_standards_header_and_json_omits_empty_optional_fields() -> None:
    rows = [mn.lieu_to_row(lieu(), updated=TODAY)]
    text = mn.write_csv(rows)
    assert text.split("\r\n")[0] == ",".join(mn.FIELDS)
    [written] = json.loads(mn.write_json(rows))
    assert set(mn.REQUIRED) <= set(written)
    assert not {"telephone", "complement_adresse"} & set(written)
    assert isinstance(written["latitude"], float)
    with_extensions = mn.write_csv([mn.lieu_to_row(lieu(), updated=TODAY, extensions=True)], extensions=True)
    assert with_extensions.split("\r\n")[0].endswith(
        ",tournees_kind,tournees_capacity,tournees_has_computers,tournees_accessible"
    )
    assert with_extensions.split("\r\n")[1].endswith(",structure,12,true,true")


def test_cells_with_commas_quotes_and_line_breaks_survive_csv() -> None:
    tricky: mn.StandardRow = dict.fromkeys(mn.FIELDS, "")
    tricky |= {"id": "a,b", "nom": 'Le "Cube"; salle 2', "adresse": "1 rue A\nBâtiment B,\r\n2e étage", "latitude": 1.5}
    [row] = mn.parse_csv(mn.write_csv([tricky]))
    assert row.values == {k: str(v) for k, v in tricky.items()}
