"""Lieux to and from the *standard de la médiation numérique*: pure conversions, no I/O.

The standard is the « Schéma de données des lieux de médiation numérique », version 1.0.1,
published by La MedNum and the ANCT (now La Coop de la médiation numérique) as a Frictionless
Table Schema: https://github.com/LaMednum/standard-mediation-num (``schema.json``), documented at
https://schema.data.gouv.fr/LaMednum/standard-mediation-num/1.0.1/documentation.html, and used by
the cartographie nationale and data·inclusion. Licence Ouverte 2.0. Field names, order and
separators were checked against the repository's ``schema.json`` and change log, and against the
cartographie nationale's own writer (``@gouvfr-anct/lieux-de-mediation-numerique``, which joins
list values with ``|``; the repository's README still says ``;``, the 0.x rule). Conventions:

* columns: ``FIELDS``, in the schema's order; required: ``REQUIRED``; one lieu per row;
* CSV: UTF-8, comma between columns, point as decimal separator, a cell holding a comma, a quote
  or a line break is quoted (RFC 4180), dates ISO 8601 (``date_maj``: YYYY-MM-DD);
* several values in one cell (``typologie``, ``services``, ``itinerance``…) are separated by
  ``|`` (1.0.x). Reading also accepts ``;`` (the 0.x separator) and, in the cells Tournées reads,
  ``,`` (seen in published files);
* ``horaires``: OpenStreetMap ``opening_hours`` syntax, read with ``OpeningHours.parse`` (the
  subset Tournées plans with: a cell outside it makes the row invalid rather than guessed);
* JSON: a list of objects with the same field names; ``latitude``/``longitude`` numbers, the
  other values text (lists also accepted as JSON arrays).

The repository's change log also announces a 2.0.0 (``structure_parente`` dropped, ``pivot`` and
``date_maj`` optional). Reading accepts such files (Tournées needs none of those three);
writing follows 1.0.1, whose ``pivot`` is required: without a known SIRET it carries
``PIVOT_UNKNOWN``, the placeholder the national files use for « unknown ».

Mapping (standard → Tournées on import, the reverse on export):

=============================  ==============================================================
``id``                         ``external_id`` (export: ``external_id``, else the lieu's UUID)
``nom``                        ``name``
``code_insee``                 ``commune`` (if empty: found from ``commune``/``code_postal``
                               by the import service)
``adresse``,                   ``address`` = ``adresse, complement_adresse, code_postal
``complement_adresse``,        commune`` (export splits ``"…, NNNNN Commune"`` back; an
``code_postal``, ``commune``   address without that tail goes whole into ``adresse``)
``latitude``, ``longitude``    ``latitude``, ``longitude``
``horaires``                   ``opening_hours``
``typologie``, ``itinerance``  ``kind``: typologie exactly ``MUNI`` → ``mairie``;
                               itinerance ``Itinérant`` without ``Fixe`` → ``bus``; otherwise
                               ``structure`` for a new lieu, while an existing one keeps its
                               kind (unless it was a mairie or bus the row no longer says)
``services``                   ``has_computers`` ⇔ « Accès internet et matériel informatique »
``prise_en_charge_specifique`` ``accessible`` := True when « Handicaps moteurs » (import only)
``structure_parente``          export only: the name of the lieu's structure
``pivot``                      export only: the structure's SIRET, else ``PIVOT_UNKNOWN``
``date_maj``, ``source``       export only: the export's date, ``"Tournées"``
=============================  ==============================================================

What the standard cannot carry: ``capacity``, ``accessible`` (it has no such field; the
acceslibre link is not a yes/no), the kinds ``salle_communale``, ``pied_immeuble``,
``partenaire`` and ``autre``, and ``structure_id``. Re-importing a row onto an existing lieu keeps
them; a new lieu gets capacity 0, not accessible, no structure. The schema declares no extension
mechanism, so a strictly valid export has none of them; ``EXTENSION_FIELDS`` are optional extra
columns (opt-in on export, always read on import) that carry kind, capacity, has_computers and
accessible losslessly between Tournées instances, at the price of a file that a strict
validator flags for its extra columns.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.registry.domain.errors import RuleBroken
from services.registry.domain.geography import check_insee
from services.registry.domain.places import LIEU_KINDS, MAX_CAPACITY, Lieu
from shared.opening_hours import InvalidOpeningHours, OpeningHours

SCHEMA_VERSION = "1.0.1"
SCHEMA_URL = "https://schema.data.gouv.fr/LaMednum/standard-mediation-num/1.0.1/documentation.html"

FIELDS: tuple[str, ...] = (
    "id", "pivot", "nom", "commune", "code_postal", "code_insee", "adresse", "complement_adresse", "latitude",
    "longitude", "typologie", "telephone", "courriels", "site_web", "horaires", "presentation_resume",
    "presentation_detail", "source", "itinerance", "structure_parente", "date_maj", "services",
    "publics_specifiquement_adresses", "prise_en_charge_specifique", "frais_a_charge",
    "dispositif_programmes_nationaux", "formations_labels", "autres_formations_labels", "modalites_acces",
    "modalites_accompagnement", "fiche_acces_libre", "prise_rdv",
)  # fmt: skip
REQUIRED: tuple[str, ...] = ("id", "pivot", "nom", "commune", "code_postal", "adresse", "date_maj", "services")
EXTENSION_FIELDS: tuple[str, ...] = (
    "tournees_kind",
    "tournees_capacity",
    "tournees_has_computers",
    "tournees_accessible",
)

LIST_SEPARATOR = "|"
PIVOT_UNKNOWN = "00000000000000"
SOURCE = "Tournées"
TYPOLOGIE_MAIRIE = "MUNI"
ITINERANT, FIXE = "Itinérant", "Fixe"
SERVICE_MATERIEL = "Accès internet et matériel informatique"
SERVICE_OUTILS = "Maîtrise des outils numériques du quotidien"
"""Written for every lieu: what any permanence or atelier of a conseiller numérique offers."""
HANDICAPS_MOTEURS = "Handicaps moteurs"
IMPLIED_KINDS = ("mairie", "bus")
"""The kinds the standard expresses (through ``typologie`` and ``itinerance``)."""

MAX_ID = 200
MAX_ADDRESS = 300
MAX_HOURS = 2000

_TOURNEES_TO_STANDARD = {
    "name": "nom",
    "commune": "code_insee",
    "address": "adresse",
    "latitude": "latitude",
    "longitude": "longitude",
    "opening_hours": "horaires",
    "external_id": "id",
    "structure_id": "structure_parente",
    "kind": "tournees_kind",
    "capacity": "tournees_capacity",
    "has_computers": "tournees_has_computers",
    "accessible": "tournees_accessible",
}
# "…, 61400 Mortagne-au-Perche": what Tournées writes (and splits on export); _TAIL: any postcode and town at the end.
_SPLIT = re.compile(r"^(?:(?P<street>.*), )?(?P<postcode>\d{5}) (?P<city>[^\d\s,][^,]*)$")
_TAIL = re.compile(r"(?:^|[\s,])(?P<postcode>\d{5}) (?P<city>[^\d\s,][^,]*)$")
_LIST = re.compile(r"[|;,]")
_TRUE, _FALSE = ("true", "1", "oui", "yes", "vrai"), ("false", "0", "non", "no", "faux")

Value = str | float | int | bool
StandardRow = dict[str, Value]
"""One lieu in the standard, typed (numbers and booleans as such); the writers render it."""


class UnreadableDocument(ValueError):
    """The body is not a CSV or JSON document of the standard at all (as opposed to invalid rows)."""


class InvalidRow(ValueError):
    """A row that cannot become a lieu; ``problems`` are (standard field, reason) pairs."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class SourceRow:
    """One row of an imported document: its line (CSV: physical line where the record starts,
    the header being line 1; JSON: index + 1), its cells by lower-case field name, and any
    problem found while reading it."""

    line: int
    values: dict[str, str]
    problems: tuple[tuple[str, str], ...] = ()


