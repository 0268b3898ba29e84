"""Scheduling's copy of the registry: applying registry events to it (and asking for the re-plans they
call for), and reading it."""

import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from services.scheduling.adapters.repository import published_permanences
from services.scheduling.domain.model import Permanence
from services.scheduling.domain.registry_copy import (
    Absence,
    AvailabilitySlot,
    Commune,
    Conseiller,
    Demand,
    Lieu,
    Recurrence,
    Structure,
    Territory,
)
from services.scheduling.domain.solves import SolveKind
from services.scheduling.planner.blocks import half_of
from services.scheduling.planner.scenario import holiday_names
from services.scheduling.service_layer.errors import ConseillerNotFound, TerritoryNotFound
from services.scheduling.service_layer.planning import EVERYONE, Replan
from services.scheduling.service_layer.solve_requests import enqueue
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from shared.events import (
    AbsenceDeclared,
    AbsenceWithdrawn,
    ConseillerFields,
    ConseillerRegistered,
    ConseillerUpdated,
    DemandChanged,
    Envelope,
    Event,
    LieuChanged,
    LieuClosed,
    LieuFields,
    LieuOpened,
    StructureFields,
    StructureRegistered,
    StructureUpdated,
    TerritoryDefined,
)

log = logging.getLogger(__name__)

REGISTRY_CONSUMER = "scheduling-registry"
"""The durable consumer (and inbox name) that feeds the copy from the whole REGISTRY stream."""


# --- the copy of the registry -----------------------------------------------------------------


async def apply_registry_event(envelope: Envelope, event: Event, uow: SchedulingUnitOfWork) -> None:
    """Apply one registry event to the copy, in one transaction, at most once per event."""
    apply = _APPLY.get(type(event))
    if apply is None:
        raise TypeError(f"scheduling's copy has no use for {event.subject}")
    async with uow:
        if not await uow.begin_applying(REGISTRY_CONSUMER, envelope):
            return
        await apply(event, uow)
        await uow.commit()


async def _territory_defined(event: TerritoryDefined, uow: SchedulingUnitOfWork) -> None:
    communes = tuple(
        Commune(insee=c.insee, name=c.name, population=c.population, latitude=c.latitude, longitude=c.longitude)
        for c in event.communes
    )
    await uow.territories.replace(
        Territory(
            code=event.code,
            kind=event.kind,
            name=event.name,
            time_zone=event.time_zone,
            holiday_calendar=event.holiday_calendar,
            communes=communes,
        )
    )


async def _structure_snapshot(event: StructureFields, uow: SchedulingUnitOfWork) -> None:
    await uow.structures.upsert(
        Structure(
            id=event.structure_id,
            name=event.name,
            kind=event.kind,
            commune=event.commune,
            latitude=event.latitude,
            longitude=event.longitude,
            archived=event.archived,
        )
    )


def _lieu(event: LieuFields) -> Lieu:
    return Lieu(
        id=event.lieu_id,
        name=event.name,
        kind=event.kind,
        structure_id=event.structure_id,
        commune=event.commune,
        latitude=event.latitude,
        longitude=event.longitude,
        capacity=event.capacity,
        has_computers=event.has_computers,
        accessible=event.accessible,
        opening_hours=event.opening_hours,
        recurrences=tuple(
            Recurrence(
                id=r.recurrence_id,
                weekday=r.weekday,
                start=r.start,
                end=r.end,
                every_weeks=r.every_weeks,
                from_date=r.from_date,
                kind=r.kind,
                skill=r.skill,
                seats=r.seats,
                needs_computers=r.needs_computers,
            )
            for r in event.recurrences
        ),
    )


async def _lieu_opened(event: LieuOpened, uow: SchedulingUnitOfWork) -> None:
    await uow.lieux.upsert(_lieu(event), reopen=True)


async def _lieu_changed(event: LieuChanged, uow: SchedulingUnitOfWork) -> None:
    await uow.lieux.upsert(_lieu(event), reopen=False)  # a change to a closed lieu does not reopen it


async def _lieu_closed(event: LieuClosed, uow: SchedulingUnitOfWork) -> None:
    lieu = await uow.lieux.close(event.lieu_id)
    if lieu is None:
        log.warning("lieu %s closed but not in the copy", event.lieu_id)
        return
    now = dt.datetime.now(dt.UTC)
    touched = {
        plan_id for plan_id, _, p in await published_permanences(uow.session, lieu_id=event.lieu_id) if p.ends_at > now
    }
    for plan_id in sorted(touched):
        await _ask_replan(uow, plan_id, f"lieu fermé : {lieu.name}")


async def _conseiller_snapshot(event: ConseillerFields, uow: SchedulingUnitOfWork) -> None:
    await uow.conseillers.upsert(
        Conseiller(
            id=event.conseiller_id,
            name=event.name,
            employer_structure_id=event.employer_structure_id,
            home_lieu_id=event.home_lieu_id,
            weekly_hours=event.weekly_hours,
            availability=tuple(
                AvailabilitySlot(weekday=s.weekday, half=s.half, every_weeks=s.every_weeks, from_date=s.from_date)
                for s in event.availability
            ),
            skills=tuple(event.skills),
            travel_mode=event.travel_mode,
            max_travel_minutes_per_day=event.max_travel_minutes_per_day,
            territories=tuple(event.territories),
            archived=event.archived,
        )
    )


