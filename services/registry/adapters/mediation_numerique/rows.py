"""One row of the standard to a lieu's data, and a lieu to one row."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.registry.adapters.mediation_numerique.standard import (
    EXTENSION_FIELDS,
    FIELDS,
    FIXE,
    HANDICAPS_MOTEURS,
    IMPLIED_KINDS,
    ITINERANT,
    LIST_SEPARATOR,
    MAX_ADDRESS,
    MAX_HOURS,
    MAX_ID,
    PIVOT_UNKNOWN,
    SERVICE_MATERIEL,
    SERVICE_OUTILS,
    SOURCE,
    TYPOLOGIE_MAIRIE,
    InvalidRow,
    StandardRow,
)
from services.registry.domain.errors import RuleBroken
from services.registry.domain.geography import check_insee
from services.registry.domain.places import LIEU_KINDS, MAX_CAPACITY, Lieu
from shared.opening_hours import InvalidOpeningHours, OpeningHours

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
# Not text a lieu can hold: NUL (Postgres refuses it), the other control characters that are not whitespace,
# and lone surrogates (a JSON "\ud800": UTF-8 cannot encode them, so no database takes them).
_NOT_TEXT = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]")
_NOT_TEXT_REASON = "holds a control character or an invalid one (a lone surrogate): not text"


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
    if not_text := [name for name in (*FIELDS, *EXTENSION_FIELDS) if _NOT_TEXT.search(values.get(name) or "")]:
        raise InvalidRow([(name, _NOT_TEXT_REASON) for name in not_text])
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
