"""Repositories of the registry: load and save aggregates; track what the unit of work saw."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter
from sqlalchemy import RowMapping, Select, Text, cast, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.adapters.orm import (
    absences,
    communes,
    conseiller_territories,
    conseillers,
    demand,
    lieux,
    structures,
    territories,
    territory_communes,
)
from services.registry.domain.conseillers import Absence, Conseiller
from services.registry.domain.demand import Demand
from services.registry.domain.errors import Conflict
from services.registry.domain.geography import Commune, Territory
from services.registry.domain.places import Lieu, Structure
from services.registry.domain.recurrences import Recurrence
from shared.db import fetch_page
from shared.events import AvailabilitySlot
from shared.opening_hours import OpeningHours

A = TypeVar("A")
_AVAILABILITY = TypeAdapter(tuple[AvailabilitySlot, ...])


class _Tracking(Generic[A]):
    """Remembers the aggregates a unit of work touched, and the version each was read at."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen: list[A] = []
        self._read_versions: dict[Any, int] = {}

    def _track(self, key: Any, aggregate: A, version: int) -> A:
        self._read_versions[key] = version
        self.seen.append(aggregate)
        return aggregate

    async def _save_versioned(self, table: Any, key_column: Any, key: Any, values: dict[str, Any]) -> None:
        """Write ``values`` only if nobody changed the row since it was read; else Conflict (409)."""
        result = await self.session.execute(
            update(table).where(key_column == key, table.c.version == self._read_versions[key]).values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("changed by someone else meanwhile; read it again")
        self._read_versions[key] = values["version"]


class CommuneRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, insee: str) -> Commune | None:
        row = (await self.session.execute(select(communes).where(communes.c.insee == insee))).mappings().first()
        return None if row is None else Commune(**row)

    async def many(self, codes: Iterable[str]) -> list[Commune]:
        query = select(communes).where(communes.c.insee.in_(set(codes))).order_by(communes.c.insee)
        return [Commune(**row) for row in (await self.session.execute(query)).mappings()]

    async def of_epci(self, siren: str) -> list[Commune]:
        query = select(communes).where(communes.c.epci_siren == siren).order_by(communes.c.insee)
        return [Commune(**row) for row in (await self.session.execute(query)).mappings()]

    async def of_departement(self, code: str) -> list[Commune]:
        query = select(communes).where(communes.c.departement == code).order_by(communes.c.insee)
        return [Commune(**row) for row in (await self.session.execute(query)).mappings()]

    async def search(
        self, *, territory: str | None, name: str | None, limit: int, offset: int
    ) -> tuple[list[Commune], int]:
        query = select(communes).order_by(communes.c.insee)
        if territory is not None:
            query = query.where(communes.c.insee.in_(_communes_of([territory])))
        if name:
            query = query.where(func.lower(communes.c.name).contains(name.lower()))
        rows, total = await fetch_page(self.session, query, limit, offset)
        return [Commune(**row) for row in rows], total


def _communes_of(codes: Iterable[str]) -> Select[Any]:
    return select(territory_communes.c.insee).where(territory_communes.c.territory_code.in_(list(codes)))


class TerritoryRepository(_Tracking[Territory]):
    async def get(self, code: str) -> Territory | None:
        row = (await self.session.execute(select(territories).where(territories.c.code == code))).mappings().first()
        if row is None:
            return None
        members = await self.session.execute(
            select(communes).join(territory_communes, territory_communes.c.insee == communes.c.insee)
            .where(territory_communes.c.territory_code == code).order_by(communes.c.insee)
        )  # fmt: skip
        territory = Territory(**row, communes=tuple(Commune(**m) for m in members.mappings()))
        return self._track(code, territory, territory.version)

    async def save(self, territory: Territory) -> None:
        values = {
            "kind": territory.kind,
            "name": territory.name,
            "time_zone": territory.time_zone,
            "holiday_calendar": territory.holiday_calendar,
        }
        if territory.code in self._read_versions:
            territory.version += 1
            await self._save_versioned(
                territories, territories.c.code, territory.code, {**values, "version": territory.version}
            )
            await self.session.execute(
                delete(territory_communes).where(territory_communes.c.territory_code == territory.code)
            )
        else:
            await self.session.execute(
                insert(territories).values(code=territory.code, version=territory.version, **values)
            )
            self._track(territory.code, territory, territory.version)
        await self.session.execute(
            insert(territory_communes),
            [{"territory_code": territory.code, "insee": c.insee} for c in territory.communes],
        )

    async def page(self, codes: Iterable[str] | None, *, limit: int, offset: int) -> tuple[list[RowMapping], int]:
        query = select(territories).order_by(territories.c.code)
        if codes is not None:
            query = query.where(territories.c.code.in_(list(codes)))
        return await fetch_page(self.session, query, limit, offset)

    async def insee_codes(self, codes: Iterable[str]) -> set[str]:
        return set((await self.session.execute(_communes_of(codes))).scalars())


