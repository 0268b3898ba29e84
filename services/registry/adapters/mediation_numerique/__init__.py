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

from services.registry.adapters.mediation_numerique.documents import parse_csv, parse_json, write_csv, write_json
from services.registry.adapters.mediation_numerique.rows import (
    StandardLieu,
    fold,
    join_address,
    lieu_to_row,
    read_row,
    row_to_lieu_data,
    split_address,
    standard_field,
)
from services.registry.adapters.mediation_numerique.standard import (
    EXTENSION_FIELDS,
    FIELDS,
    PIVOT_UNKNOWN,
    REQUIRED,
    SCHEMA_URL,
    SCHEMA_VERSION,
    InvalidRow,
    SourceRow,
    StandardRow,
    UnreadableDocument,
)

__all__ = [
    "EXTENSION_FIELDS", "FIELDS", "PIVOT_UNKNOWN", "REQUIRED", "SCHEMA_URL", "SCHEMA_VERSION", "InvalidRow",
    "SourceRow", "StandardLieu", "StandardRow", "UnreadableDocument", "fold", "join_address", "lieu_to_row",
    "parse_csv", "parse_json", "read_row", "row_to_lieu_data", "split_address", "standard_field", "write_csv",
    "write_json",
]  # fmt: skip
