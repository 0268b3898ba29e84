"""Notifications benchmark: 10,000 reminders due at once, until the fake Twilio has accepted them all.

The service runs as its own process (with nats-server and the fake Twilio as processes too), on SQLite and,
when ``BENCH_DATABASE_URL`` or ``TEST_DATABASE_URL`` is set, on Postgres. The clock starts when the service is
ready, with every reminder already due, and stops when the fake has accepted the last one. Checked from the
fake's side: one SMS per usager (none missing, none twice), and the segment count of each (target: 100 % in
one segment). Baseline in the same run: raw nats-py publishing 10,000 messages of the same size to a
JetStream stream (each acknowledged) and consuming them (each acked), on the same machine.
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
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import nats
from sqlalchemy import text

from benchmarks.reminders import seed_reminders
from benchmarks.report import machine, print_table, spawn, wait_port, wait_ready
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


async def run_once(database_url: str, schema: str | None, tmp: Path) -> dict[str, Any]:
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
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{http_port}", "SENDER_BATCH": "100",
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
    service: subprocess.Popen[bytes] | None = None
    try:
        await wait_port(fake_port)
        service = spawn([sys.executable, "-m", "services.notifications"], env=env)
        await wait_ready(f"http://127.0.0.1:{http_port}")
        started = time.perf_counter()
        stats = await _all_accepted(f"http://127.0.0.1:{fake_port}")
        seconds = time.perf_counter() - started
    finally:
        for process in (service, fake, nats_server):
            if process is not None:
                process.terminate()
                process.wait(30)
    return {"seconds": seconds, **stats}


async def _all_accepted(fake_url: str, timeout_s: float = 900) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=fake_url, timeout=30) as http:
        while time.monotonic() < deadline:
            stats: dict[str, Any] = (await http.get("/_fake/stats")).json()
            if stats["outbound"] >= REMINDERS:
                return stats
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the fake Twilio did not accept {REMINDERS} SMS within {timeout_s:.0f} s")


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
        runs: list[tuple[str, str, str | None]] = [
            ("SQLite", async_database_url(f"sqlite:///{tmp}/notifications.db"), None)
        ]
        postgres = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
        if postgres:
            runs.append(("Postgres", async_database_url(postgres), f"bench_{uuid.uuid4().hex[:12]}"))
        for label, url, schema in runs:
            if schema:
                await _schema(url, f"CREATE SCHEMA {schema}")
            try:
                figures = await run_once(url, schema, Path(tmp) / label)
            finally:
                if schema:
                    await _schema(url, f"DROP SCHEMA {schema} CASCADE")
            found.extend(_rows(label, figures, baseline))
        if not postgres:
            found.append(["reminders, Postgres", "not measured: set BENCH_DATABASE_URL", "", "", ""])
    return found


def _rows(label: str, figures: dict[str, Any], baseline: float) -> list[list[str]]:
    seconds, outbound, recipients = figures["seconds"], figures["outbound"], figures["recipients"]
    single = figures["segments"].get("1", 0)
    exact = outbound == recipients == REMINDERS
    return [
        [
            f"{REMINDERS:,} reminders due → accepted by the fake Twilio, {label}",
            f"{seconds:.1f} s", f"{outbound / seconds:,.0f} SMS/s",
            f"≤ {SMS_PER_SECOND} SMS/s (rate limit)", f"{seconds / baseline:.0f}× raw nats-py's time",
        ],
        [
            f"  once each, {label}", f"{recipients:,} numbers, {outbound:,} SMS", "",
            "0 missing, 0 twice", "met" if exact else f"MISSED: {REMINDERS - recipients} missing, "
            f"{outbound - recipients} twice",
        ],
        [
            f"  single segment, {label}", f"{single / outbound:.1%} in 1 segment", str(figures["segments"]),
            "100 %", "met" if single == outbound else f"MISSED by {outbound - single} SMS",
        ],
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
