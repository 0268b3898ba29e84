"""Notifications benchmark: 10,000 reminders due at once, until the fake Twilio has accepted them all.

The service runs as its own process (with nats-server and the fake Twilio as processes too), on SQLite and,
when ``BENCH_DATABASE_URL`` or ``TEST_DATABASE_URL`` is set, on Postgres. The clock starts when the service is
ready, with every reminder already due, and stops when the fake has accepted one SMS for every usager. Checked
from the fake's side once the send log has nothing pending left: one SMS per usager (none lost, none twice), and
the segment count of each (target: 100 % in one segment). Each database is run twice: without faults, then
with the fake answering 20 % of creates with transient errors (``FAULTS``: 429 with ``Retry-After``, 500, 503
and timeouts, half of them accepted by Twilio all the same). Both runs use short timeouts (``SHORT_TIMEOUTS``:
Twilio's 2 s, the fake holding a timed-out create 3 s) so that the faulty run ends in minutes.
Baseline in the same run: raw nats-py publishing 10,000 messages of the same size to a JetStream stream (each
acknowledged) and consuming them (each acked), on the same machine.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import nats
from sqlalchemy import text

from benchmarks.reminders import seed_reminders
from benchmarks.report import machine, print_table, spawn, wait_port, wait_ready
from services.notifications.adapters.fake_twilio import Faults
from services.notifications.bootstrap import bootstrap
from services.notifications.domain.messages import MessageStatus
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from services.notifications.settings import NotificationsSettings
from shared.db import create_engine
from shared.settings import async_database_url
from tournees.supervisor import free_port, nats_server_binary

REMINDERS = int(os.environ.get("BENCH_REMINDERS", "10000"))
ACCOUNT_SID = "AC" + "5" * 32
TOKEN = "benchmark-fake-twilio-token"  # noqa: S105 - the fake's own, for this benchmark
SECRET = "benchmark-secret-0123456789abcdefghij"  # noqa: S105 - signs nothing outside this benchmark
SMS_PER_SECOND = 1000
PAYLOAD = 160
# The sender gives up on Twilio after 2 s (production: 15 s); its hold must outlast that and the SMTP timeout.
SHORT_TIMEOUTS = {"TWILIO_TIMEOUT_S": "2", "SMTP_TIMEOUT_S": "2", "SENDER_HOLD_S": "20"}
FAULTS = Faults(rate_429=0.08, rate_500=0.04, rate_503=0.04, rate_timeout=0.04, retry_after_s=1, hold_s=3, seed=10)
FAULTS_LABEL = "20 % transient errors (8 % 429, 4 % 500, 4 % 503, 4 % timeouts)"
DRAIN_TIMEOUT_S = 1800


async def run_once(database_url: str, schema: str | None, tmp: Path, faults: Faults) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    settings = NotificationsSettings(database_url=database_url, database_schema=schema, data_dir=tmp)
    await seed_reminders(settings, REMINDERS, now)
    nats_port, http_port, fake_port = free_port(), free_port(), free_port()
    local = now.astimezone(ZoneInfo("Europe/Paris"))  # quiet hours elsewhere in the day than this run
    env = {
        **os.environ, "DATA_DIR": str(tmp), "NATS_URL": f"nats://127.0.0.1:{nats_port}", "HTTP_PORT": str(http_port),
        "AUTH_SECRET": SECRET, "LOG_LEVEL": "WARNING", "DATABASE_URL": database_url,
        "TWILIO_API_URL": f"http://127.0.0.1:{fake_port}", "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TOKEN, "SMS_PER_SECOND": str(SMS_PER_SECOND),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{http_port}", "SENDER_BATCH": "100", **SHORT_TIMEOUTS,
        "QUIET_START": (local + dt.timedelta(hours=6)).strftime("%H:%M"),
        "QUIET_END": (local + dt.timedelta(hours=7)).strftime("%H:%M"),
        "FAKE_TWILIO_ACCOUNT_SID": ACCOUNT_SID, "FAKE_TWILIO_AUTH_TOKEN": TOKEN,
    }  # fmt: skip
    if schema:
        env["DATABASE_SCHEMA"] = schema
    nats_server = spawn(
        [nats_server_binary(), "-js", "-sd", f"{tmp}/nats", "-a", "127.0.0.1", "-p", str(nats_port)], quiet=True
    )
    fake = spawn([sys.executable, "-m", "services.notifications.adapters.fake_twilio", "--port", str(fake_port)],
                  env=env, quiet=True)  # fmt: skip
    fake_url = f"http://127.0.0.1:{fake_port}"
    service: subprocess.Popen[bytes] | None = None
    try:
        await wait_port(fake_port)
        async with httpx.AsyncClient(base_url=fake_url, timeout=10) as http:
            (await http.put("/_fake/faults", json=faults.model_dump())).raise_for_status()
        service = spawn([sys.executable, "-m", "services.notifications"], env=env)
        await wait_ready(f"http://127.0.0.1:{http_port}")
        figures = await _drained(fake_url, settings)
    finally:
        for process in (service, fake, nats_server):
            if process is not None:
                process.terminate()
                process.wait(30)
    return figures


async def _drained(fake_url: str, settings: NotificationsSettings) -> dict[str, Any]:
    """From now until the send log has nothing pending: the seconds until the fake had an SMS for every usager
    (None if it never did), and the fake's stats once the log has drained (a late duplicate counts too)."""
    started = time.perf_counter()
    seconds: float | None = None
    next_look = started
    service = bootstrap(settings)
    try:
        async with httpx.AsyncClient(base_url=fake_url, timeout=30) as http:
            while (now := time.perf_counter()) - started < DRAIN_TIMEOUT_S:
                stats: dict[str, Any] = (await http.get("/_fake/stats")).json()
                if seconds is None and stats["recipients"] >= REMINDERS:
                    seconds, next_look = now - started, now
                if now >= next_look:
                    if not await _pending(service.uow):
                        stats = (await http.get("/_fake/stats")).json()
                        return {"seconds": seconds, "drained_s": time.perf_counter() - started, **stats}
                    next_look = now + 1.0
                await asyncio.sleep(0.2)
    finally:
        await service.runtime.engine.dispose()
    raise TimeoutError(f"the send log still had messages pending after {DRAIN_TIMEOUT_S} s")


