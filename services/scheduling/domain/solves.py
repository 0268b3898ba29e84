"""Solve requests: what a coordinator (or a registry change) asked the solver to do, and how far it got.

A request is queued, taken by one solver replica at a time (``running``, with its progress),
and ends ``done`` (with its plan, or its answer for a what-if) or ``failed`` (with why). Its id is
the id of the plan it makes, so asking again with the same id gives back the same result.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.scheduling.domain.model import PlanError


class SolveKind(StrEnum):
    PLAN = "plan"
    """Plan a territory's week from scheduling's copy of the registry."""
    REPLAN = "replan"
    """Re-plan a published plan, moving as little as possible."""
    WHAT_IF = "what_if"
    """How much more one more conseiller would cover; nothing is stored but the answer."""


class SolveStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass
class SolveRequest:
    id: uuid.UUID
    kind: SolveKind
    territory: str
    parameters: dict[str, Any]
    """What to solve, in JSON terms (week_start, days, time_limit_s; plan_id and reason; lieu_id...)."""
    requested_at: dt.datetime
    requested_by: str | None = None
    status: SolveStatus = SolveStatus.QUEUED
    attempts: int = 0
    worker: str | None = None
    """The solver replica that took it last."""
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    progress: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in (SolveStatus.DONE, SolveStatus.FAILED)

    @property
    def plan_id(self) -> uuid.UUID | None:
        """The plan a done plan or re-plan request made (its own id)."""
        if self.status is SolveStatus.DONE and self.kind is not SolveKind.WHAT_IF:
            return self.id
        return None

    def check_same_as(self, kind: SolveKind, territory: str, parameters: dict[str, Any]) -> None:
        """A request id may be sent again (a retry), but not for something else."""
        if (self.kind, self.territory, self.parameters) != (kind, territory, parameters):
            raise PlanError("request_id", "this request id was used for another request")

    def start(self, now: dt.datetime, worker: str) -> None:
        self.status = SolveStatus.RUNNING
        self.attempts += 1
        self.worker = worker
        self.started_at = now
        self.progress = None

    def succeed(self, now: dt.datetime, result: dict[str, Any]) -> None:
        self.status, self.finished_at, self.result, self.error = SolveStatus.DONE, now, result, None

    def fail(self, now: dt.datetime, error: str) -> None:
        self.status, self.finished_at, self.error = SolveStatus.FAILED, now, error[:2000]
