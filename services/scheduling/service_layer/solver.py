"""Working on a solve request taken from the work queue: one solve per territory at a time, across replicas.

For each request: take the territory's lease (or answer "busy": the message comes back later),
mark the request running, solve off the event loop while a heartbeat writes the progress, renews
the lease and tells JetStream the message is still being worked on; then store the plan (or the
answer) and the finished request in one transaction. A replica killed mid-solve stops renewing:
its lease expires, JetStream hands the message to another replica, which solves again; the
plan's id is the request's, so the work is never stored twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from services.scheduling.domain.model import Plan, PlanError
from services.scheduling.domain.solves import SolveKind, SolveRequest
from services.scheduling.planner.cpsat import Progress
from services.scheduling.service_layer import planning
from services.scheduling.service_layer.errors import NoPlan, PlanNotFound, TerritoryNotFound
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from shared.metrics import SOLVE_GAP, SOLVE_SECONDS

log = logging.getLogger(__name__)

EXPECTED = (NoPlan, PlanError, PlanNotFound, TerritoryNotFound)
"""Failures that are the request's answer, not the solver's fault: retrying would give them again."""


class Outcome(Enum):
    FINISHED = "finished"
    """Done or failed (now, or before): the message has been dealt with."""
    BUSY = "busy"
    """Another solve of the same territory runs: try again a little later."""
    UNKNOWN = "unknown"
    """No such request (its transaction never committed, or it was purged)."""


@dataclass(frozen=True)
class SolverSettings:
    holder: str
    """Who holds a lease: this replica and worker, for the operators."""
    workers: int = 2
    """CP-SAT search threads per solve."""
    lease_s: float = 30.0
    """A lease not renewed for this long is free again (a replica died mid-solve)."""
    heartbeat_s: float = 1.0
    max_attempts: int = 3
    """Solves that crashed (not those answering "no plan") are retried this many times in all."""


class Solver:
    def __init__(self, uow: Callable[[], SchedulingUnitOfWork], settings: SolverSettings) -> None:
        self.uow = uow
        self.settings = settings

    async def work_on(self, request_id: uuid.UUID, keep_alive: Callable[[], Awaitable[Any]]) -> Outcome:
        async with self.uow() as uow:
            request = await uow.solves.get(request_id)
        if request is None:
            return Outcome.UNKNOWN
        if request.finished:
            return Outcome.FINISHED
        if not await self._take_lease(request):
            return Outcome.BUSY
        try:
            await self._start(request)
            await self._solve_and_store(request, keep_alive)
        finally:
            with contextlib.suppress(Exception):  # the lease expires anyway
                await self._release_lease(request)
        return Outcome.FINISHED

    async def _take_lease(self, request: SolveRequest) -> bool:
        async with self.uow() as uow:
            taken = await uow.leases.take(request.territory, request.id, self.settings.holder, self._until())
            if taken:
                await uow.commit()
        return taken

    async def _release_lease(self, request: SolveRequest) -> None:
        async with self.uow() as uow:
            await uow.leases.release(request.territory, request.id)
            await uow.commit()

    async def _start(self, request: SolveRequest) -> None:
        async with self.uow() as uow:
            request.start(_now(), self.settings.holder)
            await uow.solves.save(request)
            await uow.commit()
        log.info("solving %s %s of %s (attempt %d)", request.kind, request.id, request.territory, request.attempts)

    async def _solve_and_store(self, request: SolveRequest, keep_alive: Callable[[], Awaitable[Any]]) -> None:
        latest = _Latest()
        heartbeat = asyncio.create_task(self._heartbeat(request, latest, keep_alive))
        started = time.monotonic()
        kind = request.kind.value
        try:
            answer = await self._solve(request, latest.update)
        except EXPECTED as exc:
            SOLVE_SECONDS.labels(kind, "no_plan").observe(time.monotonic() - started)
            await self._finish(request, latest, error=_why(exc))
            return
        except Exception as exc:
            SOLVE_SECONDS.labels(kind, "error").observe(time.monotonic() - started)
            if request.attempts >= self.settings.max_attempts:
                log.exception("solve %s failed for good", request.id)
                await self._finish(request, latest, error=f"failed after {request.attempts} attempts: {_why(exc)}")
                return
            raise  # the message is redelivered, and the request solved again
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        SOLVE_SECONDS.labels(kind, "done").observe(time.monotonic() - started)
        gap = (answer.figures or {}).get("gap") if isinstance(answer, Plan) else None
        if isinstance(gap, int | float):
            SOLVE_GAP.labels(kind).set(gap)
        await self._finish(request, latest, answer=answer)

    async def _solve(self, request: SolveRequest, on_progress: Callable[[Progress], None]) -> Plan | dict[str, Any]:
        workers, p = self.settings.workers, request.parameters
        match request.kind:
            case SolveKind.PLAN:
                cmd = planning.SolvePlan.of(request.territory, p)
                return await planning.make_plan(cmd, request.id, self.uow(), workers=workers, on_progress=on_progress)
            case SolveKind.REPLAN:
                replan = planning.Replan.of(p)
                return await planning.make_replan(
                    replan, request.id, self.uow(), workers=workers, on_progress=on_progress
                )
            case SolveKind.WHAT_IF:
                what_if = planning.WhatIf.of(request.territory, p)
                return await planning.what_if(what_if, self.uow(), workers=workers, on_progress=on_progress)

    async def _finish(
        self,
        request: SolveRequest,
        latest: _Latest,
        *,
        answer: Plan | dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        request.progress = latest.as_json(request) or request.progress
        async with self.uow() as uow:
            if isinstance(answer, Plan):
                if await uow.plans.get(answer.id) is None:
                    await uow.plans.add(answer)
                result: dict[str, Any] = {"plan_id": str(answer.id), **(answer.figures or {})}
                if request.progress is not None:  # the last progress seen, brought to the proven end
                    request.progress |= {k: result.get(k) for k in ("objective", "bound", "gap")}
            else:
                result = answer or {}
            if error is None:
                request.succeed(_now(), result)
            else:
                request.fail(_now(), error)
            await uow.solves.save(request)
            await uow.commit()
        log.info("solve %s of %s: %s", request.id, request.territory, request.status)

    async def _heartbeat(
        self, request: SolveRequest, latest: _Latest, keep_alive: Callable[[], Awaitable[Any]]
    ) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_s)
            try:
                async with self.uow() as uow:
                    await uow.leases.renew(request.territory, request.id, self._until())
                    progress = latest.as_json(request)
                    if progress is not None:
                        await uow.solves.report_progress(request.id, progress)
                    await uow.commit()
                await keep_alive()
            except Exception:
                log.warning("solve %s: heartbeat failed; will try again", request.id, exc_info=True)

    def _until(self) -> dt.datetime:
        return _now() + dt.timedelta(seconds=self.settings.lease_s)


class _Latest:
    """The latest progress, written by the solver's threads, read by the heartbeat."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._solves = 0
        self._last_elapsed = -1.0

    def update(self, progress: Progress) -> None:
        with self._lock:
            if progress.elapsed_s < self._last_elapsed:
                self._solves += 1  # a what-if's second solve has started
            self._last_elapsed = progress.elapsed_s
            self._progress = progress

    def as_json(self, request: SolveRequest) -> dict[str, Any] | None:
        with self._lock:
            p, solve = self._progress, self._solves + 1
        if p is None:
            return None
        answer: dict[str, Any] = {
            "elapsed_s": round(p.elapsed_s, 1),
            "time_limit_s": request.parameters.get("time_limit_s"),
            "solutions": p.solutions,
            "objective": p.objective,
            "bound": p.bound,
            "gap": None if p.gap is None else round(p.gap, 4),
            "updated_at": _now().isoformat(),
        }
        if request.kind is SolveKind.WHAT_IF:
            answer["solve"] = f"{solve}/2"
        return answer


def _why(exc: BaseException) -> str:
    if isinstance(exc, PlanError):
        return f"{exc.field}: {exc.message}"
    if isinstance(exc, (PlanNotFound, TerritoryNotFound)):
        return f"{type(exc).__name__}: {exc}"
    return str(exc) or type(exc).__name__


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
