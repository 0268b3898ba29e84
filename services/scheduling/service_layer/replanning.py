"""Re-plans asked for by registry events (an absence, a closed lieu), made in the background.

The request is written in the transaction that applied the event, so it survives a crash; the
draft's id is the request's, so a request retried after a crash finds its draft made already.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from services.scheduling.domain.model import PlanError
from services.scheduling.service_layer import planning
from services.scheduling.service_layer.handlers import PlanNotFound
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork

log = logging.getLogger(__name__)


async def replan_pending(uow: Callable[[], SchedulingUnitOfWork], *, time_limit_s: float = 10.0) -> int:
    """Make a draft for each pending request; returns how many were handled."""
    async with uow() as work:
        pending = await work.replans.pending()
    for request_id, plan_id, reason in pending:
        async with uow() as work:
            done_before = await work.plans.get(request_id)
        if done_before is not None:
            outcome = f"draft {request_id}"
        else:
            try:
                draft = await planning.replan(
                    planning.Replan(plan_id, reason, time_limit_s, new_plan_id=request_id), uow()
                )
                outcome = f"draft {draft.id}, moving {(draft.figures or {}).get('moved', '?')}"
            except (planning.NoPlan, PlanError, PlanNotFound) as exc:
                outcome = f"no draft: {exc}"
        async with uow() as work:
            await work.replans.finish(request_id, outcome)
            await work.commit()
        log.info("re-plan of %s (%s): %s", plan_id, reason, outcome)
    return len(pending)


async def run(uow: Callable[[], SchedulingUnitOfWork], stop: asyncio.Event, *, interval_s: float = 1.0) -> None:
    """Until ``stop``: handle pending requests; failures are logged and retried, never fatal."""
    while not stop.is_set():
        try:
            handled = await replan_pending(uow)
        except Exception:
            log.exception("re-planning failed; will retry")
            handled = 0
        if not handled:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