# --- reading documents ----------------------------------------------------------------------


def parse_csv(text: str) -> list[SourceRow]:
    """The rows of a CSV document; UnreadableDocument when it cannot be read as one.

    The header names columns (case and surrounding spaces ignored, unknown columns ignored). A
    header with more semicolons than commas is read as semicolon-separated (spreadsheets in
    French locales write that). Blank lines are skipped but counted.
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise UnreadableDocument("the file is empty: expected a header line naming the standard's columns")
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[SourceRow] = []
    header: list[str] | None = None
    consumed = 0
    try:
        for record in reader:
            start, consumed = consumed + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = _header(record)
                continue
            rows.append(_csv_row(start, header, record))
    except csv.Error as error:
        raise UnreadableDocument(f"unreadable CSV from line {consumed + 1}: {error} (a quote left open?)") from None
    if header is None:
        raise UnreadableDocument("the file is empty: expected a header line naming the standard's columns")
    return rows


def _header(record: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in record]
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        raise UnreadableDocument(f"the header names these columns twice: {', '.join(repeated)}")
    if not {"id", "nom"} <= set(names):
        found = ", ".join(repr(n) for n in names[:8] if n) or "none"
        raise UnreadableDocument(
            f"not a file of the standard de la médiation numérique: its header has no 'id' and 'nom' columns "
            f"(found {found})"
        )
    return names


def _csv_row(line: int, header: list[str], record: list[str]) -> SourceRow:
    if len(record) < len(header) or any(cell.strip() for cell in record[len(header) :]):
        problem = ("", f"{len(record)} cells where the header has {len(header)} columns")
        return SourceRow(line, {}, (problem,))
    return SourceRow(line, {name: cell for name, cell in zip(header, record, strict=False) if name})


def parse_json(text: str) -> list[SourceRow]:
    """The rows of a JSON document: a list of objects with the standard's field names."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise UnreadableDocument(f"invalid JSON: {error}") from None
    if not isinstance(document, list):
        raise UnreadableDocument("expected a JSON list of lieux (objects with the standard's fields)")
    rows: list[SourceRow] = []
    for line, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            rows.append(SourceRow(line, {}, (("", "expected an object with the standard's fields"),)))
            continue
        values: dict[str, str] = {}
        problems: list[tuple[str, str]] = []
        for key, value in item.items():
            name = str(key).strip().lower()
            try:
                values[name] = _json_cell(value)
            except ValueError as error:
                problems.append((name, str(error)))
        rows.append(SourceRow(line, values, tuple(problems)))
    return rows