async def _pending(uow: Callable[[], NotificationsUnitOfWork]) -> int:
    async with uow() as unit:
        return await unit.messages.count_by_status(MessageStatus.PENDING)


async def raw_nats(tmp: Path) -> float:
    """Seconds for raw nats-py to publish REMINDERS messages of PAYLOAD bytes to JetStream and consume them."""
    port = free_port()
    server = spawn([nats_server_binary(), "-js", "-sd", f"{tmp}/nats-raw", "-a", "127.0.0.1", "-p", str(port)],
                    quiet=True)  # fmt: skip
    try:
        await wait_port(port)
        nc = await nats.connect(f"nats://127.0.0.1:{port}")
        js = nc.jetstream()
        await js.add_stream(name="BENCH", subjects=["bench.>"])
        subscription = await js.pull_subscribe("bench.sms", durable="bench")
        payload = b"x" * PAYLOAD
        started = time.perf_counter()
        for chunk in range(0, REMINDERS, 100):
            await asyncio.gather(*(js.publish("bench.sms", payload) for _ in range(chunk, min(chunk + 100, REMINDERS))))
        consumed = 0
        while consumed < REMINDERS:
            for message in await subscription.fetch(100, timeout=10):
                await message.ack()
                consumed += 1
        seconds = time.perf_counter() - started
        await nc.close()
    finally:
        server.terminate()
        server.wait(10)
    return seconds


async def rows() -> list[list[str]]:
    found: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        baseline = await raw_nats(Path(tmp))
        found.append([
            f"raw nats-py: {REMINDERS:,} × {PAYLOAD} B published (acked) + consumed (acked), JetStream",
            f"{baseline:.2f} s", f"{REMINDERS / baseline:,.0f} msg/s", "baseline", "",
        ])  # fmt: skip
        postgres = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
        for label in ("SQLite", "Postgres") if postgres else ("SQLite",):
            clean = await _measured(label, Path(tmp) / f"{label}-clean", Faults(), postgres)
            faulty = await _measured(label, Path(tmp) / f"{label}-faults", FAULTS, postgres)
            found.extend(_rows(label, clean, baseline))
            found.extend(_fault_rows(label, faulty, clean))
        if not postgres:
            found.append(["reminders, Postgres", "not measured: set BENCH_DATABASE_URL", "", "", ""])
    return found


