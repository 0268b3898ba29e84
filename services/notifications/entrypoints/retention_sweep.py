"""The background sweep that anonymises usagers past the retention (``service_layer.privacy.anonymise_expired``)
and forgets Twilio's status callbacks as old (``service_layer.twilio_webhooks.forget_expired_status_callbacks``)."""

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from services.notifications.service_layer import privacy, twilio_webhooks
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork

log = logging.getLogger(__name__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def worker(
    uow: Callable[[], NotificationsUnitOfWork],
    *,
    retention: dt.timedelta,
    batch: int,
    interval_s: float,
    clock: Callable[[], dt.datetime] = _now,
) -> Callable[[asyncio.Event], Awaitable[None]]:
    """Sweep at start, then every ``interval_s``, until ``stop`` is set (waiting or between two batches).
    A failed sweep is logged and tried again at the next one."""

    async def sweep(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                count = await privacy.anonymise_expired(uow(), clock(), retention, batch, stop)
                forgotten = await twilio_webhooks.forget_expired_status_callbacks(
                    uow(), clock(), retention, batch, stop
                )
            except Exception:
                log.exception("retention sweep failed: tried again in %g s", interval_s)
            else:
                if count or forgotten:
                    log.info("retention sweep: %d usagers anonymised, %d status callbacks forgotten", count, forgotten)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)

    return sweep