def _json_cell(value: Any, nested: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list) and not nested:
        return LIST_SEPARATOR.join(_json_cell(v, nested=True) for v in value)
    raise ValueError(f"expected text, a number or a list of them, not {type(value).__name__}")


# --- one row to a lieu ----------------------------------------------------------------------


@dataclass(frozen=True)
class StandardLieu:
    """What Tournées takes from one row of the standard; None where the row says nothing."""

    external_id: str
    name: str
    insee: str | None
    commune_name: str
    postcode: str
    address: str
    latitude: float | None
    longitude: float | None
    opening_hours: OpeningHours | None
    kind: str | None
    """From the ``tournees_kind`` extension: wins over ``implied_kind``."""
    implied_kind: str | None
    """``mairie`` or ``bus`` when typologie/itinerance say so."""
    has_computers: bool | None
    accessible: bool | None
    capacity: int | None

    def lieu_data(self, current: Lieu | None = None, *, commune: str | None = None) -> dict[str, Any]:
        """The data ``Lieu.open`` takes (``current`` None), or the changes for ``current.change``.

        Cells left empty keep the current lieu's value; a new lieu needs a commune (``commune``
        when the row has no code_insee), a location and opening hours. InvalidRow otherwise.
        """
        insee = self.insee or commune or (current.commune if current else None)
        latitude = self.latitude if self.latitude is not None else (current.latitude if current else None)
        longitude = self.longitude if self.longitude is not None else (current.longitude if current else None)
        hours = self.opening_hours or (current.opening_hours if current else None)
        problems: list[tuple[str, str]] = []
        if insee is None:
            problems.append(("code_insee", "required (or a commune name and postcode that identify the commune)"))
        if latitude is None or longitude is None:
            problems.append(("latitude", "required by Tournées to place a new lieu (give latitude and longitude)"))
        if hours is None:
            problems.append(("horaires", "required by Tournées to plan in a new lieu (OSM opening_hours syntax)"))
        if problems:
            raise InvalidRow(problems)
        data: dict[str, Any] = {
            "name": self.name,
            "kind": self._kind(current),
            "commune": insee,
            "address": self.address,
            "latitude": latitude,
            "longitude": longitude,
            "capacity": _first(self.capacity, current.capacity if current else None, 0),
            "has_computers": _first(self.has_computers, current.has_computers if current else None, False),
            "accessible": _first(self.accessible, current.accessible if current else None, False),
            "opening_hours": hours,
            "external_id": current.external_id if current else self.external_id,
        }
        if current is None:
            data["structure_id"] = None
        return data

    def _kind(self, current: Lieu | None) -> str:
        if self.kind is not None:
            return self.kind
        if self.implied_kind is not None:
            return self.implied_kind
        if current is not None and current.kind not in IMPLIED_KINDS:
            return current.kind
        return "structure"


def _first(*values: Any) -> Any:
    return next(value for value in values if value is not None)


