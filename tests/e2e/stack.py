"""Helpers for the end-to-end tests: run the real ``tournees`` CLI as a process and watch it.

Every process a test starts carries a unique marker in its environment (the supervisor passes
its environment down to nats-server and the services), so the tests can find all of them in
``/proc`` even after they have been re-parented, and make sure none is left behind.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import httpx

SERVICES = ("registry", "scheduling", "notifications")
MARKER_ENV = "TOURNEES_E2E_RUN"
# Variables that would make the stack under test use something else than its own embedded
# nats-server and SQLite files under --data-dir.
_FOREIGN_ENV = (
    "NATS_URL",
    "DATABASE_URL",
    "DATABASE_SCHEMA",
    "REGISTRY_DATABASE_URL",
    "SCHEDULING_DATABASE_URL",
    "NOTIFICATIONS_DATABASE_URL",
    "HTTP_HOST",
    "HTTP_PORT",
    "DATA_DIR",
    "ENVIRONMENT",
    "AUTH_SECRET",
    "OTEL_TRACES_EXPORTER",
)
# Below Linux's default ephemeral range (32768-60999), so the port nats-server gets from the
# kernel cannot collide with the services' ports.
_PORT_RANGE = (20000, 32000)


def urls_for(port_base: int) -> dict[str, str]:
    """The services' base URLs when their ports start at ``port_base``."""
    return {name: f"http://127.0.0.1:{port_base + i}" for i, name in enumerate(SERVICES)}


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port_base(count: int = 3, attempts: int = 200) -> int:
    """A port P such that P, P+1, …, P+count-1 are all free on 127.0.0.1."""
    for _ in range(attempts):
        base = random.randrange(_PORT_RANGE[0], _PORT_RANGE[1] - count)
        if all(port_is_free(base + i) for i in range(count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports found in {_PORT_RANGE}")


# --- processes, through /proc --------------------------------------------------------------


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    state: str
    start_time: int  # clock ticks since boot: tells a process from a later one with the same pid


def proc_info(pid: int) -> ProcInfo | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # "pid (comm) state ppid … starttime …": comm may hold spaces and parentheses.
    rest = raw[raw.rindex(")") + 2 :].split()
    return ProcInfo(pid=pid, ppid=int(rest[1]), state=rest[0], start_time=int(rest[19]))


def all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def children_of(pid: int) -> list[ProcInfo]:
    found = (proc_info(p) for p in all_pids())
    return [info for info in found if info is not None and info.ppid == pid]


def descendants_of(pid: int) -> list[ProcInfo]:
    result: list[ProcInfo] = []
    todo = [pid]
    while todo:
        for child in children_of(todo.pop()):
            result.append(child)
            todo.append(child.pid)
    return result


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def is_alive(info: ProcInfo) -> bool:
    """True while that very process exists and is not a zombie."""
    now = proc_info(info.pid)
    return now is not None and now.start_time == info.start_time and now.state not in ("Z", "X")


def marked_processes(marker: str) -> list[ProcInfo]:
    """Live processes whose environment carries ``MARKER_ENV=marker``."""
    needle = f"{MARKER_ENV}={marker}".encode()
    found = []
    for pid in all_pids():
        if pid == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            info = proc_info(pid)
            if info is not None and is_alive(info):
                found.append(info)
    return found


def wait_until_gone(processes: Sequence[ProcInfo], timeout_s: float) -> list[ProcInfo]:
    """The processes still alive after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        alive = [p for p in processes if is_alive(p)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def describe(processes: Sequence[ProcInfo]) -> str:
    return ", ".join(f"{p.pid} ({p.state}, parent {p.ppid}): {command_line(p.pid)}" for p in processes)


# --- the CLI under test --------------------------------------------------------------------


@dataclass
class Tournees:
    """``python -m tournees.cli ARGS`` in its own session, stdout and stderr to files."""

    args: Sequence[str]
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)
    process: subprocess.Popen[bytes] | None = None
    _files: list[IO[bytes]] = field(default_factory=list)

    @property
    def stdout_path(self) -> Path:
        return self.workdir / "tournees.stdout"

    @property
    def stderr_path(self) -> Path:
        return self.workdir / "tournees.stderr"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> Tournees:
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
        env.update(self.env)
        env[MARKER_ENV] = self.marker
        env["PYTHONUNBUFFERED"] = "1"
        stdout = self.stdout_path.open("wb")
        stderr = self.stderr_path.open("wb")
        self._files = [stdout, stderr]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tournees.cli", *self.args],
            cwd=self.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        return self

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def output_tail(self, lines: int = 60) -> str:
        out = "\n".join(self.stdout().splitlines()[-lines:])
        return f"--- stdout (tail) ---\n{out}\n--- stderr ---\n{self.stderr()}"

    def wait(self, timeout_s: float) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"tournees {' '.join(self.args)} still running after {timeout_s:.0f} s\n{self.output_tail()}"
            ) from None

    def cleanup(self) -> None:
        """Stop whatever is left: politely, then by force; the processes this run started only."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        leftovers = wait_until_gone(marked_processes(self.marker), timeout_s=10)
        for info in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(info.pid, signal.SIGKILL)
        for f in self._files:
            f.close()

    def __enter__(self) -> Tournees:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.cleanup()


class StartTournees(Protocol):
    """The ``start_tournees`` fixture: starts ``python -m tournees.cli ARGS``."""

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Tournees: ...


def wait_ready(tournees: Tournees, urls: dict[str, str], timeout_s: float = 90.0) -> float:
    """Poll every service's ``/readyz`` until all answer 200; the seconds it took."""
    started = time.monotonic()
    pending = dict(urls)
    with httpx.Client(timeout=2) as client:
        while pending:
            assert tournees.process is not None
            if tournees.process.poll() is not None:
                raise AssertionError(
                    f"tournees exited with {tournees.process.returncode} before being ready\n{tournees.output_tail()}"
                )
            if time.monotonic() - started > timeout_s:
                raise AssertionError(
                    f"not ready after {timeout_s:.0f} s: {', '.join(pending)}\n{tournees.output_tail()}"
                )
            for name, url in list(pending.items()):
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{url}/readyz").status_code == 200:
                        del pending[name]
            if pending:
                time.sleep(0.2)
    return time.monotonic() - started
