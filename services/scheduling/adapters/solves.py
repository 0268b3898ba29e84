"""Solve requests and the per-territory solver leases, in scheduling's database."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.scheduling.adapters.orm import solve_requests, solver_leases
from services.scheduling.domain.solves import SolveKind, SolveRequest, SolveStatus
from shared.db import fetch_page

_STATE = ("status", "attempts", "worker", "started_at", "finished_at", "progress", "result", "error")


class SolveRequests:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, request: SolveRequest) -> None:
        await self.session.execute(insert(solve_requests).values(**_row(request)))

    async def get(self, request_id: uuid.UUID) -> SolveRequest | None:
        row = (await self.session.execute(select(solve_requests).where(solve_requests.c.id == request_id))).first()
        return _request(row._mapping) if row else None

    async def save(self, request: SolveRequest) -> None:
        values = _row(request)
        await self.session.execute(
            update(solve_requests).where(solve_requests.c.id == request.id).values(**{k: values[k] for k in _STATE})
        )

    async def report_progress(self, request_id: uuid.UUID, progress: dict[str, Any]) -> None:
        await self.session.execute(
            update(solve_requests)
            .where(solve_requests.c.id == request_id, solve_requests.c.status == SolveStatus.RUNNING.value)
            .values(progress=progress)
        )

    async def page(
        self, *, territories: frozenset[str] | None, status: SolveStatus | None, limit: int, offset: int
    ) -> tuple[list[SolveRequest], int]:
        """The newest requests first, and how many there are in all."""
        where: list[ColumnElement[bool]] = []
        if territories is not None:
            where.append(solve_requests.c.territory.in_(sorted(territories)))
        if status is not None:
            where.append(solve_requests.c.status == status.value)
        query = select(solve_requests).where(*where).order_by(solve_requests.c.requested_at.desc(), solve_requests.c.id)
        rows, total = await fetch_page(self.session, query, limit, offset)
        return [_request(row) for row in rows], total


class SolverLeases:
    """ "One solve per territory at a time", across replicas: a row per territory being solved."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take(self, territory: str, request_id: uuid.UUID, holder: str, until: dt.datetime) -> bool:
        """Take the territory's lease for ``request_id``: free, expired, or already this holder's for it.

        Call it alone in its transaction: a lost race on the primary key fails the insert, and the
        transaction is rolled back.
        """
        now = dt.datetime.now(dt.UTC)
        taken = await self.session.execute(
            update(solver_leases)
            .where(
                solver_leases.c.territory == territory,
                or_(
                    solver_leases.c.expires_at < now,
                    and_(solver_leases.c.request_id == request_id, solver_leases.c.holder == holder),
                ),
            )
            .values(request_id=request_id, holder=holder, expires_at=until)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return True
        try:
            await self.session.execute(
                insert(solver_leases).values(
                    territory=territory, request_id=request_id, holder=holder, expires_at=until
                )
            )
        except IntegrityError:
            await self.session.rollback()
            return False  # someone holds it
        return True

    async def renew(self, territory: str, request_id: uuid.UUID, until: dt.datetime) -> bool:
        renewed = await self.session.execute(
            update(solver_leases)
            .where(solver_leases.c.territory == territory, solver_leases.c.request_id == request_id)
            .values(expires_at=until)
        )
        return bool(renewed.rowcount == 1)  # type: ignore[attr-defined]

    async def release(self, territory: str, request_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(solver_leases).where(
                solver_leases.c.territory == territory, solver_leases.c.request_id == request_id
            )
        )


def _row(request: SolveRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "kind": request.kind.value,
        "territory": request.territory,
        "parameters": request.parameters,
        "requested_at": request.requested_at,
        "requested_by": request.requested_by,
        "status": request.status.value,
        "attempts": request.attempts,
        "worker": request.worker,
        "started_at": request.started_at,
        "finished_at": request.finished_at,
        "progress": request.progress,
        "result": request.result,
        "error": request.error,
    }


def _request(row: RowMapping) -> SolveRequest:
    return SolveRequest(
        id=row["id"],
        kind=SolveKind(row["kind"]),
        territory=row["territory"],
        parameters=row["parameters"],
        requested_at=row["requested_at"],
        requested_by=row["requested_by"],
        status=SolveStatus(row["status"]),
        attempts=row["attempts"],
        worker=row["worker"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        progress=row["progress"],
        result=row["result"],
        error=row["error"],
    )