def read_row(values: Mapping[str, str]) -> StandardLieu:
    """Reads and checks one row (cells by lower-case field name); InvalidRow lists every problem."""
    problems: list[tuple[str, str]] = []

    def text(name: str) -> str:
        return " ".join((values.get(name) or "").split())

    def checked(field: str, read: Any, *args: Any) -> Any:
        try:
            return read(*args)
        except (ValueError, RuleBroken) as error:
            problems.append((field, error.message if isinstance(error, RuleBroken) else str(error)))
            return None

    external_id = (values.get("id") or "").strip()
    if not external_id:
        problems.append(("id", "required: the lieu's identifier in the source"))
    elif len(external_id) > MAX_ID:
        problems.append(("id", f"at most {MAX_ID} characters"))
    name = text("nom")
    if not name:
        problems.append(("nom", "required"))
    insee = checked("code_insee", _insee, text("code_insee")) if text("code_insee") else None
    address = join_address(text("adresse"), text("complement_adresse"), _zero_pad(text("code_postal")), text("commune"))
    if len(address) > MAX_ADDRESS:
        problems.append(("adresse", f"at most {MAX_ADDRESS} characters with its complement, postcode and commune"))
    latitude = checked("latitude", _coordinate, text("latitude"), 90)
    longitude = checked("longitude", _coordinate, text("longitude"), 180)
    if (latitude is None) != (longitude is None) and not any(f in ("latitude", "longitude") for f, _ in problems):
        problems.append(
            ("latitude" if latitude is None else "longitude", "give both latitude and longitude, or neither")
        )
    hours = checked("horaires", _hours, text("horaires")) if text("horaires") else None
    kind = checked("tournees_kind", _kind, text("tournees_kind")) if text("tournees_kind") else None
    capacity = checked("tournees_capacity", _capacity, text("tournees_capacity")) if text("tournees_capacity") else None
    has_computers = _services_say_computers(text("services"))
    if text("tournees_has_computers"):
        has_computers = checked("tournees_has_computers", _boolean, text("tournees_has_computers"))
    accessible = True if _has(text("prise_en_charge_specifique"), HANDICAPS_MOTEURS) else None
    if text("tournees_accessible"):
        accessible = checked("tournees_accessible", _boolean, text("tournees_accessible"))
    if problems:
        raise InvalidRow(problems)
    return StandardLieu(
        external_id=external_id,
        name=name,
        insee=insee,
        commune_name=text("commune"),
        postcode=_zero_pad(text("code_postal")),
        address=address,
        latitude=latitude,
        longitude=longitude,
        opening_hours=hours,
        kind=kind,
        implied_kind=_implied_kind(text("typologie"), text("itinerance")),
        has_computers=has_computers,
        accessible=accessible,
        capacity=capacity,
    )


def row_to_lieu_data(values: Mapping[str, str], current: Lieu | None = None) -> dict[str, Any]:
    """One row straight to ``Lieu.open``'s data (or ``current``'s changes); InvalidRow if it cannot."""
    return read_row(values).lieu_data(current)


def standard_field(tournees_field: str) -> str:
    """The standard's field for a field of the Lieu aggregate (to report the domain's refusals)."""
    return _TOURNEES_TO_STANDARD.get(tournees_field, tournees_field)


def _zero_pad(code: str) -> str:
    """Spreadsheets drop the leading zero of 01001: four digits get it back."""
    return f"0{code}" if len(code) == 4 and code.isdigit() else code


def _insee(code: str) -> str:
    return check_insee(_zero_pad(code.upper()), "code_insee")


def _coordinate(text: str, bound: int) -> float | None:
    if not text:
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or not -bound <= value <= bound:
        raise ValueError(f"{text} is not between -{bound} and {bound}")
    return value


def _hours(text: str) -> OpeningHours:
    if len(text) > MAX_HOURS:
        raise ValueError(f"at most {MAX_HOURS} characters")
    try:
        return OpeningHours.parse(text)
    except InvalidOpeningHours as error:
        raise ValueError(f"{error} (OSM opening_hours subset Tournées reads)") from None


def _kind(text: str) -> str:
    if text not in LIEU_KINDS:
        raise ValueError(f"one of {', '.join(LIEU_KINDS)}")
    return text


