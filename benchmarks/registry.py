"""Registry benchmarks: loading the communes of France, and API latency under load.

- Communes: a fresh database each run (SQLite file; Postgres schema when
  ``BENCH_DATABASE_URL`` or ``TEST_DATABASE_URL`` is set). Targets: ≤ 10 s on SQLite,
  ≤ 15 s on Postgres.
- API: the registry as its own process (with nats-server), holding the Gard (350 communes,
  48 conseillers) and the Pays de Mortagne; a load generator in a second process on loopback
  sends reads a coordinator's page makes at a fixed rate (open loop: 200 req/s; target p99 ≤ 20 ms,
  over the requests answered, and none refused nor failed), to one process and then to two
  (``HTTP_WORKERS=2``). Baseline in the same run: ``/healthz`` (no database, no token) at the same
  rate, so the ratio shows what the work itself costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import text

from benchmarks.report import machine, print_table, spawn, wait_ready
from services.registry.adapters.communes import load_communes
from services.registry.bootstrap import MIGRATIONS
from shared.auth import Role, issue_token
from shared.db import create_engine
from shared.migrations import upgrade
from shared.settings import async_database_url
from tournees.demo.run import Api, set_up
from tournees.demo.territories import gard, mortagne
from tournees.supervisor import free_port, nats_server_binary

RUNS = 3
RATE = 200.0
"""Requests per second, sent whether or not the earlier ones were answered."""
SECONDS = 15.0
P99_TARGET_MS = 20.0
SECRET = "benchmark-secret-0123456789abcdefghij"  # noqa: S105 - signs the benchmark's own tokens only


async def load_once(url: str, schema: str | None) -> float:
    engine = create_engine(url, schema=schema)
    await upgrade(engine, MIGRATIONS)
    started = time.perf_counter()
    await load_communes(engine)
    took = time.perf_counter() - started
    await engine.dispose()
    return took


async def communes_rows() -> list[list[str]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        times = [await load_once(async_database_url(f"sqlite:///{tmp}/{i}.db"), None) for i in range(RUNS)]
    rows.append(_load_row("SQLite", times, 10.0))
    postgres = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not postgres:
        rows.append(["communes load, Postgres", "not measured: set BENCH_DATABASE_URL", "", "≤ 15 s", ""])
        return rows
    url = async_database_url(postgres)
    admin = create_engine(url)
    times = []
    for _ in range(RUNS):
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        async with admin.begin() as conn:
            await conn.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            times.append(await load_once(url, schema))
        finally:
            async with admin.begin() as conn:
                await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    await admin.dispose()
    rows.append(_load_row("Postgres", times, 15.0))
    return rows


def _load_row(database: str, times: list[float], target: float) -> list[str]:
    worst = max(times)
    verdict = "met" if worst <= target else f"MISSED by {worst - target:.1f} s"
    return [
        f"communes load, {database} (34,875 rows)",
        f"median {statistics.median(times):.2f} s, max {worst:.2f} s ({RUNS} runs)",
        "",
        f"≤ {target:g} s",
        f"{verdict}; {target / worst:.0f}× under" if worst <= target else verdict,
    ]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _load(url: str, token: str, paths: list[str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.load", url, token, str(RATE), str(SECONDS), *paths]
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)  # noqa: S603
    figures: dict[str, Any] = json.loads(result.stdout)
    return figures


async def api_rows() -> list[list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        nats_port, http_port = free_port(), free_port()
        nats = spawn(
            [nats_server_binary(), "-js", "-sd", f"{tmp}/nats", "-a", "127.0.0.1", "-p", str(nats_port)], quiet=True
        )
        env = {
            **os.environ, "DATA_DIR": tmp, "NATS_URL": f"nats://127.0.0.1:{nats_port}", "HTTP_PORT": str(http_port),
            "AUTH_SECRET": SECRET, "LOG_LEVEL": "WARNING", "DATABASE_URL": "",
        }  # fmt: skip
        url = f"http://127.0.0.1:{http_port}"
        token = issue_token(SecretStr(SECRET), subject="bench", role=Role.ADMIN)
        try:
            async with _registry(env, url, workers=1):
                async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
                    api = Api(http, {"registry": url})
                    await set_up(api, gard(), 0)
                    await set_up(api, mortagne(), 100)
                    someone = await api("GET", "registry", "/conseillers", params={"territory": "dep:30", "limit": 1})
                paths = [
                    "/lieux?territory=dep:30&limit=50",
                    "/conseillers?territory=dep:30&limit=50",
                    f"/conseillers/{someone['items'][0]['id']}",
                    "/communes/30189",
                    "/demand?territory=epci:200036069&limit=100",
                ]
                baseline = await asyncio.to_thread(_load, url, token, ["/healthz"])
                one = await asyncio.to_thread(_load, url, token, paths)
            async with _registry(env, url, workers=2):
                two = await asyncio.to_thread(_load, url, token, paths)
        finally:
            nats.terminate()
            nats.wait(10)
    rows = [
        _api_row("GET /healthz (baseline)", baseline),
        _api_row("coordinator reads (5 routes), 1 process", one),
        _api_row("coordinator reads (5 routes), 2 processes", two),
    ]
    for row, figures in ((rows[1], one), (rows[2], two)):
        if figures["latencies_ms"] and baseline["latencies_ms"]:
            ratio = _percentile(figures["latencies_ms"], 50) / _percentile(baseline["latencies_ms"], 50)
            row[4] += f"; p50 {ratio:.1f}× the baseline's"
    return rows


@contextlib.asynccontextmanager
async def _registry(env: dict[str, str], url: str, *, workers: int) -> AsyncIterator[None]:
    registry = spawn([sys.executable, "-m", "services.registry"], env={**env, "HTTP_WORKERS": str(workers)})
    try:
        await wait_ready(url)
        yield
    finally:
        registry.terminate()
        registry.wait(30)


def _api_row(label: str, figures: dict[str, Any]) -> list[str]:
    latencies = figures["latencies_ms"]
    failed = figures["refused"] + figures["errors"]
    answered = f"{len(latencies) / figures['seconds']:.0f} req/s answered, {figures['refused']} refused (503), "
    answered += f"{figures['errors']} errors"
    if not latencies:
        return [f"API {label}", "none answered", answered, f"p99 ≤ {P99_TARGET_MS:.0f} ms", "**missed**"]
    p99 = _percentile(latencies, 99)
    over = p99 - P99_TARGET_MS
    if over > 0:
        verdict = f"**missed by {over:.1f} ms ({p99 / P99_TARGET_MS:.1f}×)**"
    else:
        verdict = "met" if not failed else f"**missed: {failed} of {failed + len(latencies)} not answered**"
    return [
        f"API {label}",
        f"p50 {_percentile(latencies, 50):.1f} ms, p99 {p99:.1f} ms, max {max(latencies):.0f} ms",
        answered,
        f"p99 ≤ {P99_TARGET_MS:.0f} ms",
        verdict,
    ]


async def main() -> None:
    rows = await communes_rows() + await api_rows()
    load = f"{RATE:.0f} req/s for {SECONDS:.0f} s from a second process"
    print_table(f"Registry — {machine()}; load: {load}", rows)


if __name__ == "__main__":
    asyncio.run(main())
