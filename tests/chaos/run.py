"""One run of the fault suite: the system started, the workload and the faults together, the invariants
checked, a report. ``python -m tests.chaos`` prints it; ``tests/chaos/test_chaos.py`` runs the short profile."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.chaos import invariants
from tests.chaos.faults import TWILIO_FAULTS, Injected, Injector, set_twilio_faults
from tests.chaos.invariants import Verdict
from tests.chaos.system import System
from tests.chaos.workload import Workload
from tournees.demo.territories import Scenario, gard, thionville

PARIS = ZoneInfo("Europe/Paris")
FAULTS = (
    "kill-registry-mid-relay",
    "kill-scheduling-mid-solve",
    "kill-notifications-mid-send",
    "restart-nats",
    "stop-postgres",
)


@dataclass(frozen=True)
class Profile:
    name: str
    scenario: Callable[[], Scenario]
    bookings: int
    rounds: int
    """Each fault is injected once a round, in a random order."""
    postgres_down_s: float
    gap_s: tuple[float, float]
    """A random pause before each fault."""
    solve_time_limit_s: float


PROFILES = {
    "short": Profile("short", thionville, 120, rounds=1, postgres_down_s=10, gap_s=(1, 3), solve_time_limit_s=5),
    "full": Profile("full", gard, 3000, rounds=3, postgres_down_s=30, gap_s=(3, 10), solve_time_limit_s=30),
}


@dataclass
class Report:
    profile: Profile
    seed: int
    injected: list[Injected] = field(default_factory=list)
    verdict: Verdict = field(default_factory=Verdict)
    seconds: float = 0.0


def first_sunday_afternoon(after: dt.datetime) -> dt.datetime:
    """13:00 in Paris on the first Sunday after ``after``: the services' clock starts there."""
    day = after.astimezone(PARIS).date() + dt.timedelta(days=1)
    while day.weekday() != 6:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(13, 0), PARIS)


def _since(mark: float) -> str:
    return f"{time.monotonic() - mark:.0f} s"


@dataclass(frozen=True)
class ClockStep:
    label: str
    to: dt.datetime
    not_before: dt.datetime | None = None
    """The step waits for the services' clock to reach this: a quiet-hours boundary is crossed as time runs,
    not jumped over with sends in flight (whose time would then depend on which process saw the step first)."""


def clock_steps(sunday: dt.datetime) -> list[ClockStep]:
    """Into the quiet hours, out of them, then to the afternoon: most of Tuesday's reminders (the day before) fall
    due at once."""
    monday = sunday + dt.timedelta(days=1)
    at = lambda day, h, m, s: day.replace(hour=h, minute=m, second=s, microsecond=0)  # noqa: E731
    return [
        ClockStep("clock to Sunday 19:59:50 (quiet from 20:00)", at(sunday, 19, 59, 50)),
        ClockStep("clock to Monday 08:59:50 (quiet until 09:00)", at(monday, 8, 59, 50), at(sunday, 20, 0, 3)),
        ClockStep("clock to Monday 17:00 (reminders fall due)", at(monday, 17, 0, 0), at(monday, 9, 0, 3)),
    ]


async def run(profile: Profile, workdir: Path, seed: int) -> Report:
    rng = random.Random(seed)
    report = Report(profile, seed)
    started = time.monotonic()
    sunday = first_sunday_afternoon(dt.datetime.now(dt.UTC))
    system = await System.start(workdir, sunday)
    workload = Workload(system, profile.scenario(), (sunday + dt.timedelta(days=1)).date(), rng)
    workload.solve_time_limit_s = profile.solve_time_limit_s
    phases = report.verdict.facts
    try:
        await workload.prepare()
        phases["set up and first week published"] = _since(started)
        await set_twilio_faults(system, TWILIO_FAULTS)
        mark = time.monotonic()
        await _under_faults(system, workload, profile, rng, report)
        phases["workload under faults"] = _since(mark)
        mark = time.monotonic()
        received = await invariants.wait_for_drain(system, workload)
        phases["until every message arrived"] = _since(mark)
        await _check(system, workload, received, report.verdict)
    finally:
        report.seconds = time.monotonic() - started
        report.verdict.facts["solves that found no plan in their time limit"] = workload.empty_plans
        await workload.close()
        await system.stop()
    return report


async def _under_faults(
    system: System, workload: Workload, profile: Profile, rng: random.Random, report: Report
) -> None:
    began = time.monotonic()
    injector = Injector(system, workload, rng, profile.postgres_down_s, began)
    schedule: list[str] = []
    for _ in range(profile.rounds):
        schedule += rng.sample(FAULTS, len(FAULTS))
    steps = {step.label: step for step in clock_steps(system.clock.now().astimezone(PARIS))}
    spacing = max(1, len(schedule) // (len(steps) + 1))
    for i, label in enumerate(steps):
        schedule.insert((i + 1) * spacing + i, label)
    stop = asyncio.Event()
    booking = asyncio.create_task(workload.book(profile.bookings, seconds=len(schedule) * 8))
    demand = asyncio.create_task(workload.change_demand(stop))
    try:
        for kind in schedule:
            await asyncio.sleep(rng.uniform(*profile.gap_s))
            if kind in steps:
                report.injected.append(await _step_clock(system, steps[kind], began))
            else:
                report.injected.append(await injector.inject(kind))
            exited = system.unexpected_exit()
            if exited:
                report.verdict.fail(f"after {kind}: {exited}")
                break
        await booking
    finally:
        stop.set()
        booking.cancel()
        ended = await asyncio.gather(booking, demand, *workload.tasks, return_exceptions=True)
    failures = [e for e in ended if isinstance(e, Exception)]
    if failures:
        raise failures[0]


async def _step_clock(system: System, step: ClockStep, began: float) -> Injected:
    if step.not_before is not None and system.clock.now() < step.not_before:
        await asyncio.sleep((step.not_before - system.clock.now()).total_seconds())
    at = time.monotonic()
    system.clock.move_to(step.to)
    await asyncio.sleep(system.clock.refresh_s + 0.5)
    return Injected(step.label, at - began, time.monotonic() - at, await system.ready_within(60))


async def _check(system: System, workload: Workload, received: list[invariants.Received], verdict: Verdict) -> None:
    kept = [{**asdict(m), "at": m.at.isoformat()} for m in received]  # for a post-mortem, beside system.log
    (system.workdir / "received.json").write_text(json.dumps(kept, indent=1))
    booked = [
        {**asdict(b), **{k: getattr(b, k).isoformat() for k in ("starts_at", "asked_at", "answered_at")}}
        for b in workload.booked
    ]
    (system.workdir / "booked.json").write_text(json.dumps(booked, indent=1))
    invariants.check_messages(workload, received, system.clock.now(), verdict)
    invariants.check_quiet_hours(received, PARIS, verdict)
    await invariants.check_databases(system, workload, verdict)
    await invariants.check_dead_letters(system, verdict)
    await invariants.check_bookings_and_plans(workload, verdict)
    if await system.ready_within(30) is None:
        verdict.fail("not every service ready at the end")
    invariants.check_logs(system, workload, [*system.secrets(), workload.token], verdict)
    invariants.check_answers(workload, verdict)