class StructureRepository(_Tracking[Structure]):
    async def add(self, structure: Structure) -> None:
        await self.session.execute(insert(structures).values(id=structure.id, **_structure_row(structure)))
        self._track(structure.id, structure, structure.version)

    async def get(self, structure_id: uuid.UUID) -> Structure | None:
        row = (await self.session.execute(select(structures).where(structures.c.id == structure_id))).mappings().first()
        return None if row is None else self._track(structure_id, Structure(**row), row["version"])

    async def save(self, structure: Structure) -> None:
        await self._save_versioned(structures, structures.c.id, structure.id, _structure_row(structure))

    async def page(
        self, *, communes_in: Select[Any] | None, commune: str | None, kind: str | None, archived: bool,
        limit: int, offset: int,
    ) -> tuple[list[Structure], int]:  # fmt: skip
        query = _filtered(select(structures), structures, communes_in, commune, kind).order_by(structures.c.name)
        if not archived:
            query = query.where(structures.c.archived.is_(False))
        rows, total = await fetch_page(self.session, query, limit, offset)
        return [Structure(**row) for row in rows], total


def _filtered(
    query: Select[Any], table: Any, communes_in: Select[Any] | None, commune: str | None, kind: str | None
) -> Select[Any]:
    if communes_in is not None:
        query = query.where(table.c.commune.in_(communes_in))
    if commune is not None:
        query = query.where(table.c.commune == commune)
    if kind is not None:
        query = query.where(table.c.kind == kind)
    return query


def _structure_row(s: Structure) -> dict[str, Any]:
    return {
        "name": s.name, "kind": s.kind, "commune": s.commune, "address": s.address, "latitude": s.latitude,
        "longitude": s.longitude, "siret": s.siret, "archived": s.archived, "version": s.version,
    }  # fmt: skip


class LieuRepository(_Tracking[Lieu]):
    async def add(self, lieu: Lieu) -> None:
        await self.session.execute(insert(lieux).values(id=lieu.id, **_lieu_row(lieu)))
        self._track(lieu.id, lieu, lieu.version)

    async def get(self, lieu_id: uuid.UUID) -> Lieu | None:
        row = (await self.session.execute(select(lieux).where(lieux.c.id == lieu_id))).mappings().first()
        return None if row is None else self._track(lieu_id, _lieu(row), row["version"])

    async def by_external_id(self, external_id: str) -> Lieu | None:
        row = (await self.session.execute(select(lieux).where(lieux.c.external_id == external_id))).mappings().first()
        return None if row is None else self._track(row["id"], _lieu(row), row["version"])

    async def save(self, lieu: Lieu) -> None:
        await self._save_versioned(lieux, lieux.c.id, lieu.id, _lieu_row(lieu))

    async def page(
        self, *, communes_in: Select[Any] | None, commune: str | None, kind: str | None, closed: bool,
        limit: int, offset: int,
    ) -> tuple[list[Lieu], int]:  # fmt: skip
        query = _filtered(select(lieux), lieux, communes_in, commune, kind).order_by(lieux.c.name, lieux.c.id)
        if not closed:
            query = query.where(lieux.c.closed.is_(False))
        rows, total = await fetch_page(self.session, query, limit, offset)
        return [_lieu(row) for row in rows], total


