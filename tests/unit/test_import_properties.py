"""Files of the standard de la médiation numérique as they come: every valid row becomes its lieu and
imports once; anything else is reported by row and field, never raised as another error."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.registry.adapters import mediation_numerique as mn
from services.registry.domain.errors import RuleBroken
from services.registry.domain.places import LIEU_KINDS, Lieu
from shared.opening_hours import InvalidOpeningHours, OpeningHours
from tests.unit.test_mediation_numerique import HOURS_FORMS, KEPT, TODAY

COLUMNS = {*mn.FIELDS, *mn.EXTENSION_FIELDS, ""}
COMMUNES = {"61293": (48.52, 0.547, "Mortagne-au-Perche"), "97422": (-21.28, 55.52, "Le Tampon"), "2A004": (41.93, 8.74, "Ajaccio")}  # fmt: skip
NOT_TEXT = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Names as people write them: accents, quotes, the CSV and list separators, line breaks, emoji.
WRITTEN = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")) | st.sampled_from(",;|\"'\n\t«»’"))


@st.composite
def lieux(draw: st.DrawFn) -> Lieu:
    insee = draw(st.sampled_from(sorted(COMMUNES)))
    latitude, longitude, town = COMMUNES[insee]
    street = draw(st.sampled_from(["", "3 rue de l'Église", "Salle n°2, place X", "Lieu-dit « Les Prés »"]))
    return Lieu.open(
        uuid.uuid4(),
        name=draw(WRITTEN.filter(lambda name: name.strip() and len(" ".join(name.split())) <= 200)),
        kind=draw(st.sampled_from(LIEU_KINDS)),
        structure_id=None,
        commune=insee,
        address=draw(st.sampled_from([street, f"{street}, 61400 {town}".lstrip(", ")])),
        latitude=latitude + draw(st.floats(-0.05, 0.05)),
        longitude=longitude + draw(st.floats(-0.05, 0.05)),
        capacity=draw(st.integers(0, 500)),
        has_computers=draw(st.booleans()),
        accessible=draw(st.booleans()),
        opening_hours=draw(st.sampled_from(HOURS_FORMS)),
        external_id=draw(st.none() | WRITTEN.map(str.strip).filter(lambda id_: 0 < len(id_) <= 200)),
    )


def _document(rows: list[dict[str, Any]], form: str, columns: tuple[str, ...]) -> str:
    """A file as publishers write it: CSV (comma or semicolon, with a BOM or not) or JSON."""
    if form == "json":
        return json.dumps(rows, ensure_ascii=False)
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";" if form == "csv;" else ",", lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([row.get(column, "") for column in columns] for row in rows)
    return ("\ufeff" if form == "csv+bom" else "") + out.getvalue()


FORMS = st.sampled_from(["csv", "csv;", "csv+bom", "json"])


def _read(document: str, form: str) -> list[mn.SourceRow]:
    return mn.parse_json(document) if form == "json" else mn.parse_csv(document)


def _import(row: mn.SourceRow, current: Lieu | None = None) -> Lieu:
    """What the import service does with one row, without the database: InvalidRow when it is refused."""
    if row.problems:
        raise mn.InvalidRow(row.problems)
    standard = mn.read_row(row.values)
    data = standard.lieu_data(current, commune=None if current else standard.insee)
    try:
        if current is None:
            return Lieu.open(uuid.uuid4(), **data)
        current.change(current.version, **data)
        return current
    except RuleBroken as broken:
        raise mn.InvalidRow([(mn.standard_field(broken.field), broken.message)]) from None


# --- valid rows -----------------------------------------------------------------------------------


@SETTINGS
@given(st.lists(lieux(), min_size=1, max_size=4), FORMS)
def test_a_valid_row_becomes_its_lieu_and_imports_once(originals, form):
    columns = mn.FIELDS + mn.EXTENSION_FIELDS
    rows = [mn.lieu_to_row(lieu, updated=TODAY, commune_name=COMMUNES[lieu.commune][2], extensions=True) for lieu in originals]  # fmt: skip
    document = _document(rows, form, columns) if form != "json" else mn.write_json(rows, extensions=True)
    read = _read(document, form)
    assert len(read) == len(originals)
    for original, row in zip(originals, read, strict=True):
        imported = _import(row)
        expected = {key: getattr(original, key) for key in KEPT} | {"external_id": original.external_id or str(original.id)}  # fmt: skip
        assert {key: getattr(imported, key) for key in KEPT} == expected
        assert _import(row, imported).version == imported.version  # the same row again changes nothing


# --- anything else --------------------------------------------------------------------------------

CELLS = st.one_of(
    WRITTEN,
    st.text(),  # control characters and lone surrogates too
    st.tuples(WRITTEN, st.sampled_from("\x00\x07\x1b\x7f\x9f\ud800\udfff"), WRITTEN).map("".join),
    st.sampled_from(
        [
            "48,52",
            "nan",
            "inf",
            "-0",
            "1e400",
            "91",
            "2A004",
            "97422",
            "6129",
            "501",
            "oui",
            "Mo-Fr 25:00-26:00",
            "2026 Feb 30",
            "MUNI",
            "Itinérant",
        ]
    ),
    st.integers().map(str),
    st.text(min_size=1, max_size=3).map(lambda piece: piece * 3000),  # huge
)
JSON_CELLS = st.none() | st.booleans() | st.floats() | st.integers() | CELLS | st.lists(CELLS, max_size=3) | st.dictionaries(st.text(max_size=3), CELLS, max_size=2)  # fmt: skip


@st.composite
def mutated_rows(draw: st.DrawFn, json_cells: bool) -> dict[str, Any]:
    original = draw(lieux())
    row: dict[str, Any] = dict(mn.lieu_to_row(original, updated=TODAY, extensions=draw(st.booleans())))
    read = ["id", "nom", "adresse", "complement_adresse", "commune", "code_postal", "code_insee", "horaires"]
    for column in draw(st.lists(st.sampled_from(sorted(row) + read * 3), min_size=1, max_size=4, unique=True)):
        if draw(st.booleans()):
            del row[column]
        else:
            row[column] = draw(JSON_CELLS if json_cells else CELLS)
    return row


def _check_refusal_or_lieu(row: mn.SourceRow) -> None:
    """Refused naming fields of the standard, or a lieu that holds only what a database can keep."""
    try:
        lieu = _import(row)
    except mn.InvalidRow as refused:
        problems = refused.problems
    else:
        assert not NOT_TEXT.search(f"{lieu.name} {lieu.address} {lieu.external_id or ''}")
        return
    assert problems
    assert {field for field, _ in problems} <= COLUMNS, problems


@SETTINGS
@given(st.lists(mutated_rows(json_cells=False), min_size=1, max_size=3), st.sampled_from(["csv", "csv;", "csv+bom"]))
def test_a_mutated_csv_row_is_imported_or_reported_with_its_line_and_field(rows, form):
    columns = tuple(sorted({column for row in rows for column in row}))
    try:
        read = _read(_document(rows, form, columns), form)
    except mn.UnreadableDocument:
        assert not {"id", "nom"} <= set(columns)  # refused whole only when it is no file of the standard
        return
    lines = [row.line for row in read]
    assert lines == sorted(set(lines))
    assert all(line >= 2 for line in lines)  # the header is line 1
    for row in read:
        _check_refusal_or_lieu(row)


@SETTINGS
@given(st.lists(mutated_rows(json_cells=True) | JSON_CELLS, max_size=3))
def test_a_mutated_json_row_is_imported_or_reported_with_its_index_and_field(rows):
    read = mn.parse_json(json.dumps(rows))
    assert [row.line for row in read] == list(range(1, len(rows) + 1))
    for row in read:
        _check_refusal_or_lieu(row)


@settings(max_examples=500, deadline=None)
@given(st.text() | st.binary().map(lambda raw: raw.decode("utf-8", "replace")))
def test_any_text_is_a_document_or_unreadable(text):
    for parse in (mn.parse_csv, mn.parse_json):
        try:
            rows = parse(text)
        except mn.UnreadableDocument:
            continue
        for row in rows:
            _check_refusal_or_lieu(row)


# --- opening hours ----------------------------------------------------------------------------------

DAYS = st.sampled_from(["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su", "PH", "SH", "Xx", "mo"])
SELECTORS = st.lists(st.tuples(DAYS, st.none() | DAYS), min_size=1, max_size=3).map(
    lambda days: ",".join(first if last is None else f"{first}-{last}" for first, last in days)
)
CLOCKS = st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(0, 30), st.integers(0, 70)) | st.sampled_from(["24:00", "09:00", "9:00"])  # fmt: skip
SPANS = st.lists(st.builds(lambda a, b: f"{a}-{b}", CLOCKS, CLOCKS), min_size=1, max_size=3).map(",".join) | st.sampled_from(["off", "closed"])  # fmt: skip
DATES = st.builds(
    lambda year, month, day, to: f"{year} {month} {day}{to}",
    st.sampled_from(["2026", "0001", "9999", "0000"]),
    st.sampled_from(["Jan", "Feb", "Dec", "Foo"]),
    st.sampled_from(["1", "01", "29", "31", "32", "0"]),
    st.sampled_from(["", "-02", "-Jan 05", "-2027 Jan 01", "-9999 Dec 31"]),
)
RULES = st.one_of(
    st.builds(lambda days, spans: f"{days} {spans}", SELECTORS, SPANS),
    SELECTORS,
    st.builds(lambda dates, spans: f"{dates} {spans}", DATES, SPANS),
    DATES,
    st.sampled_from(["24/7", "PH off", "PH 09:00-12:00", "off", ""]),
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(RULES, min_size=1, max_size=5).map("; ".join) | st.text())
def test_any_opening_hours_read_back_the_same_or_are_refused_as_such(text):
    try:
        hours = OpeningHours.parse(text)
    except InvalidOpeningHours:  # any other exception fails the test
        return
    assert OpeningHours.parse(hours.to_osm()) == hours


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.text(max_size=10)
        | st.sampled_from(["lundi", "dimanche", "09:00:00", "24:00:00"]),
        lambda inner: st.lists(inner, max_size=3),
        max_leaves=10,
    ).map(json.dumps)
    | st.text()
)
def test_any_town_hall_hours_are_read_or_refused_as_such(text):
    with contextlib.suppress(InvalidOpeningHours):  # any other exception fails the test
        OpeningHours.from_mairie_horaires(text)
