"""Repositories of scheduling's copy of the registry: upserts from events, reads for the planner and the API.

Upserts are single ``INSERT … ON CONFLICT DO UPDATE`` statements (SQLite and Postgres both
have it), so two writers of one row can never both insert.
"""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, exists, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.scheduling.adapters.copy_rows import (
    absence_from_row,
    conseiller_from_row,
    lieu_from_row,
    lieu_values,
    slot_json,
)
from services.scheduling.adapters.orm import absences, conseillers, demand, lieux, structures, territories
from services.scheduling.adapters.orm import territory_communes as communes
from services.scheduling.domain.registry_copy import (
    Absence,
    Commune,
    Conseiller,
    Demand,
    Lieu,
    Structure,
    Territory,
)
from shared.db import fetch_page


async def upsert_row(
    session: AsyncSession, table: Table, values: dict[str, Any], *, keep: Collection[str] = ()
) -> None:
    """Insert ``values``, or update the row with the same primary key (leaving the ``keep`` columns as they are)."""
    key = [column.name for column in table.primary_key.columns]
    changed = [name for name in values if name not in key and name not in keep]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(table).values(values)
        await session.execute(pg.on_conflict_do_update(index_elements=key, set_={c: pg.excluded[c] for c in changed}))
    elif dialect == "sqlite":
        lite = sqlite.insert(table).values(values)
        await session.execute(
            lite.on_conflict_do_update(index_elements=key, set_={c: lite.excluded[c] for c in changed})
        )
    else:
        raise NotImplementedError(f"no upsert for the {dialect} dialect")


def _json_contains_any(session: AsyncSession, array: Any, codes: Collection[str]) -> ColumnElement[bool]:
    """``array`` (a JSON list of strings) holds at least one of ``codes``."""
    if session.get_bind().dialect.name == "postgresql":
        elements = func.json_array_elements_text(array).table_valued("value")
    else:
        elements = func.json_each(array).table_valued("value")
    return exists(select(literal(1)).select_from(elements).where(elements.c.value.in_(sorted(codes))))


def _lieu_filters(
    territories: Collection[str] | None, commune: str | None, include_closed: bool
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if territories is not None:
        where.append(lieux.c.commune.in_(select(communes.c.insee).where(communes.c.code.in_(sorted(territories)))))
    if commune is not None:
        where.append(lieux.c.commune == commune)
    if not include_closed:
        where.append(lieux.c.closed.is_(False))
    return where


def _conseiller_filters(
    session: AsyncSession, territories: Collection[str] | None, include_archived: bool
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if territories is not None:
        where.append(_json_contains_any(session, conseillers.c.territories, territories))
    if not include_archived:
        where.append(conseillers.c.archived.is_(False))
    return where


class TerritoryCopies:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def replace(self, territory: Territory) -> None:
        """The territory as defined now: its communes replace the ones it had."""
        values = {
            "code": territory.code,
            "kind": territory.kind,
            "name": territory.name,
            "time_zone": territory.time_zone,
            "holiday_calendar": territory.holiday_calendar,
        }
        await upsert_row(self.session, territories, values)
        await self.session.execute(delete(communes).where(communes.c.code == territory.code))
        if territory.communes:
            await self.session.execute(
                communes.insert(),
                [
                    {
                        "code": territory.code,
                        "insee": c.insee,
                        "name": c.name,
                        "population": c.population,
                        "latitude": c.latitude,
                        "longitude": c.longitude,
                    }
                    for c in territory.communes
                ],
            )

    async def get(self, code: str) -> Territory | None:
        row = (await self.session.execute(select(territories).where(territories.c.code == code))).first()
        if row is None:
            return None
        rows = await self.session.execute(select(communes).where(communes.c.code == code).order_by(communes.c.insee))
        return Territory(
            code=row.code,
            kind=row.kind,
            name=row.name,
            time_zone=row.time_zone,
            holiday_calendar=row.holiday_calendar,
            communes=tuple(
                Commune(insee=c.insee, name=c.name, population=c.population, latitude=c.latitude, longitude=c.longitude)
                for c in rows
            ),
        )

    async def commune_names(self, insee_codes: Collection[str]) -> dict[str, str]:
        """The name of each of these communes found in any territory of the copy (by INSEE code)."""
        if not insee_codes:
            return {}
        query = (
            select(communes.c.insee, communes.c.name)
            .where(communes.c.insee.in_(sorted(insee_codes)))
            .order_by(communes.c.insee, communes.c.code)
        )
        names: dict[str, str] = {}
        for insee, name in await self.session.execute(query):
            names.setdefault(insee, name)
        return names


class StructureCopies:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, structure: Structure) -> None:
        values = {
            "structure_id": structure.id,
            "name": structure.name,
            "kind": structure.kind,
            "commune": structure.commune,
            "latitude": structure.latitude,
            "longitude": structure.longitude,
            "archived": structure.archived,
        }
        await upsert_row(self.session, structures, values)

    async def get(self, structure_id: uuid.UUID) -> Structure | None:
        row = (await self.session.execute(select(structures).where(structures.c.structure_id == structure_id))).first()
        if row is None:
            return None
        m = row._mapping
        return Structure(
            id=m["structure_id"],
            name=m["name"],
            kind=m["kind"],
            commune=m["commune"],
            latitude=m["latitude"],
            longitude=m["longitude"],
            archived=m["archived"],
        )


class LieuCopies:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, lieu: Lieu, *, reopen: bool) -> None:
        """A snapshot of the lieu; it stays closed if it was, unless ``reopen``."""
        values = lieu_values(lieu)
        await upsert_row(self.session, lieux, values, keep=() if reopen else ("closed",))

    async def close(self, lieu_id: uuid.UUID) -> Lieu | None:
        """Mark the lieu closed and return it; None when it is not in the copy."""
        result = await self.session.execute(
            update(lieux).where(lieux.c.lieu_id == lieu_id).values(closed=True).returning(*lieux.c)
        )
        row = result.first()
        return None if row is None else lieu_from_row(row._mapping)

    async def get(self, lieu_id: uuid.UUID) -> Lieu | None:
        row = (await self.session.execute(select(lieux).where(lieux.c.lieu_id == lieu_id))).first()
        return None if row is None else lieu_from_row(row._mapping)

    async def list(
        self,
        *,
        territories: Collection[str] | None,
        commune: str | None,
        include_closed: bool,
        limit: int,
        offset: int,
    ) -> list[Lieu]:
        """Lieux in the communes of any of ``territories`` (None: anywhere), ordered by name."""
        items, _ = await self.page(
            territories=territories, commune=commune, include_closed=include_closed, limit=limit, offset=offset
        )
        return items

    async def page(
        self, *, territories: Collection[str] | None, commune: str | None, include_closed: bool, limit: int, offset: int
    ) -> tuple[builtins.list[Lieu], int]:
        """A page of them, and how many there are in all."""
        where = _lieu_filters(territories, commune, include_closed)
        query = select(lieux).where(*where).order_by(lieux.c.name, lieux.c.lieu_id)
        rows, total = await fetch_page(self.session, query, limit, offset)
        return [lieu_from_row(row) for row in rows], total


