"""The whole system as processes for the fault suite: its own PostgreSQL cluster and nats-server, the fake
Twilio and the SMTP sink, the three services; every service's clock movable; every output line in one log."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import httpx
from pydantic import SecretStr

from shared.auth import Role, issue_token
from tests.chaos.clock import MovableClock
from tests.chaos.postgres import PrivateCluster
from tournees.supervisor import SERVICES, Supervisor, free_port

SMS_TIMEOUT_S = 5
"""The sender's Twilio timeout: the fake's timeouts hold an answer longer than this."""


@dataclass
class System:
    workdir: Path
    clock: MovableClock
    postgres: PrivateCluster
    supervisor: Supervisor
    secret: str
    log: TextIO

    @property
    def log_path(self) -> Path:
        return self.workdir / "system.log"

    @classmethod
    async def start(cls, workdir: Path, wall_clock_at: dt.datetime) -> System:
        """Everything started with the services' wall clock at ``wall_clock_at``."""
        workdir.mkdir(parents=True, exist_ok=True)
        clock = MovableClock(workdir / "faketime")
        clock.move_to(wall_clock_at)
        postgres = PrivateCluster()
        await asyncio.to_thread(postgres.init, list(SERVICES))
        secret = secrets.token_urlsafe(32)
        environment = {
            **clock.environment(),
            **{f"{name.upper()}_DATABASE_URL": postgres.url(name) for name in SERVICES},
            "AUTH_SECRET": secret,
            "OTEL_TRACES_EXPORTER": "console",
            "TWILIO_TIMEOUT_S": str(SMS_TIMEOUT_S),
            "SMTP_TIMEOUT_S": "5",
            "SENDER_HOLD_S": "20",
            "SMS_PER_SECOND": "200",
        }
        log = (workdir / "system.log").open("w")
        ports = {name: free_port() for name in SERVICES}
        supervisor = Supervisor(workdir / "data", ports=ports, environment=environment, out=log)
        system = cls(workdir, clock, postgres, supervisor, secret, log)
        try:
            await supervisor.start(timeout_s=120)
        except BaseException:
            await system.stop()
            raise
        return system

    async def stop(self) -> None:
        await self.supervisor.stop()
        await asyncio.to_thread(self.postgres.destroy)
        self.log.close()

    def url(self, service: str) -> str:
        return self.supervisor.url(service)

    @property
    def twilio_url(self) -> str:
        assert self.supervisor.twilio_url is not None
        return self.supervisor.twilio_url

    @property
    def maildir(self) -> Path:
        assert self.supervisor.maildir is not None
        return self.supervisor.maildir

    def token(self, role: Role = Role.ADMIN) -> str:
        """Valid for three days of the services' clock, which the suite moves forward by about one."""
        return issue_token(
            SecretStr(self.secret), subject="chaos", role=role, ttl=dt.timedelta(days=3), now=self.clock.now()
        )

    def secrets(self) -> list[str]:
        """The run's secrets: the services' AUTH_SECRET and the (fake) Twilio account's auth token."""
        return [self.secret, self.supervisor.child("twilio").env["FAKE_TWILIO_AUTH_TOKEN"]]

    def unexpected_exit(self) -> str | None:
        """A service or provider that stopped by itself (not killed by the suite)."""
        child = self.supervisor.exited()
        return None if child is None else f"{child.name} exited with {child.process.returncode}"

    async def ready_within(self, timeout_s: float) -> float | None:
        """Seconds until every service answers /readyz 200, or None when it did not within ``timeout_s``."""
        started = time.monotonic()
        pending = set(SERVICES)
        async with httpx.AsyncClient(timeout=2) as client:
            while pending and time.monotonic() - started < timeout_s:
                for name in sorted(pending):
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(f"{self.url(name)}/readyz")).status_code == 200:
                            pending.discard(name)
                if pending:
                    await asyncio.sleep(0.2)
        return None if pending else time.monotonic() - started