async def _absence_declared(event: AbsenceDeclared, uow: SchedulingUnitOfWork) -> None:
    absence = Absence(
        id=event.absence_id,
        conseiller_id=event.conseiller_id,
        start_date=event.start_date,
        start_half=event.start_half,
        end_date=event.end_date,
        end_half=event.end_half,
        kind=event.kind,
    )
    await uow.absences.upsert(absence)
    # A published plan with a permanence in the absence gets a re-plan draft (made by the worker).
    touched = {
        plan_id
        for plan_id, zone, p in await published_permanences(uow.session, conseiller_id=event.conseiller_id)
        if _during(absence, p, zone)
    }
    for plan_id in sorted(touched):
        await _ask_replan(
            uow,
            plan_id,
            f"absence du {_when(event.start_date, event.start_half)} au {_when(event.end_date, event.end_half)}",
        )


async def _ask_replan(uow: SchedulingUnitOfWork, plan_id: uuid.UUID, reason: str) -> None:
    """In the transaction applying the event: a re-plan request on the solver's queue (its draft is
    a proposal; a coordinator publishes it)."""
    plan = await uow.plans.get(plan_id)
    if plan is not None:
        await enqueue(uow, SolveKind.REPLAN, plan.territory, Replan(plan_id, reason).parameters())


def _during(absence: Absence, permanence: Permanence, zone: str) -> bool:
    local = permanence.starts_at.astimezone(ZoneInfo(zone))
    return absence.covers(local.date(), half_of(local.time()))


def _when(day: dt.date, half: str) -> str:
    return f"{day:%d/%m} {'matin' if half == 'am' else 'après-midi'}"


async def _absence_withdrawn(event: AbsenceWithdrawn, uow: SchedulingUnitOfWork) -> None:
    if not await uow.absences.remove(event.absence_id):
        log.warning("absence %s withdrawn but not in the copy", event.absence_id)


async def _demand_changed(event: DemandChanged, uow: SchedulingUnitOfWork) -> None:
    await uow.demand.upsert(
        Demand(
            commune=event.commune,
            individual_hours=event.individual_hours,
            atelier_hours=event.atelier_hours,
            overridden=event.overridden,
        )
    )


_APPLY: dict[type[Event], Callable[[Any, SchedulingUnitOfWork], Awaitable[None]]] = {
    TerritoryDefined: _territory_defined,
    StructureRegistered: _structure_snapshot,
    StructureUpdated: _structure_snapshot,
    LieuOpened: _lieu_opened,
    LieuChanged: _lieu_changed,
    LieuClosed: _lieu_closed,
    ConseillerRegistered: _conseiller_snapshot,
    ConseillerUpdated: _conseiller_snapshot,
    AbsenceDeclared: _absence_declared,
    AbsenceWithdrawn: _absence_withdrawn,
    DemandChanged: _demand_changed,
}

REGISTRY_EVENTS: tuple[type[Event], ...] = tuple(_APPLY)
"""The registry events the copy is made of: what the ``scheduling-registry`` consumer takes."""


async def list_conseillers(
    uow: SchedulingUnitOfWork,
    *,
    territories: Collection[str] | None,
    include_archived: bool = False,
    limit: int,
    offset: int,
) -> tuple[list[Conseiller], int]:
    """A page of the conseillers working in any of ``territories`` (None: all), and how many in all."""
    async with uow:
        return await uow.conseillers.page(
            territories=territories, include_archived=include_archived, limit=limit, offset=offset
        )


async def list_lieux(
    uow: SchedulingUnitOfWork,
    *,
    territories: Collection[str] | None,
    commune: str | None = None,
    include_closed: bool = False,
    limit: int,
    offset: int,
) -> tuple[list[Lieu], int]:
    """A page of the lieux in the communes of any of ``territories`` (None: all), optionally of one commune,
    and how many in all."""
    async with uow:
        return await uow.lieux.page(
            territories=territories, commune=commune, include_closed=include_closed, limit=limit, offset=offset
        )


@dataclass(frozen=True)
class Week:
    """What a coordinator's week grid shows besides the plan: public holidays and absences."""

    territory: Territory
    days: list[dt.date]
    holidays: dict[dt.date, str]
    absences: list[Absence]
    """Of the territory's conseillers, touching one of ``days``."""


async def week_of(code: str, week_start: dt.date, days: int, uow: SchedulingUnitOfWork) -> Week:
    dates = [week_start + dt.timedelta(days=i) for i in range(days)]
    async with uow:
        territory = await uow.territories.get(code)
        if territory is None:
            raise TerritoryNotFound(code)
        conseillers = await uow.conseillers.list(territories=[code], include_archived=False, limit=EVERYONE, offset=0)
        absences = await uow.absences.of([c.id for c in conseillers], overlapping=(dates[0], dates[-1]))
    return Week(territory, dates, holiday_names(territory.holiday_calendar, dates), absences)


async def get_territory(code: str, uow: SchedulingUnitOfWork) -> Territory:
    async with uow:
        territory = await uow.territories.get(code)
    if territory is None:
        raise TerritoryNotFound(code)
    return territory


async def get_conseiller(conseiller_id: uuid.UUID, uow: SchedulingUnitOfWork) -> Conseiller:
    async with uow:
        found = (await uow.conseillers.by_ids([conseiller_id])).get(conseiller_id)
    if found is None:
        raise ConseillerNotFound(conseiller_id)
    return found
