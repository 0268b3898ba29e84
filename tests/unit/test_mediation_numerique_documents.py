"""Documents of the standard de la médiation numérique read as CSV and JSON: rows, lines, refusals."""

from __future__ import annotations

import json

import pytest

from services.registry.adapters import mediation_numerique as mn

# --- reading CSV ----------------------------------------------------------------------------


def test_csv_rows_have_their_line_the_header_being_line_1() -> None:
    text = (
        "\ufeff ID ,Nom,Adresse,Commentaire\r\n"
        "a,Premier,1 rue A,\r\n"
        "\r\n"
        'b,"Deuxième, avec une virgule","2 rue ""B""\r\nBâtiment C",x\r\n'
        "c,Troisième,3 rue C,\r\n"
    )
    rows = mn.parse_csv(text)
    assert [(r.line, r.values["id"], r.values["nom"]) for r in rows] == [
        (2, "a", "Premier"),
        (4, "b", "Deuxième, avec une virgule"),
        (6, "c", "Troisième"),
    ]
    assert rows[1].values["adresse"] == '2 rue "B"\r\nBâtiment C'
    assert rows[1].values["commentaire"] == "x"  # unknown columns are kept, and ignored by read_row


def test_semicolon_separated_files_from_spreadsheets_are_read() -> None:
    rows = mn.parse_csv("id;nom;latitude\nx;Mairie; 48,52\n")
    assert rows[0].values == {"id": "x", "nom": "Mairie", "latitude": " 48,52"}


def test_a_row_with_the_wrong_number_of_cells_is_reported_not_guessed() -> None:
    rows = mn.parse_csv("id,nom,adresse\na,A\nb,B,2 rue B,,\nc,C,3 rue C,extra\n")
    assert rows[0].problems == (("", "2 cells where the header has 3 columns"),)
    assert rows[1].problems == ()  # trailing empty cells are fine
    assert rows[1].values["adresse"] == "2 rue B"
    assert rows[2].problems == (("", "4 cells where the header has 3 columns"),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("\n\n  \n", "empty"),
        ("name,address\nx,y\n", "no 'id' and 'nom' columns"),
        ("id,nom,ID\n", "twice: id"),
        ('id,nom\n"a,b\nc,d\n', "line 2"),
        ('id,nom\n"a"b,c\n', "line 2"),
    ],
    ids=["empty", "blank", "not-the-standard", "repeated-column", "open-quote", "junk-after-quote"],
)
def test_documents_that_are_not_csv_of_the_standard_are_refused_whole(text: str, message: str) -> None:
    with pytest.raises(mn.UnreadableDocument, match=message):
        mn.parse_csv(text)


def test_a_header_alone_is_an_empty_import() -> None:
    assert mn.parse_csv(",".join(mn.FIELDS) + "\r\n") == []


# --- reading JSON ---------------------------------------------------------------------------


def test_json_rows_are_objects_numbered_from_1() -> None:
    document = [
        {"id": "a", "nom": "A", "latitude": 48.5, "longitude": -1, "services": ["X", "Y"], "pivot": None},
        "not an object",
        {"id": "c", "nom": {"fr": "C"}},
    ]
    rows = mn.parse_json(json.dumps(document))
    assert rows[0] == mn.SourceRow(
        1, {"id": "a", "nom": "A", "latitude": "48.5", "longitude": "-1", "services": "X|Y", "pivot": ""}
    )
    assert (rows[1].line, rows[1].problems[0][0]) == (2, "")
    assert (rows[2].line, rows[2].problems[0][0]) == (3, "nom")


@pytest.mark.parametrize(
    ("text", "message"),
    [("{", "invalid JSON"), ('{"id": "a"}', "a JSON list"), ("[" * 100_000, "invalid JSON")],
    ids=["truncated", "object", "deeply-nested"],
)
def test_documents_that_are_not_json_lists_are_refused_whole(text: str, message: str) -> None:
    with pytest.raises(mn.UnreadableDocument, match=message):
        mn.parse_json(text)
