"""Importing and exporting lieux in the standard de la médiation numérique (see
``adapters/mediation_numerique``).

An import is one unit of work: every valid row is applied and committed together (the lieux'
events go through the outbox with them); an invalid row is reported, with its line and the field
at fault, and skipped. A row is invalid when it cannot be read, breaks a rule of the Lieu
aggregate, names an unknown commune or one outside the caller's territories, places the lieu
more than ``MAX_DISTANCE_KM`` from its commune (typically latitude and longitude swapped), or
repeats an ``id`` of the file. A row whose ``id`` is a lieu's ``external_id`` (or, for
Tournées' own exports, a lieu's UUID) updates that lieu; any other row opens a new lieu.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.registry.adapters import mediation_numerique as mn
from services.registry.adapters.repository import communes_in
from services.registry.domain.errors import Conflict, RuleBroken
from services.registry.domain.geography import Commune
from services.registry.domain.places import Lieu, Structure
from services.registry.service_layer import access
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.auth import Principal, Role
from shared.geo import great_circle_km

MAX_DISTANCE_KM = 150
"""From the commune's centre: wide enough for the largest communes (Guyane), far below a swap."""
EXPORT_PAGE = 500


@dataclass(frozen=True)
class RowProblem:
    line: int
    field: str
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def invalid(self) -> int:
        """Rows refused (a row may have several problems)."""
        return len({problem.line for problem in self.problems})


async def import_lieux(rows: Sequence[mn.SourceRow], uow: RegistryUnitOfWork, who: Principal) -> ImportReport:
    """Apply the valid rows, report the others; admins anywhere, coordinators in their territories."""
    access.require(who, Role.ADMIN, Role.COORDINATOR)
    report = ImportReport()
    async with uow:
        importer = _Importer(uow, who)
        for row in rows:
            try:
                outcome = await importer.apply(row)
            except mn.InvalidRow as invalid:
                report.problems += [RowProblem(row.line, f, reason) for f, reason in invalid.problems]
                continue
            if outcome == "created":
                report.created += 1
            elif outcome == "updated":
                report.updated += 1
            else:
                report.unchanged += 1
        await uow.commit()
    return report


class _Importer:
    """Applies rows one by one within the unit of work; remembers communes and access decisions."""

    def __init__(self, uow: RegistryUnitOfWork, who: Principal) -> None:
        self.uow = uow
        self.who = who
        self.first_line: dict[str, int] = {}
        self.communes: dict[str, Commune | None] = {}
        self.allowed: dict[str, bool] = {}
        self.candidates: dict[str, list[Commune]] = {}

    async def apply(self, row: mn.SourceRow) -> str:
        if row.problems:
            raise mn.InvalidRow(row.problems)
        raw_id = (row.values.get("id") or "").strip()
        if raw_id and (first := self.first_line.setdefault(raw_id, row.line)) != row.line:
            raise mn.InvalidRow([("id", f"{raw_id!r} is already the id of line {first}: ids are unique in a file")])
        standard = mn.read_row(row.values)
        current = await self._existing(standard.external_id)
        if current is not None:
            if current.closed:
                raise mn.InvalidRow([("id", "this id is a lieu closed in Tournées")])
            if not await self._may_act_in(current.commune):
                raise mn.InvalidRow([("id", "this id is a lieu outside your territories")])
        insee = standard.insee or (current.commune if current else await self._commune_by_name(standard))
        commune = await self._commune(insee)
        if commune is None:
            raise mn.InvalidRow([("code_insee", f"unknown INSEE code {insee}")])
        if not await self._may_act_in(insee):
            raise mn.InvalidRow([("code_insee", f"commune {insee} ({commune.name}) is outside your territories")])
        data = standard.lieu_data(current, commune=insee)
        _check_distance(data["latitude"], data["longitude"], commune)
        try:
            if current is None:
                lieu = Lieu.open(uuid.uuid4(), **data)
                await self.uow.lieux.add(lieu)
                return "created"
            version = current.version
            current.change(version, **data)
            if current.version == version:
                return "unchanged"
            await self._save(current)
            return "updated"
        except RuleBroken as broken:
            raise mn.InvalidRow([(mn.standard_field(broken.field), broken.message)]) from None

    async def _existing(self, external_id: str) -> Lieu | None:
        found = await self.uow.lieux.by_external_id(external_id)
        if found is None and _is_uuid(external_id):
            found = await self.uow.lieux.get(uuid.UUID(external_id))
        return found

    async def _save(self, lieu: Lieu) -> None:
        try:
            await self.uow.lieux.save(lieu)
        except Conflict as conflict:
            lieu.events.clear()  # not saved: its LieuChanged must not be published
            raise mn.InvalidRow([("id", str(conflict))]) from None

    async def _commune(self, insee: str) -> Commune | None:
        if insee not in self.communes:
            self.communes[insee] = await self.uow.communes.get(insee)
        return self.communes[insee]

    async def _may_act_in(self, insee: str) -> bool:
        if insee not in self.allowed:
            try:
                await access.require_commune(self.who, insee, self.uow)
                self.allowed[insee] = True
            except access.Forbidden:
                self.allowed[insee] = False
        return self.allowed[insee]

    async def _commune_by_name(self, standard: mn.StandardLieu) -> str:
        """The row has no code_insee: the one commune of that name (among the caller's
        territories for a coordinator, in the postcode's département for an admin)."""
        name, postcode = standard.commune_name, standard.postcode
        if not name:
            raise mn.InvalidRow([("code_insee", "required (or the commune's name, with its postcode)")])
        departements = _departements(postcode)
        matches = [c for c in await self._candidates(departements) if _same_name(c.name, name)]
        if len(matches) > 1 and departements:
            matches = [c for c in matches if c.departement in departements]
        if len(matches) == 1:
            return matches[0].insee
        where = "in your territories" if not self.who.is_admin else f"with postcode {postcode or '(none)'}"
        if not matches:
            raise mn.InvalidRow([("code_insee", f"missing, and no commune named {name!r} {where}")])
        codes = ", ".join(c.insee for c in matches[:5])
        raise mn.InvalidRow([("code_insee", f"missing, and several communes are named {name!r} {where}: {codes}")])

    async def _candidates(self, departements: tuple[str, ...]) -> list[Commune]:
        key = "mine" if not self.who.is_admin else ",".join(departements)
        if key not in self.candidates:
            found: list[Commune] = []
            if not self.who.is_admin:
                for code in sorted(self.who.territories):
                    territory = await self.uow.territories.get(code)
                    found += territory.communes if territory else ()
            else:
                for departement in departements:
                    found += await self.uow.communes.of_departement(departement)
            self.candidates[key] = found
        return self.candidates[key]


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _departements(postcode: str) -> tuple[str, ...]:
    if not re.fullmatch(r"\d{5}", postcode):
        return ()
    if postcode.startswith("20"):
        return ("2A", "2B")
    return (postcode[:3],) if postcode.startswith("97") else (postcode[:2],)


