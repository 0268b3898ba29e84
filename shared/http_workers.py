"""One service's HTTP API served by several processes on one socket (``HTTP_WORKERS``), so that it may use more
than one core.

The first process is the whole service: it migrates the database, then starts the others, and runs the outbox
relay, the subscribers and the background work (the sender, the solver…) besides serving HTTP. The others only
serve HTTP (``ServiceRuntime.http_only``): still one relay and one set of consumers per service, as with one
process. What those write is published by the first one's relay at its next poll (``RELAY_INTERVAL_S``), not at
once; on SQLite they are more writers, each waiting for the others (its busy timeout), as the connections of one
process already do. Each process counts its own metrics: ``/metrics`` shows the one that answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import signal
import socket
import sys
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from fastapi import FastAPI

    from shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)
WATCH_INTERVAL_S = 1.0


class Served(Protocol):
    """What a service's ``bootstrap()`` builds."""

    @property
    def runtime(self) -> ServiceRuntime: ...

    @property
    def app(self) -> FastAPI: ...


class HttpWorkers:
    """The processes that serve HTTP only, started and watched by the first one."""

    def __init__(self, build: Callable[[], Served], count: int, sock: socket.socket) -> None:
        self._build = build
        self._sock = sock
        self._context = multiprocessing.get_context("spawn")  # not forked from a process that may run threads
        self.processes: list[BaseProcess] = [self._spawn(n) for n in range(1, count + 1)]

    def _spawn(self, n: int) -> BaseProcess:
        process = self._context.Process(
            target=_serve_http_only, args=(self._build, self._sock), name=f"http-worker-{n}", daemon=True
        )
        process.start()
        return process

    async def watch(self, stop: asyncio.Event) -> None:
        """Background work of the first process: a worker that died is replaced; at ``stop``, all are stopped
        (SIGTERM: their graceful shutdown) and waited for, so that none is cut off when the first one exits."""
        while not stop.is_set():
            for n, process in enumerate(self.processes, start=1):
                if not process.is_alive():
                    log.error("HTTP worker %d stopped (exit code %s): starting another", n, process.exitcode)
                    self.processes[n - 1] = self._spawn(n)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), WATCH_INTERVAL_S)
        await asyncio.to_thread(self.stop)

    def stop(self, timeout_s: float = 30.0) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.join(timeout_s)
            if process.is_alive():
                process.kill()


def _serve_http_only(build: Callable[[], Served], sock: socket.socket) -> None:
    from shared.runtime import run_server
    from shared.telemetry import configure_logging

    _die_with_parent()
    service = build()
    settings = service.runtime.settings
    configure_logging(settings.log_level, json_lines=settings.json_logs, service=service.runtime.name)
    service.runtime.http_only = True
    run_server(service.runtime, service.app, sockets=[sock])


def _die_with_parent() -> None:
    """A worker whose first process was killed (SIGKILL, OOM) stops too, rather than serve on without a relay."""
    if sys.platform == "linux":
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