def _lieu(row: RowMapping) -> Lieu:
    return Lieu(
        **{
            **row,
            "opening_hours": OpeningHours.parse(row["opening_hours"]),
            "recurrences": tuple(_recurrence(item) for item in row["recurrences"]),
        }
    )


def _lieu_row(lieu: Lieu) -> dict[str, Any]:
    return {
        "name": lieu.name, "kind": lieu.kind, "structure_id": lieu.structure_id, "commune": lieu.commune,
        "address": lieu.address, "latitude": lieu.latitude, "longitude": lieu.longitude, "capacity": lieu.capacity,
        "has_computers": lieu.has_computers, "accessible": lieu.accessible,
        "opening_hours": lieu.opening_hours.to_osm(), "recurrences": [_recurrence_json(r) for r in lieu.recurrences],
        "external_id": lieu.external_id, "closed": lieu.closed, "version": lieu.version,
    }  # fmt: skip


def _recurrence_json(r: Recurrence) -> dict[str, Any]:
    return {
        "id": str(r.id), "weekday": r.weekday, "start": r.start.isoformat("minutes"), "end": r.end.isoformat("minutes"),
        "every_weeks": r.every_weeks, "from_date": r.from_date.isoformat() if r.from_date else None, "kind": r.kind,
        "skill": r.skill, "seats": r.seats, "needs_computers": r.needs_computers,
    }  # fmt: skip


def _recurrence(item: dict[str, Any]) -> Recurrence:
    from_date = item["from_date"]
    return Recurrence(
        id=uuid.UUID(item["id"]), weekday=item["weekday"], start=dt.time.fromisoformat(item["start"]),
        end=dt.time.fromisoformat(item["end"]), every_weeks=item["every_weeks"],
        from_date=dt.date.fromisoformat(from_date) if from_date else None, kind=item["kind"], skill=item["skill"],
        seats=item["seats"], needs_computers=item["needs_computers"],
    )  # fmt: skip


class ConseillerRepository(_Tracking[Conseiller]):
    async def add(self, conseiller: Conseiller) -> None:
        await self.session.execute(insert(conseillers).values(id=conseiller.id, **_conseiller_row(conseiller)))
        await self._write_territories(conseiller)
        self._track(conseiller.id, conseiller, conseiller.version)

    async def get(self, conseiller_id: uuid.UUID) -> Conseiller | None:
        row = (
            (await self.session.execute(_conseiller_rows().where(conseillers.c.id == conseiller_id))).mappings().first()
        )
        if row is None:
            return None
        [conseiller] = await self._assemble([row])
        return self._track(conseiller_id, conseiller, conseiller.version)

    async def save(self, conseiller: Conseiller) -> None:
        await self._save_versioned(conseillers, conseillers.c.id, conseiller.id, _conseiller_row(conseiller))
        await self.session.execute(
            delete(conseiller_territories).where(conseiller_territories.c.conseiller_id == conseiller.id)
        )
        await self._write_territories(conseiller)
        await self.session.execute(delete(absences).where(absences.c.conseiller_id == conseiller.id))
        if conseiller.absences:
            await self.session.execute(
                insert(absences),
                [
                    {"id": a.id, "conseiller_id": conseiller.id, "start_date": a.start_date, "start_half": a.start_half,
                     "end_date": a.end_date, "end_half": a.end_half, "kind": a.kind}
                    for a in conseiller.absences
                ],
            )  # fmt: skip

    async def _write_territories(self, conseiller: Conseiller) -> None:
        await self.session.execute(
            insert(conseiller_territories),
            [{"conseiller_id": conseiller.id, "territory_code": code} for code in conseiller.territories],
        )

    async def page(
        self, *, territories_in: Iterable[str] | None, home_commune: str | None, archived: bool, limit: int, offset: int
    ) -> tuple[list[Conseiller], int]:
        query = _conseiller_rows().order_by(conseillers.c.name, conseillers.c.id)
        if territories_in is not None:
            members = select(conseiller_territories.c.conseiller_id).where(
                conseiller_territories.c.territory_code.in_(list(territories_in))
            )
            query = query.where(conseillers.c.id.in_(members))
        if home_commune is not None:
            query = query.where(
                conseillers.c.home_lieu_id.in_(select(lieux.c.id).where(lieux.c.commune == home_commune))
            )
        if not archived:
            query = query.where(conseillers.c.archived.is_(False))
        rows, total = await fetch_page(self.session, query, limit, offset)
        return await self._assemble(rows), total

    async def _assemble(self, rows: Sequence[RowMapping]) -> list[Conseiller]:
        ids = [row["id"] for row in rows]
        codes: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
        away: dict[uuid.UUID, list[Absence]] = {i: [] for i in ids}
        for link in await self.session.execute(
            select(conseiller_territories).where(conseiller_territories.c.conseiller_id.in_(ids))
        ):
            codes[link.conseiller_id].append(link.territory_code)
        for a in (await self.session.execute(select(absences).where(absences.c.conseiller_id.in_(ids)))).mappings():
            away[a["conseiller_id"]].append(
                Absence(a["id"], a["start_date"], a["start_half"], a["end_date"], a["end_half"], a["kind"])
            )
        return [
            Conseiller(
                **{
                    **row,
                    "availability": _availability(row["availability"]),
                    "skills": tuple(row["skills"]),
                    "territories": tuple(sorted(codes[row["id"]])),
                    "absences": sorted(away[row["id"]], key=lambda a: a.first),
                }
            )
            for row in rows
        ]


