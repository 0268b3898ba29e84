"""The standard's fields, conventions and row types (see the package's docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
