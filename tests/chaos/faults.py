"""The faults, each injected at a random point of the workload: what was done, and how long the system took
to be whole again once the fault was lifted (every service ready, from the outside)."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx

from tests.chaos.system import SMS_TIMEOUT_S, System
from tests.chaos.workload import Workload

RECOVERY_TIMEOUT_S = 120.0

TWILIO_FAULTS = {
    "rate_429": 0.06, "rate_500": 0.04, "rate_503": 0.04, "retry_after_s": 1,
    "rate_timeout": 0.03, "hold_s": SMS_TIMEOUT_S + 2, "timeout_accepted": 0.5,
    "rate_slow": 0.03, "slow_s": 2, "seed": 10,
}  # fmt: skip
"""One create in five fails for the whole run: 6 % 429 with Retry-After, 4 % 500, 4 % 503, 3 % held past the
sender's timeout (half of those accepted first: the sender must find them, not send them again), 3 % slow."""
TWILIO_FAULTS_LABEL = "Twilio: 6 % 429, 4 % 500, 4 % 503, 3 % timeouts (half accepted), 3 % slow (2 s)"


@dataclass(frozen=True)
class Injected:
    kind: str
    at_s: float
    """Seconds since the workload began."""
    lasted_s: float
    """From the fault to its end (a restart, the server back, the clock stepped)."""
    recovered_s: float | None
    """From its end until every service was ready again; None: not within ``RECOVERY_TIMEOUT_S``."""
    detail: str = ""


@dataclass
class Injector:
    system: System
    workload: Workload
    rng: random.Random
    postgres_down_s: float
    began: float

    async def inject(self, kind: str) -> Injected:
        at = time.monotonic()
        detail = await getattr(self, "_" + kind.replace("-", "_"))()
        lifted = time.monotonic()
        recovered = await self.system.ready_within(RECOVERY_TIMEOUT_S)
        return Injected(kind, at - self.began, lifted - at, recovered, detail)

    async def _kill_registry_mid_relay(self) -> str:
        """A burst of writes (events in the outbox), the registry killed while its relay sends them."""
        writes = await self.workload.burst_of_demand(20)
        await asyncio.sleep(self.rng.uniform(0.05, 0.4))
        await self._kill_and_restart("registry")
        await asyncio.gather(*writes)
        return f"{len(writes)} writes in flight"

    async def _kill_scheduling_mid_solve(self) -> str:
        """A later week asked for; scheduling killed while it solves it; the solve finished by its next life."""
        week = self.workload.week_start + dt.timedelta(weeks=1 + len(self.workload.published))
        request_id = await self.workload.plan_week(week)
        status = await self._wait_for_solve_to_start(request_id, timeout_s=30)
        await asyncio.sleep(self.rng.uniform(0.2, 2.0))
        await self._kill_and_restart("scheduling")
        self.workload.follow(self.workload.publish_when_solved(request_id))
        return f"solve of the week of {week} {status} when killed"

    async def _kill_notifications_mid_send(self) -> str:
        """notifications killed while the fake Twilio is receiving its SMS."""
        sending = await self._wait_for_sends(timeout_s=10)
        await asyncio.sleep(self.rng.uniform(0, 0.3))
        await self._kill_and_restart("notifications")
        return "while sending" if sending else "no SMS was going out"

    async def _restart_nats(self) -> str:
        await self.system.supervisor.kill("nats")
        await asyncio.sleep(self.rng.uniform(2, 5))
        await self.system.supervisor.restart("nats")
        return "SIGKILL, restarted on the same port and store"

    async def _stop_postgres(self) -> str:
        await asyncio.to_thread(self.system.postgres.stop)
        await asyncio.sleep(self.postgres_down_s)
        await asyncio.to_thread(self.system.postgres.start)
        return f"stopped (immediate) for {self.postgres_down_s:.0f} s"

    async def _kill_and_restart(self, name: str) -> None:
        await self.system.supervisor.kill(name)
        await self.system.supervisor.restart(name)

    async def _wait_for_solve_to_start(self, request_id: str, timeout_s: float) -> str:
        """The solve request's status once it is no longer queued (or "still queued")."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            request = await self.workload.call("GET", "scheduling", f"/solves/{request_id}")
            if request["status"] != "queued":
                return str(request["status"])
            await asyncio.sleep(0.1)
        return "still queued"

    async def _wait_for_sends(self, timeout_s: float) -> bool:
        """Whether the fake's count of SMS grew within ``timeout_s``."""
        first = await fake_outbound_count(self.system)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            if await fake_outbound_count(self.system) > first:
                return True
        return False


async def fake_outbound_count(system: System) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        stats: dict[str, Any] = (await client.get(f"{system.twilio_url}/_fake/stats")).json()
    return int(stats["outbound"])


async def set_twilio_faults(system: System, faults: dict[str, Any]) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        (await client.put(f"{system.twilio_url}/_fake/faults", json=faults)).raise_for_status()