class ConseillerCopies:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, conseiller: Conseiller) -> None:
        values = {
            "conseiller_id": conseiller.id,
            "name": conseiller.name,
            "employer_structure_id": conseiller.employer_structure_id,
            "home_lieu_id": conseiller.home_lieu_id,
            "weekly_hours": conseiller.weekly_hours,
            "availability": [slot_json(slot) for slot in conseiller.availability],
            "skills": list(conseiller.skills),
            "travel_mode": conseiller.travel_mode,
            "max_travel_minutes_per_day": conseiller.max_travel_minutes_per_day,
            "territories": list(conseiller.territories),
            "archived": conseiller.archived,
        }
        await upsert_row(self.session, conseillers, values)

    async def by_ids(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Conseiller]:
        rows = await self.session.execute(select(conseillers).where(conseillers.c.conseiller_id.in_(set(ids))))
        return {c.id: c for c in (conseiller_from_row(row._mapping) for row in rows)}

    async def list(
        self, *, territories: Collection[str] | None, include_archived: bool, limit: int, offset: int
    ) -> list[Conseiller]:
        """Conseillers working in any of ``territories`` (None: anywhere), ordered by name."""
        items, _ = await self.page(
            territories=territories, include_archived=include_archived, limit=limit, offset=offset
        )
        return items

    async def page(
        self, *, territories: Collection[str] | None, include_archived: bool, limit: int, offset: int
    ) -> tuple[builtins.list[Conseiller], int]:
        """A page of them, and how many there are in all."""
        where = _conseiller_filters(self.session, territories, include_archived)
        query = select(conseillers).where(*where).order_by(conseillers.c.name, conseillers.c.conseiller_id)
        rows, total = await fetch_page(self.session, query, limit, offset)
        return [conseiller_from_row(row) for row in rows], total


class AbsenceCopies:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, absence: Absence) -> None:
        values = {
            "absence_id": absence.id,
            "conseiller_id": absence.conseiller_id,
            "start_date": absence.start_date,
            "start_half": absence.start_half,
            "end_date": absence.end_date,
            "end_half": absence.end_half,
            "kind": absence.kind,
        }
        await upsert_row(self.session, absences, values)

    async def remove(self, absence_id: uuid.UUID) -> bool:
        """Forget the absence; False when it is not in the copy."""
        result = await self.session.execute(delete(absences).where(absences.c.absence_id == absence_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def of(self, conseiller_ids: Iterable[uuid.UUID], *, overlapping: tuple[dt.date, dt.date]) -> list[Absence]:
        """The absences of these conseillers that touch the days from ``overlapping[0]`` to ``[1]`` included."""
        first, last = overlapping
        query = (
            select(absences)
            .where(
                absences.c.conseiller_id.in_(set(conseiller_ids)),
                absences.c.start_date <= last,
                absences.c.end_date >= first,
            )
            .order_by(absences.c.start_date, absences.c.absence_id)
        )
        return [absence_from_row(row._mapping) for row in await self.session.execute(query)]


class DemandCopies:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, item: Demand) -> None:
        values = {
            "commune": item.commune,
            "individual_hours": item.individual_hours,
            "atelier_hours": item.atelier_hours,
            "overridden": item.overridden,
        }
        await upsert_row(self.session, demand, values)

    async def of(self, insee_codes: Sequence[str]) -> dict[str, Demand]:
        rows = await self.session.execute(select(demand).where(demand.c.commune.in_(set(insee_codes))))
        return {row.commune: Demand(**row._mapping) for row in rows}