def _same_name(official: str, given: str) -> bool:
    def norm(text: str) -> str:
        words = re.sub(r"[-'’]", " ", text).split()
        return " ".join({"st": "saint", "ste": "sainte"}.get(w, w) for w in mn.fold(" ".join(words)).split())

    return norm(official) == norm(given)


def _check_distance(latitude: float, longitude: float, commune: Commune) -> None:
    if commune.latitude is not None and commune.longitude is not None:
        centre = (commune.latitude, commune.longitude)
    elif commune.location is not None:
        centre = commune.location
    else:
        return
    distance = great_circle_km((latitude, longitude), centre)
    if distance > MAX_DISTANCE_KM:
        raise mn.InvalidRow(
            [("latitude", f"{latitude}, {longitude} is {distance:.0f} km from {commune.name}: "
                          "latitude and longitude swapped, or the wrong commune?")]
        )  # fmt: skip


# --- export ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportedLieu:
    """A lieu with what the standard also wants: its commune's name, its structure's name and SIRET."""

    lieu: Lieu
    commune_name: str
    structure_name: str
    siret: str | None


async def export_lieux(uow: RegistryUnitOfWork, who: Principal, territory: str | None) -> list[Lieu]:
    """The open lieux the caller may list (as ``list_lieux``: admins all or a territory's,
    coordinators theirs), by name."""
    codes = access.territory_filter(who, territory)
    async with uow:
        return await _open_lieux(uow, codes)


async def lieux_for_export(uow: RegistryUnitOfWork, who: Principal, territory: str | None) -> list[ExportedLieu]:
    """``export_lieux``, each with its commune's and structure's names, read in the same transaction."""
    codes = access.territory_filter(who, territory)
    async with uow:
        lieux = await _open_lieux(uow, codes)
        names = {c.insee: c.name for c in await uow.communes.many({lieu.commune for lieu in lieux})}
        structures: dict[uuid.UUID, Structure | None] = {}
        for structure_id in {lieu.structure_id for lieu in lieux if lieu.structure_id is not None}:
            structures[structure_id] = await uow.structures.get(structure_id)
    exported = []
    for lieu in lieux:
        structure = structures.get(lieu.structure_id) if lieu.structure_id else None
        exported.append(
            ExportedLieu(
                lieu,
                commune_name=names.get(lieu.commune, ""),
                structure_name=structure.name if structure else "",
                siret=structure.siret if structure else None,
            )
        )
    return exported


async def _open_lieux(uow: RegistryUnitOfWork, codes: list[str] | None) -> list[Lieu]:
    lieux: list[Lieu] = []
    while True:
        page, total = await uow.lieux.page(
            communes_in=None if codes is None else communes_in(codes), commune=None, kind=None, closed=False,
            limit=EXPORT_PAGE, offset=len(lieux),
        )  # fmt: skip
        lieux += page
        if not page or len(lieux) >= total:
            return lieux