def _capacity(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_CAPACITY:
        raise ValueError(f"a number of seats between 0 and {MAX_CAPACITY}")
    return int(text)


def _boolean(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError("true or false")


def _services_say_computers(services: str) -> bool | None:
    return _has(services, SERVICE_MATERIEL) if services else None


def _implied_kind(typologie: str, itinerance: str) -> str | None:
    modes = set(_values(itinerance))
    if fold(ITINERANT) in modes and fold(FIXE) not in modes:
        return "bus"
    if set(_values(typologie)) == {fold(TYPOLOGIE_MAIRIE)}:
        return "mairie"
    return None


def _has(cell: str, value: str) -> bool:
    return fold(value) in _values(cell)


def _values(cell: str) -> list[str]:
    return [fold(v) for v in _LIST.split(cell) if v.strip()]


def fold(text: str) -> str:
    """Accents, case and spacing ignored: « Itinerant », « itinérant » and « Itinérant » match."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def join_address(adresse: str, complement: str, postcode: str, commune: str) -> str:
    """Tournées' one-line address: ``adresse, complement, NNNNN Commune`` (the tail only if not there yet)."""
    address = ", ".join(part for part in (adresse, complement) if part)
    if postcode and commune and not _TAIL.search(address):
        address = f"{address}, {postcode} {commune}" if address else f"{postcode} {commune}"
    return address


def split_address(address: str, commune_name: str) -> tuple[str, str, str]:
    """``(adresse, code_postal, commune)`` for the standard; ``join_address`` puts them back together.

    ``"22 place X, 61400 Mortagne-au-Perche"`` splits when the town is the commune's name; else
    (``"…, 13233 Marseille Cedex 20"``, or no comma before the postcode) the address stays whole
    in ``adresse``, its postcode copied to ``code_postal``. No postcode: ``code_postal`` empty.
    """
    split = _SPLIT.match(address)
    if (
        split
        and not _TAIL.search(split["street"] or "")
        and (not commune_name or _same_town(split["city"], commune_name))
    ):
        return split["street"] or "", split["postcode"], split["city"]
    tail = _TAIL.search(address)
    return address, tail["postcode"] if tail else "", commune_name


def _same_town(a: str, b: str) -> bool:
    return fold(a.replace("-", " ")) == fold(b.replace("-", " "))


# --- a lieu to one row ----------------------------------------------------------------------


def lieu_to_row(
    lieu: Lieu,
    *,
    updated: date,
    commune_name: str = "",
    structure_name: str = "",
    siret: str | None = None,
    extensions: bool = False,
) -> StandardRow:
    """The lieu as a row of the standard (every field; empty text where Tournées knows nothing).

    ``commune_name`` is the commune's official name (the communes table), ``structure_name`` and
    ``siret`` those of the lieu's structure if any; ``updated`` goes to ``date_maj``.
    """
    adresse, postcode, commune = split_address(lieu.address, commune_name)
    services = [SERVICE_OUTILS, *([SERVICE_MATERIEL] if lieu.has_computers else [])]
    row: StandardRow = dict.fromkeys(FIELDS, "")
    row.update(
        id=lieu.external_id or str(lieu.id),
        pivot=siret or PIVOT_UNKNOWN,
        nom=lieu.name,
        commune=commune,
        code_postal=postcode,
        code_insee=lieu.commune,
        adresse=adresse,
        latitude=lieu.latitude,
        longitude=lieu.longitude,
        typologie=TYPOLOGIE_MAIRIE if lieu.kind == "mairie" else "",
        horaires=lieu.opening_hours.to_osm(),
        source=SOURCE,
        itinerance=ITINERANT if lieu.kind == "bus" else FIXE,
        structure_parente=structure_name,
        date_maj=updated.isoformat(),
        services=LIST_SEPARATOR.join(services),
    )
    if extensions:
        row.update(
            tournees_kind=lieu.kind,
            tournees_capacity=lieu.capacity,
            tournees_has_computers=lieu.has_computers,
            tournees_accessible=lieu.accessible,
        )
    return row


def write_csv(rows: Iterable[StandardRow], *, extensions: bool = False) -> str:
    """CSV text: a header with every field of the standard in order (then the extensions, if asked)."""
    columns = FIELDS + (EXTENSION_FIELDS if extensions else ())
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(_csv_cell(row.get(column, "")) for column in columns)
    return out.getvalue()


def _csv_cell(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_json(rows: Iterable[StandardRow], *, extensions: bool = False) -> str:
    """A JSON list of objects: required fields always, optional ones only when not empty."""
    columns = FIELDS + (EXTENSION_FIELDS if extensions else ())
    objects = [
        {column: row[column] for column in columns if column in row and (row[column] != "" or column in REQUIRED)}
        for row in rows
    ]
    return json.dumps(objects, ensure_ascii=False)
