"""Registry use cases: one function each. Each loads through the unit of work, checks who may
do it (``access``), calls the domain, and commits; events leave through the outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from services.registry.adapters.repository import communes_in
from services.registry.domain import commands
from services.registry.domain.conseillers import Conseiller
from services.registry.domain.demand import Demand
from services.registry.domain.errors import Conflict, NotFound, RuleBroken
from services.registry.domain.geography import Commune, Territory, check_insee
from services.registry.domain.places import Lieu, Structure
from services.registry.service_layer import access
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.auth import Principal, Role


@dataclass(frozen=True)
class Page:
    limit: int = 100
    offset: int = 0


# --- territories ----------------------------------------------------------------------------


async def define_territory(cmd: commands.DefineTerritory, uow: RegistryUnitOfWork, who: Principal) -> Territory:
    """Define (or redefine) a territory; communes without demand get the default from population."""
    access.require(who, Role.ADMIN)
    async with uow:
        members, name = await _members(cmd, uow)
        territory = Territory.define(cmd.code, cmd.name or name, members)
        existing = await uow.territories.get(territory.code)
        if existing is not None:
            existing.name, existing.communes = territory.name, territory.communes
            existing.time_zone, existing.holiday_calendar = territory.time_zone, territory.holiday_calendar
            existing.events.append(territory.events.pop())
            territory = existing
        await uow.territories.save(territory)
        for insee in sorted(await uow.demand.missing_among(territory.insee_codes)):
            commune = next(c for c in territory.communes if c.insee == insee)
            await uow.demand.put(Demand.default(insee, commune.population))
        await uow.commit()
    return territory


async def _members(cmd: commands.DefineTerritory, uow: RegistryUnitOfWork) -> tuple[list[Commune], str]:
    kind, _, key = cmd.code.partition(":")
    if kind == "epci":
        found = await uow.communes.of_epci(key)
        return found, (found[0].epci_name or cmd.code) if found else cmd.code
    if kind == "dep":
        return await uow.communes.of_departement(key), f"Département {key}"
    codes = {check_insee(code, "communes") for code in cmd.communes}
    found = await uow.communes.many(codes)
    unknown = sorted(codes - {c.insee for c in found})
    if unknown:
        raise RuleBroken("communes", f"unknown INSEE codes: {', '.join(unknown[:10])}")
    return found, cmd.code


async def get_territory(code: str, uow: RegistryUnitOfWork, who: Principal) -> Territory:
    if not who.may_act_in([code]):
        raise access.Forbidden(f"{code} is not one of your territories")
    async with uow:
        territory = await uow.territories.get(code)
    if territory is None:
        raise NotFound(f"no territory {code}")
    return territory


# --- structures -----------------------------------------------------------------------------


async def register_structure(cmd: commands.RegisterStructure, uow: RegistryUnitOfWork, who: Principal) -> Structure:
    access.require_manager(who)
    async with uow:
        structure = Structure.register(cmd.structure_id, **cmd.data)
        await _known_commune(structure.commune, uow)
        await access.require_commune(who, structure.commune, uow)
        await uow.structures.add(structure)
        await uow.commit()
    return structure


async def update_structure(change: commands.Change, uow: RegistryUnitOfWork, who: Principal) -> Structure:
    async with uow:
        structure = await _structure(change.id, uow, who)
        structure.update(change.version, **change.changes)
        await _known_commune(structure.commune, uow)
        await access.require_commune(who, structure.commune, uow)
        await uow.structures.save(structure)
        await uow.commit()
    return structure


async def archive_structure(change: commands.Change, uow: RegistryUnitOfWork, who: Principal) -> Structure:
    async with uow:
        structure = await _structure(change.id, uow, who)
        structure.archive(change.version)
        await uow.structures.save(structure)
        await uow.commit()
    return structure


async def get_structure(structure_id: uuid.UUID, uow: RegistryUnitOfWork, who: Principal) -> Structure:
    async with uow:
        return await _structure(structure_id, uow, who)


async def _structure(structure_id: uuid.UUID, uow: RegistryUnitOfWork, who: Principal) -> Structure:
    access.require_manager(who)
    structure = await uow.structures.get(structure_id)
    if structure is None:
        raise NotFound(f"no structure {structure_id}")
    await access.require_commune(who, structure.commune, uow)
    return structure


# --- lieux ----------------------------------------------------------------------------------


async def open_lieu(cmd: commands.OpenLieu, uow: RegistryUnitOfWork, who: Principal) -> Lieu:
    access.require_manager(who)
    async with uow:
        lieu = Lieu.open(cmd.lieu_id, **cmd.data)
        await _check_lieu_links(lieu, uow, who)
        await uow.lieux.add(lieu)
        await uow.commit()
    return lieu


async def open_town_hall(cmd: commands.OpenTownHall, uow: RegistryUnitOfWork, who: Principal) -> Lieu:
    """The town hall of a commune becomes a lieu, with its address, location and opening hours."""
    access.require_manager(who)
    async with uow:
        commune = await _known_commune(check_insee(cmd.commune), uow)
        await access.require_commune(who, commune.insee, uow)
        lieu = Lieu.at_town_hall(cmd.lieu_id, commune, cmd.capacity)
        await uow.lieux.add(lieu)
        await uow.commit()
    return lieu


async def change_lieu(change: commands.Change, uow: RegistryUnitOfWork, who: Principal) -> Lieu:
    async with uow:
        lieu = await _lieu(change.id, uow, who)
        lieu.change(change.version, **change.changes)
        await _check_lieu_links(lieu, uow, who)
        await uow.lieux.save(lieu)
        await uow.commit()
    return lieu


async def close_lieu(change: commands.Change, uow: RegistryUnitOfWork, who: Principal) -> Lieu:
    async with uow:
        lieu = await _lieu(change.id, uow, who)
        lieu.close(change.version)
        await uow.lieux.save(lieu)
        await uow.commit()
    return lieu


async def get_lieu(lieu_id: uuid.UUID, uow: RegistryUnitOfWork, who: Principal) -> Lieu:
    async with uow:
        return await _lieu(lieu_id, uow, who)


async def _lieu(lieu_id: uuid.UUID, uow: RegistryUnitOfWork, who: Principal) -> Lieu:
    access.require_manager(who)
    lieu = await uow.lieux.get(lieu_id)
    if lieu is None:
        raise NotFound(f"no lieu {lieu_id}")
    await access.require_commune(who, lieu.commune, uow)
    return lieu


async def _check_lieu_links(lieu: Lieu, uow: RegistryUnitOfWork, who: Principal) -> None:
    await _known_commune(lieu.commune, uow)
    await access.require_commune(who, lieu.commune, uow)
    if lieu.structure_id is not None:
        structure = await uow.structures.get(lieu.structure_id)
        if structure is None or structure.archived:
            raise RuleBroken("structure_id", "no such structure (or archived)")


# --- conseillers ----------------------------------------------------------------------------


async def register_conseiller(cmd: commands.RegisterConseiller, uow: RegistryUnitOfWork, who: Principal) -> Conseiller:
    access.require_manager(who)
    async with uow:
        conseiller = Conseiller.register(cmd.conseiller_id, **cmd.data)
        await _check_conseiller_links(conseiller, uow, who)
        await uow.conseillers.add(conseiller)
        await uow.commit()
    return conseiller


async def update_conseiller(change: commands.Change, uow: RegistryUnitOfWork, who: Principal) -> Conseiller:
    async with uow:
        conseiller = await _conseiller(change.id, uow, who, manage=True)
        conseiller.update(change.version, **change.changes)
        await _check_conseiller_links(conseiller, uow, who)
        await uow.conseillers.save(conseiller)
        await uow.commit()
    return conseiller


async def archive_conseiller(change: commands.Change, uow: RegistryUnitOfWork, who: Principal) -> Conseiller:
    async with uow:
        conseiller = await _conseiller(change.id, uow, who, manage=True)
        conseiller.archive(change.version)
        await uow.conseillers.save(conseiller)
        await uow.commit()
    return conseiller


async def get_conseiller(conseiller_id: uuid.UUID, uow: RegistryUnitOfWork, who: Principal) -> Conseiller:
    async with uow:
        return await _conseiller(conseiller_id, uow, who, manage=False)


async def declare_absence(cmd: commands.DeclareAbsence, uow: RegistryUnitOfWork, who: Principal) -> Conseiller:
    async with uow:
        conseiller = await _conseiller(cmd.conseiller_id, uow, who, manage=False)
        if conseiller.archived:
            raise Conflict("this conseiller is archived")
        conseiller.declare_absence(cmd.absence_id, cmd.start, cmd.end, cmd.kind)
        await uow.conseillers.save(conseiller)
        await uow.commit()
    return conseiller


async def withdraw_absence(
    conseiller_id: uuid.UUID, absence_id: uuid.UUID, uow: RegistryUnitOfWork, who: Principal
) -> Conseiller:
    async with uow:
        conseiller = await _conseiller(conseiller_id, uow, who, manage=False)
        conseiller.withdraw_absence(absence_id)
        await uow.conseillers.save(conseiller)
        await uow.commit()
    return conseiller


async def _conseiller(conseiller_id: uuid.UUID, uow: RegistryUnitOfWork, who: Principal, *, manage: bool) -> Conseiller:
    """Load a conseiller the caller may see; ``manage``: and change (conseillers: not themselves)."""
    if manage:
        access.require_manager(who)
    conseiller = await uow.conseillers.get(conseiller_id)
    if conseiller is None:
        raise NotFound(f"no conseiller {conseiller_id}")
    if who.is_conseiller(conseiller_id) and not manage:
        return conseiller
    if not who.may_act_in(conseiller.territories):
        raise access.Forbidden("this conseiller serves none of your territories")
    return conseiller


async def _check_conseiller_links(conseiller: Conseiller, uow: RegistryUnitOfWork, who: Principal) -> None:
    access.require_territories(who, conseiller.territories)
    known = [await uow.territories.get(code) for code in conseiller.territories]
    missing = [code for code, t in zip(conseiller.territories, known, strict=True) if t is None]
    if missing:
        raise RuleBroken("territories", f"unknown territories: {', '.join(missing)}")
    employer = await uow.structures.get(conseiller.employer_structure_id)
    if employer is None or employer.archived:
        raise RuleBroken("employer_structure_id", "no such structure (or archived)")
    home = await uow.lieux.get(conseiller.home_lieu_id)
    if home is None or home.closed:
        raise RuleBroken("home_lieu_id", "no such lieu (or closed)")
    served = set().union(*(t.insee_codes for t in known if t is not None))
    if home.commune not in served:
        raise RuleBroken("home_lieu_id", "the home lieu is outside the conseiller's territories")


# --- demand and communes --------------------------------------------------------------------


async def set_demand(cmd: commands.SetDemand, uow: RegistryUnitOfWork, who: Principal) -> Demand:
    access.require_manager(who)
    async with uow:
        commune = await _known_commune(check_insee(cmd.commune), uow)
        await access.require_commune(who, commune.insee, uow)
        demand = Demand.override(commune.insee, cmd.individual_hours, cmd.atelier_hours)
        await uow.demand.put(demand)
        await uow.commit()
    return demand


async def reset_demand(commune: str, uow: RegistryUnitOfWork, who: Principal) -> Demand:
    """Back to the default from population."""
    access.require_manager(who)
    async with uow:
        found = await _known_commune(check_insee(commune), uow)
        await access.require_commune(who, found.insee, uow)
        demand = Demand.default(found.insee, found.population)
        await uow.demand.put(demand)
        await uow.commit()
    return demand


async def get_commune(insee: str, uow: RegistryUnitOfWork) -> Commune:
    async with uow:
        commune = await uow.communes.get(insee)
    if commune is None:
        raise NotFound(f"unknown INSEE code {insee}")
    return commune


async def _known_commune(insee: str, uow: RegistryUnitOfWork, field: str = "commune") -> Commune:
    commune = await uow.communes.get(insee)
    if commune is None:
        raise RuleBroken(field, f"unknown INSEE code {insee}")
    return commune


# --- listings -------------------------------------------------------------------------------


async def list_territories(uow: RegistryUnitOfWork, who: Principal, page: Page) -> tuple[list[Any], int]:
    codes = access.territory_filter(who, None)
    async with uow:
        return await uow.territories.page(codes, limit=page.limit, offset=page.offset)


async def list_structures(
    uow: RegistryUnitOfWork, who: Principal, page: Page, *, territory: str | None, commune: str | None,
    kind: str | None, archived: bool,
) -> tuple[list[Structure], int]:  # fmt: skip
    codes = access.territory_filter(who, territory)
    async with uow:
        return await uow.structures.page(
            communes_in=None if codes is None else communes_in(codes), commune=commune, kind=kind,
            archived=archived, limit=page.limit, offset=page.offset,
        )  # fmt: skip


async def list_lieux(
    uow: RegistryUnitOfWork, who: Principal, page: Page, *, territory: str | None, commune: str | None,
    kind: str | None, closed: bool,
) -> tuple[list[Lieu], int]:  # fmt: skip
    codes = access.territory_filter(who, territory)
    async with uow:
        return await uow.lieux.page(
            communes_in=None if codes is None else communes_in(codes), commune=commune, kind=kind,
            closed=closed, limit=page.limit, offset=page.offset,
        )  # fmt: skip


async def list_conseillers(
    uow: RegistryUnitOfWork, who: Principal, page: Page, *, territory: str | None, commune: str | None, archived: bool
) -> tuple[list[Conseiller], int]:
    codes = access.territory_filter(who, territory)
    async with uow:
        return await uow.conseillers.page(
            territories_in=codes, home_commune=commune, archived=archived, limit=page.limit, offset=page.offset
        )


async def list_demand(
    uow: RegistryUnitOfWork, who: Principal, page: Page, *, territory: str, overridden: bool | None
) -> tuple[list[Demand], int]:
    codes = access.territory_filter(who, territory)
    assert codes is not None
    async with uow:
        return await uow.demand.page(communes_in(codes), overridden=overridden, limit=page.limit, offset=page.offset)


async def list_communes(
    uow: RegistryUnitOfWork, page: Page, *, territory: str | None, name: str | None
) -> tuple[list[Commune], int]:
    async with uow:
        return await uow.communes.search(territory=territory, name=name, limit=page.limit, offset=page.offset)
