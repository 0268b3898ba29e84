"""A load generator, run as its own process so it does not share the server's event loop.

    python -m benchmarks.load URL TOKEN CONCURRENCY REQUESTS PATH [PATH ...]

Sends REQUESTS GET requests over CONCURRENCY connections, cycling through the paths, and
prints one JSON line: the latencies in milliseconds and the number of errors.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time

import httpx


async def run(url: str, token: str, concurrency: int, requests: int, paths: list[str]) -> None:
    latencies: list[float] = []
    errors = 0
    targets = itertools.cycle(paths)
    remaining = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits) as http:

        async def worker() -> None:
            nonlocal errors
            for _ in remaining:
                path = next(targets)
                started = time.perf_counter()
                response = await http.get(path, timeout=30)
                latencies.append((time.perf_counter() - started) * 1000)
                errors += response.status_code >= 400

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    print(json.dumps({"latencies_ms": latencies, "errors": errors, "seconds": elapsed}))


if __name__ == "__main__":
    url, token, concurrency, requests, *paths = sys.argv[1:]
    asyncio.run(run(url, token, int(concurrency), int(requests), paths))
