"""Thousands of reminders sent by the notifications service as a process, killed with SIGKILL at random points
again and again: the fake Twilio (its own process) ends up with each reminder exactly once.

The count is made at the fake, from the outside: one SMS per usager's number, none missing, none twice. The
service's logs of every life are then searched for the usagers' phone numbers: none may appear.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from benchmarks.reminders import phone, seed_reminders
from services.notifications.adapters.orm import messages
from services.notifications.bootstrap import bootstrap
from services.notifications.domain.messages import MessageStatus
from services.notifications.settings import NotificationsSettings
from tests.e2e.stack import free_port_base
from tournees.supervisor import die_with_parent

pytestmark = pytest.mark.e2e

REMINDERS = 2000
KILLS = 6
ACCOUNT_SID = "AC" + "3" * 32
TOKEN = "jeton-du-test-de-sigkill"
SECRET = "sender-kill-tests-secret-0123456789abcdef"
PARIS = ZoneInfo("Europe/Paris")


def start_fake(logs: Path) -> tuple[subprocess.Popen[bytes], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "services.notifications.adapters.fake_twilio", "--port", "0",
         "--account-sid", ACCOUNT_SID, "--auth-token", TOKEN, "--step-s", "0.2"],
        stdout=subprocess.PIPE, stderr=(logs / "fake_twilio.log").open("wb"), preexec_fn=die_with_parent,
    )  # fmt: skip
    assert process.stdout is not None
    return process, process.stdout.readline().decode().strip()


def start_notifications(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "services.notifications"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )


async def fake_outbound(fake: httpx.AsyncClient) -> list[dict[str, Any]]:
    answer = await fake.get("/_fake/messages")
    return [m for m in answer.json()["messages"] if m["direction"] == "outbound-api"]


async def pending(settings: NotificationsSettings) -> int:
    service = bootstrap(settings)
    try:
        async with service.uow() as uow:
            return await uow.messages.count_by_status(MessageStatus.PENDING)
    finally:
        await service.runtime.engine.dispose()


async def test_sigkill_at_random_points_loses_and_doubles_no_sms(database, nats_url, nc, tmp_path):
    now = dt.datetime.now(dt.UTC)
    local = now.astimezone(PARIS)  # quiet hours elsewhere in the day than this test
    port = free_port_base(1)
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "DATABASE_SCHEMA": database.schema or "",
        "NATS_URL": nats_url,
        "DATA_DIR": str(tmp_path),
        "HTTP_PORT": str(port),
        "AUTH_SECRET": SECRET,
        "LOG_LEVEL": "INFO",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM": "+33757000002",
        "TWILIO_TIMEOUT_S": "1",
        "SMTP_TIMEOUT_S": "1",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SMS_PER_SECOND": "400",
        "SENDER_HOLD_S": "3",
        "SENDER_POLL_S": "0.2",
        "QUIET_START": (local + dt.timedelta(hours=6)).strftime("%H:%M"),
        "QUIET_END": (local + dt.timedelta(hours=7)).strftime("%H:%M"),
    }
    if not database.schema:
        del env["DATABASE_SCHEMA"]
    settings = NotificationsSettings(
        database_url=database.url, database_schema=database.schema, data_dir=tmp_path, auth_secret=SECRET
    )
    await seed_reminders(settings, REMINDERS, now)
    fake_process, fake_url = start_fake(tmp_path)
    env["TWILIO_API_URL"] = fake_url
    lives: list[Path] = []
    try:
        async with httpx.AsyncClient(base_url=fake_url, timeout=10) as fake:
            for life in range(KILLS):
                lives.append(tmp_path / f"notifications-{life}.log")
                process = start_notifications(env, lives[-1])
                before = len(await fake_outbound(fake))
                while len(await fake_outbound(fake)) == before and process.poll() is None:
                    await asyncio.sleep(0.05)  # killed while it sends, not while it starts
                await asyncio.sleep(random.uniform(0.0, 1.0))
                process.send_signal(signal.SIGKILL)
                assert process.wait(timeout=10) == -signal.SIGKILL, lives[-1].read_text()[-2000:]

            lives.append(tmp_path / "notifications-last.log")
            process = start_notifications(env, lives[-1])
            try:
                deadline = asyncio.get_running_loop().time() + 120
                while await pending(settings) and asyncio.get_running_loop().time() < deadline:
                    await asyncio.sleep(0.5)
                sent = await fake_outbound(fake)
            finally:
                process.terminate()
                process.wait(timeout=30)
    finally:
        fake_process.terminate()
        fake_process.wait(timeout=10)

    per_number = Counter(message["to"] for message in sent)
    expected = {phone(n) for n in range(REMINDERS)}
    missing, doubled = expected - set(per_number), {n for n, times in per_number.items() if times > 1}
    assert (len(missing), len(doubled)) == (0, 0), f"{len(missing)} missing, {len(doubled)} doubled"
    assert len(sent) == REMINDERS
    assert await pending(settings) == 0

    engine = database.engine()
    async with engine.connect() as conn:
        recorded = set((await conn.scalars(select(messages.c.provider_sid))).all())
    await engine.dispose()
    assert recorded == {message["sid"] for message in sent}  # each reminder recorded with the sid Twilio gave it

    logs = "\n".join(life.read_text() for life in lives)
    leaked = [number for number in expected if number in logs or "0" + number.removeprefix("+33") in logs]
    assert leaked == [], f"{len(leaked)} phone numbers in the service's logs"