async def _measured(label: str, tmp: Path, faults: Faults, postgres: str | None) -> dict[str, Any]:
    """One run on a database of its own: a SQLite file in ``tmp``, or a schema of ``postgres`` dropped after."""
    if label == "SQLite":
        return await run_once(async_database_url(f"sqlite:///{tmp}.db"), None, tmp, faults)
    assert postgres is not None
    url, schema = async_database_url(postgres), f"bench_{uuid.uuid4().hex[:12]}"
    await _schema(url, f"CREATE SCHEMA {schema}")
    try:
        return await run_once(url, schema, tmp, faults)
    finally:
        await _schema(url, f"DROP SCHEMA {schema} CASCADE")


def _rows(label: str, figures: dict[str, Any], baseline: float) -> list[list[str]]:
    seconds, outbound = figures["seconds"], figures["outbound"]
    single = figures["segments"].get("1", 0)
    return [
        [
            f"{REMINDERS:,} reminders due → accepted by the fake Twilio, {label}", *_drain(figures),
            f"≤ {SMS_PER_SECOND} SMS/s (rate limit)",
            f"{seconds / baseline:.0f}× raw nats-py's time" if seconds else "",
        ],
        _once_each(f"  once each, {label}", figures),
        [
            f"  single segment, {label}", f"{single / outbound:.1%} in 1 segment", str(figures["segments"]),
            "100 %", "met" if single == outbound else f"MISSED by {outbound - single} SMS",
        ],
    ]  # fmt: skip


def _fault_rows(label: str, figures: dict[str, Any], clean: dict[str, Any]) -> list[list[str]]:
    drawn: dict[str, int] = figures["faults"]
    creates = sum(drawn.values())
    failed = creates - drawn.get("ok", 0)
    timeouts = drawn.get("timeout_accepted", 0) + drawn.get("timeout_not_accepted", 0)
    kinds = ", ".join(f"{kind} ×{drawn.get(kind, 0):,}" for kind in ("429", "500", "503"))
    return [
        [f"{REMINDERS:,} reminders through {FAULTS_LABEL}, {label}", *_drain(figures), "", ""],
        _compared(f"  vs the fault-free run, {label}", figures, clean),
        _once_each(f"  lost / duplicated through the faults, {label}", figures),
        [
            f"  faults drawn at the fake, {label}", f"{failed:,} of {creates:,} creates",
            f"{kinds}, timeouts ×{timeouts:,} ({drawn.get('timeout_accepted', 0):,} accepted)",
            "20 %", f"{failed / creates:.1%}",
        ],
    ]  # fmt: skip


def _drain(figures: dict[str, Any]) -> list[str]:
    """The time until every usager had an SMS at the fake, and the SMS a second until then."""
    seconds = figures["seconds"]
    if seconds is None:
        return [f"never (log drained at {figures['drained_s']:.0f} s)", ""]
    return [f"{seconds:.1f} s", f"{figures['outbound'] / seconds:,.0f} SMS/s"]


def _compared(measure: str, figures: dict[str, Any], clean: dict[str, Any]) -> list[str]:
    seconds, before = figures["seconds"], clean["seconds"]
    if not (seconds and before):
        return [measure, "", "", "", "not comparable: SMS lost"]
    rates = f"{clean['outbound'] / before:,.0f} → {figures['outbound'] / seconds:,.0f} SMS/s"
    return [measure, f"{seconds - before:+.1f} s", rates, "", f"{seconds / before:.2f}× its time"]


def _once_each(measure: str, figures: dict[str, Any]) -> list[str]:
    """Counted at the fake once the send log has drained: numbers never sent to, numbers sent to more than once."""
    lost, twice = REMINDERS - figures["recipients"], figures["repeated"]
    return [
        measure, f"{lost:,} lost, {twice:,} duplicated",
        f"{figures['recipients']:,} numbers, {figures['outbound']:,} SMS", "0 lost, 0 duplicated",
        "met" if lost == twice == 0 else f"MISSED: {lost} lost, {twice} duplicated",
    ]  # fmt: skip


async def _schema(url: str, statement: str) -> None:
    admin = create_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(statement))
    await admin.dispose()


async def main() -> None:
    print_table(f"Notifications — {machine()}", await rows())


if __name__ == "__main__":
    asyncio.run(main())
