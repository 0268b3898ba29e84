"""A load generator, run as its own process so it does not share the server's event loop.

    python -m benchmarks.load URL TOKEN RATE SECONDS PATH [PATH ...]

Open loop: sends GET requests at RATE per second for SECONDS, cycling through the paths, whether
or not the earlier ones were answered; each latency counts from when the request was due, not
when it left, so a server that falls behind shows it (no coordinated omission). Prints one JSON
line: the latencies in milliseconds, the number of errors and the seconds it took.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time

import httpx

MAX_CONNECTIONS = 256


async def run(url: str, token: str, rate: float, seconds: float, paths: list[str]) -> None:
    latencies: list[float] = []
    refused = errors = 0
    targets = itertools.cycle(paths)
    limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits) as http:

        async def one(path: str, due: float) -> None:
            nonlocal refused, errors
            try:
                response = await http.get(path, timeout=30)
            except httpx.HTTPError:
                errors += 1
                return
            if response.status_code == 503:
                refused += 1
            elif response.status_code >= 300:
                errors += 1
            else:
                latencies.append((time.perf_counter() - due) * 1000)

        started = time.perf_counter()
        pending = []
        for n in range(round(rate * seconds)):
            due = started + n / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            pending.append(asyncio.create_task(one(next(targets), due)))
        await asyncio.gather(*pending)
        elapsed = time.perf_counter() - started
    print(json.dumps({"latencies_ms": latencies, "refused": refused, "errors": errors, "seconds": elapsed}))


if __name__ == "__main__":
    url, token, rate, seconds, *paths = sys.argv[1:]
    asyncio.run(run(url, token, float(rate), float(seconds), paths))
