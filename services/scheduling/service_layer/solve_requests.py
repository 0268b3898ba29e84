"""Asking for a solve: a request row and its message on the solver's work queue, in one transaction.

The API asks (a plan, a re-plan, a what-if) and answers at once with the request; a registry change
that touches a published plan asks for its re-plan in the transaction that applies it. A solver
replica takes the message (``service_layer.solver``); anyone follows the request's progress.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from services.scheduling.domain.model import PlanError
from services.scheduling.domain.solves import SolveKind, SolveRequest, SolveStatus
from services.scheduling.service_layer.errors import PlanNotFound, SolveNotFound, TerritoryNotFound
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from shared.events import SolveRequested


@dataclass(frozen=True)
class RequestSolve:
    kind: SolveKind
    territory: str | None
    """None for a re-plan: the territory is the plan's."""
    parameters: dict[str, Any]
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)
    requested_by: str | None = None


async def request_solve(cmd: RequestSolve, uow: SchedulingUnitOfWork) -> SolveRequest:
    """Idempotent: the same request id gives back the same request (and, once solved, its result)."""
    async with uow:
        existing = await uow.solves.get(cmd.request_id)
        if existing is not None:
            existing.check_same_as(cmd.kind, cmd.territory or existing.territory, cmd.parameters)
            return existing
        if await uow.plans.get(cmd.request_id) is not None:
            raise PlanError("request_id", "this request id is already a plan's")
        territory = await _check(cmd, uow)
        request = await enqueue(uow, cmd.kind, territory, cmd.parameters, cmd.request_id, cmd.requested_by)
        await uow.commit()
    return request


async def enqueue(
    uow: SchedulingUnitOfWork,
    kind: SolveKind,
    territory: str,
    parameters: dict[str, Any],
    request_id: uuid.UUID | None = None,
    requested_by: str | None = None,
) -> SolveRequest:
    """Add a request and its work-queue message to the open unit of work (the caller commits)."""
    request = SolveRequest(
        id=request_id or uuid.uuid4(),
        kind=kind,
        territory=territory,
        parameters=parameters,
        requested_at=dt.datetime.now(dt.UTC),
        requested_by=requested_by,
    )
    await uow.solves.add(request)
    uow.record(SolveRequested(request_id=request.id, territory=territory, kind=kind.value))
    return request


async def _check(cmd: RequestSolve, uow: SchedulingUnitOfWork) -> str:
    """What can be refused at once is refused at once; the solver checks again when it runs."""
    if cmd.kind is SolveKind.REPLAN:
        plan = await uow.plans.get(uuid.UUID(cmd.parameters["plan_id"]))
        if plan is None:
            raise PlanNotFound(cmd.parameters["plan_id"])
        plan.replanned_from(await uow.plans.get(plan.replaces) if plan.replaces else None)
        return plan.territory
    if cmd.territory is None:
        raise PlanError("territory", "a plan or a what-if needs its territory")
    if dt.date.fromisoformat(cmd.parameters["week_start"]).weekday() != 0:
        raise PlanError("week_start", "must be a Monday")
    territory = await uow.territories.get(cmd.territory)
    if territory is None:
        raise TerritoryNotFound(cmd.territory)
    if cmd.kind is SolveKind.WHAT_IF:
        lieu = await uow.lieux.get(uuid.UUID(cmd.parameters["lieu_id"]))
        if lieu is None or lieu.commune not in {c.insee for c in territory.communes}:
            raise PlanError("lieu_id", "not a lieu of this territory")
    return territory.code


async def get_request(request_id: uuid.UUID, uow: SchedulingUnitOfWork) -> SolveRequest:
    async with uow:
        request = await uow.solves.get(request_id)
    if request is None:
        raise SolveNotFound(request_id)
    return request


async def list_requests(
    uow: SchedulingUnitOfWork,
    *,
    territories: Collection[str] | None,
    status: SolveStatus | None,
    limit: int,
    offset: int,
) -> tuple[list[SolveRequest], int]:
    async with uow:
        return await uow.solves.page(
            territories=None if territories is None else frozenset(territories),
            status=status,
            limit=limit,
            offset=offset,
        )