def _conseiller_rows() -> Select[Any]:
    """The conseillers' columns, availability as its JSON text (``_availability`` reads it)."""
    others = [column for column in conseillers.c if column.name != "availability"]
    return select(*others, cast(conseillers.c.availability, Text).label("availability"))


@functools.lru_cache(maxsize=4096)
def _availability(stored: str) -> tuple[AvailabilitySlot, ...]:
    """Slots are immutable values and conseillers share a few patterns: each stored text is read (and checked)
    once per process, not once per conseiller per request (a page of 50 conseillers has some 500 slots)."""
    return _AVAILABILITY.validate_json(stored)


def _conseiller_row(c: Conseiller) -> dict[str, Any]:
    return {
        "name": c.name, "email": c.email, "phone": c.phone, "employer_structure_id": c.employer_structure_id,
        "home_lieu_id": c.home_lieu_id, "weekly_hours": c.weekly_hours,
        "availability": [s.model_dump(mode="json") for s in c.availability], "skills": list(c.skills),
        "travel_mode": c.travel_mode, "max_travel_minutes_per_day": c.max_travel_minutes_per_day,
        "archived": c.archived, "version": c.version,
    }  # fmt: skip


class DemandRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.changed: list[Demand] = []

    async def get(self, commune: str) -> Demand | None:
        row = (await self.session.execute(select(demand).where(demand.c.commune == commune))).mappings().first()
        return None if row is None else Demand(**row)

    async def missing_among(self, codes: Iterable[str]) -> set[str]:
        codes = set(codes)
        present = set(
            (await self.session.execute(select(demand.c.commune).where(demand.c.commune.in_(codes)))).scalars()
        )
        return codes - present

    async def put(self, value: Demand) -> None:
        values = {
            "individual_hours": value.individual_hours,
            "atelier_hours": value.atelier_hours,
            "overridden": value.overridden,
        }
        result = await self.session.execute(update(demand).where(demand.c.commune == value.commune).values(**values))
        if result.rowcount == 0:  # type: ignore[attr-defined]
            await self.session.execute(insert(demand).values(commune=value.commune, **values))
        self.changed.append(value)

    async def page(
        self, communes_in: Select[Any], *, overridden: bool | None, limit: int, offset: int
    ) -> tuple[list[Demand], int]:
        query = select(demand).where(demand.c.commune.in_(communes_in)).order_by(demand.c.commune)
        if overridden is not None:
            query = query.where(demand.c.overridden.is_(overridden))
        rows, total = await fetch_page(self.session, query, limit, offset)
        return [Demand(**row) for row in rows], total


def communes_in(territory_codes: Iterable[str]) -> Select[Any]:
    """The INSEE codes of these territories' communes, as a subquery for filters."""
    return _communes_of(territory_codes)
