"""HTTP_WORKERS=2: the registry serves its API from two processes on one port; the first alone runs the relay, yet
the event of every write is published, whichever process took it; SIGTERM stops both."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from benchmarks.report import wait_ready
from tests.integration.helpers import eventually, sample
from tests.integration.registry_stack import ADMIN, SECRET, template_database
from tournees.supervisor import die_with_parent, free_port

WRITES = 20


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    return template_database(tmp_path_factory.mktemp("registry-template"))


@pytest.fixture
def registry(template, tmp_path, nats_url, nc):
    shutil.copy(template, tmp_path / "registry.db")
    port = free_port()
    env = {
        **os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": "", "NATS_URL": nats_url, "HTTP_PORT": str(port),
        "AUTH_SECRET": SECRET.get_secret_value(), "HTTP_WORKERS": "2", "RELAY_INTERVAL_S": "0.1",
        "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    process = subprocess.Popen([sys.executable, "-m", "services.registry"], env=env, preexec_fn=die_with_parent)
    yield process, f"http://127.0.0.1:{port}"
    if process.poll() is None:
        process.kill()
        process.wait(10)


async def test_two_processes_answer_on_one_port_and_every_write_is_published(registry, nc):
    process, url = registry
    await wait_ready(url)
    assert len(await eventually(lambda: _processes_answering(url), timeout_s=30)) == 2

    published: set[str] = set()

    async def received(message) -> None:
        published.add(json.loads(message.data)["data"]["structure_id"])

    await nc.subscribe("registry.structure.registered.v1", cb=received)
    created = set()
    for n in range(WRITES):
        async with httpx.AsyncClient(base_url=url, headers=ADMIN) as http:  # a new connection each: either process
            answer = await http.post("/structures", json={"name": f"EPN {n}", "kind": "epn", "commune": "61293"})
        assert answer.status_code == 201, answer.text
        created.add(answer.json()["id"])
    await eventually(lambda: _returns(published >= created))
    assert published == created

    workers = [pid for pid in _children(process.pid) if "spawn_main" in _command(pid)]
    assert len(workers) == 1
    process.send_signal(signal.SIGTERM)
    process.wait(40)  # uvicorn raises the signal again once shut down: the exit code is -SIGTERM
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]  # stopped before the first one exited


async def _processes_answering(url: str) -> set[float]:
    """The start times of the processes that answered /metrics, each on a new connection."""
    started = set()
    for _ in range(20):
        async with httpx.AsyncClient(base_url=url) as http:
            value = sample((await http.get("/metrics")).text, "process_start_time_seconds")
        assert value is not None
        started.add(value)
    return started if len(started) > 1 else set()


async def _returns(value: bool) -> bool:
    await asyncio.sleep(0)
    return value


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _command(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
