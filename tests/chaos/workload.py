"""What the system is asked to do while the faults come: a territory set up through the APIs, its week planned
and published, usagers booked into its permanences, demand changed at the registry, later weeks planned.

The workload is a client as a real one would be: a request that fails (refused, cut, 5xx, 503) is sent again
until it succeeds, and what it knows comes from answers, not from the services' databases. It remembers what
was acknowledged, which the invariants compare with what happened.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.chaos.system import System
from tournees.demo import run as demo
from tournees.demo.territories import Scenario

RETRY_FOR_S = 180.0
"""How long a request is tried again: longer than any fault lasts, plus a restart."""
EMAIL_EVERY = 10
"""One usager in ten prefers e-mail."""


class Refused(RuntimeError):
    """A 4xx answer: the request itself was wrong or not allowed; sending it again would not help."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"{status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail


@dataclass(frozen=True)
class Booked:
    """A booking the notifications service acknowledged (201, or 409 "already booked" on a retry)."""

    phone: str
    email: str | None
    permanence_id: str
    starts_at: dt.datetime
    time_zone: str
    asked_at: dt.datetime
    """The services' clock when the first attempt left: the booking was made between this and ``answered_at``."""
    answered_at: dt.datetime

    @property
    def channel(self) -> str:
        return "email" if self.email else "sms"


@dataclass
class Workload:
    system: System
    scenario: Scenario
    week_start: dt.date
    rng: random.Random
    http: httpx.AsyncClient = field(init=False)
    permanences: list[dict[str, Any]] = field(default_factory=list)
    """The bookable permanences of the published week: those from its Tuesday on."""
    booked: list[Booked] = field(default_factory=list)
    communes: list[str] = field(default_factory=list)
    """The territory's, whose demand the workload writes."""
    demand: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Each commune's last acknowledged demand (individual, atelier hours)."""
    demand_in_doubt: set[str] = field(default_factory=set)
    """Communes with a write whose answer never came: its value may or may not have been applied."""
    published: dict[str, int] = field(default_factory=dict)
    """Plan id → how many permanences it published."""
    solve_time_limit_s: float = 10.0
    failures: Counter[str] = field(default_factory=Counter)
    """Why requests had to be sent again: an exception's type, or the status of an answer."""
    empty_plans: int = 0
    full: set[str] = field(default_factory=set)

    tasks: list[asyncio.Task[object]] = field(default_factory=list)
    """Work the faults started (a solve to publish once done): awaited before the checks."""

    def __post_init__(self) -> None:
        self.token = self.system.token()
        headers = {"Authorization": f"Bearer {self.token}"}
        self.http = httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(15, connect=2))

    def follow(self, work: Coroutine[Any, Any, object]) -> None:
        self.tasks.append(asyncio.create_task(work))

    async def close(self) -> None:
        await self.http.aclose()

    async def call(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        """The answer's JSON; tried again on anything but a 4xx for ``RETRY_FOR_S``."""
        deadline = time.monotonic() + RETRY_FOR_S
        while True:
            try:
                response = await self.http.request(method, f"{self.system.url(service)}{path}", **kwargs)
            except httpx.TransportError as exc:
                failure = f"{type(exc).__name__}"
            else:
                if response.status_code < 400:
                    return response.json()
                if response.status_code < 500 and response.status_code != 429:
                    raise Refused(response.status_code, response.text[:300])
                failure = f"{response.status_code}"
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method} {service}{path}: still failing after {RETRY_FOR_S:.0f} s ({failure})")
            self.failures[failure] += 1
            await asyncio.sleep(0.3 + self.rng.random() * 0.4)

    # --- before the faults ------------------------------------------------------------------------

    async def prepare(self) -> None:
        """The territory set up, copied by scheduling, its week planned, published and received."""
        api = demo.Api(self.http, {name: self.system.url(name) for name in ("registry", "scheduling", "notifications")})
        await demo.set_up(api, self.scenario, first_person=0)
        expected = len(self.scenario.posts)

        async def copied() -> bool:
            page = await self.call("GET", "scheduling", "/conseillers", params={"limit": 500})
            return bool(page["total"] == expected)

        await demo._eventually(copied, "the conseillers reaching scheduling", timeout_s=120)
        territory = await self.call("GET", "registry", f"/territories/{self.scenario.code}")
        self.communes = sorted(territory["communes"])
        plan_id = await self.publish_when_solved(await self.plan_week(self.week_start))
        if plan_id is None:
            raise RuntimeError(f"the solver found no plan of {self.scenario.code} in {self.solve_time_limit_s} s")

        async def received() -> list[dict[str, Any]] | None:
            items: list[dict[str, Any]] = await self.call("GET", "notifications", "/permanences",
                                                          params={"plan_id": plan_id, "limit": 1000})  # fmt: skip
            return items if len(items) == self.published[plan_id] else None

        week = await demo._eventually(received, "the published week reaching notifications", timeout_s=120)
        tuesday = dt.datetime.combine(
            self.week_start + dt.timedelta(days=1), dt.time(), ZoneInfo(territory["time_zone"])
        )
        self.permanences = [p for p in week if dt.datetime.fromisoformat(p["starts_at"]) >= tuesday]
        if not self.permanences:
            raise RuntimeError("the planned week has no permanence from its Tuesday on to book into")

    # --- while the faults come --------------------------------------------------------------------

    async def book(self, count: int, seconds: float, workers: int = 4) -> None:
        """``count`` usagers booked, spread over about ``seconds``."""
        numbers = iter(range(count))
        pause = seconds * workers / max(count, 1)

        async def worker() -> None:
            for n in numbers:
                started = time.monotonic()
                await self._book_one(n)
                await asyncio.sleep(max(0.0, pause - (time.monotonic() - started)))

        await asyncio.gather(*(worker() for _ in range(workers)))

    async def _book_one(self, n: int) -> None:
        email = f"usager.{n}@chaos.example" if n % EMAIL_EVERY == EMAIL_EVERY - 1 else None
        phone = f"+3362{n:07d}"
        body: dict[str, Any] = {"name": f"Usager {n}", "phone": phone, "consent": True,
                                "territory": self.scenario.code, "preferred_channel": "email" if email else "sms"}  # fmt: skip
        if email:
            body["email"] = email
        usager = await self.call("POST", "notifications", "/usagers", json=body)
        while True:
            open_ = [p for p in self.permanences if p["id"] not in self.full]
            if not open_:
                return  # every seat taken: the report says how many were booked
            permanence = open_[n % len(open_)]
            asked = self.system.clock.earliest_now()
            try:
                await self.call("POST", "notifications", "/bookings",
                                json={"usager_id": usager["id"], "permanence_id": permanence["id"]})  # fmt: skip
            except Refused as refused:
                if refused.status_code == 409 and "full" in refused.detail:
                    self.full.add(permanence["id"])
                    continue
                if refused.status_code != 409 or "already booked" not in refused.detail:
                    raise
                # "already booked": an earlier attempt was made, its answer lost
            starts = dt.datetime.fromisoformat(permanence["starts_at"])
            self.booked.append(
                Booked(phone, email, permanence["id"], starts, permanence["time_zone"], asked, self.system.clock.now())
            )
            return

    async def change_demand(self, stop: asyncio.Event, every_s: float = 0.5) -> None:
        """One commune's demand set again and again: each write an event the registry relays to scheduling."""
        while not stop.is_set():
            await self.set_demand(self.rng.choice(self.communes))
            await asyncio.sleep(every_s)

    async def set_demand(self, commune: str) -> None:
        hours = (self.rng.randrange(0, 40) / 2, self.rng.randrange(0, 20) / 2)
        self.demand_in_doubt.add(commune)
        await self.call("PUT", "registry", f"/demand/{commune}",
                        json={"individual_hours": hours[0], "atelier_hours": hours[1]})  # fmt: skip
        self.demand[commune] = hours
        self.demand_in_doubt.discard(commune)

    async def burst_of_demand(self, size: int) -> list[asyncio.Task[None]]:
        """``size`` writes at once (a relay batch's worth of events), left running."""
        communes = self.rng.sample(self.communes, min(size, len(self.communes)))
        return [asyncio.create_task(self._write_unacknowledged(c)) for c in communes]

    async def _write_unacknowledged(self, commune: str) -> None:
        """A write whose answer the fault may cut: the commune stays in doubt unless it is acknowledged."""
        try:
            await self.set_demand(commune)
        except Exception:
            return

    async def plan_week(self, week_start: dt.date) -> str:
        """Ask for a solve of a week; returns the solve request's id (``publish_when_solved`` follows it)."""
        body = {"territory": self.scenario.code, "week_start": week_start.isoformat(), "days": 5,
                "time_limit_s": self.solve_time_limit_s}  # fmt: skip
        asked = await self.call("POST", "scheduling", "/plans/solve", json=body)
        return str(asked["id"])

    async def publish_when_solved(self, request_id: str) -> str | None:
        """The plan's id once published; None when the solver found no plan within its limit (under faults and a
        loaded machine, a large territory may not get one: that is not a fault of the pipeline)."""
        deadline = time.monotonic() + RETRY_FOR_S + 3 * self.solve_time_limit_s  # killed mid-solve, solved again
        while True:
            request = await self.call("GET", "scheduling", f"/solves/{request_id}", params={"wait": 5})
            if request["status"] == "done":
                break
            if request["status"] == "failed" or time.monotonic() > deadline:
                raise RuntimeError(f"solve {request_id}: {request['status']} {request.get('error')}")
        try:
            published = await self.call("POST", "scheduling", f"/plans/{request['plan_id']}/publish")
        except Refused as refused:
            if "empty plan" not in refused.detail:
                raise
            self.empty_plans += 1
            return None
        self.published[published["id"]] = len(published["permanences"])
        return str(published["id"])
