"""What every benchmark shares: its table, the machine it ran on, and the processes it starts."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
import time

import httpx

from tournees.supervisor import die_with_parent

HEADERS = ["measure", "figure", "throughput", "target", "result"]


def machine() -> str:
    """Today's date and this machine, for a table's title."""
    return (
        f"{time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def print_table(title: str, rows: list[list[str]], headers: list[str] = HEADERS, *, markdown: bool = False) -> None:
    if markdown:
        print(f"\n## {title}\n")
        print("| " + " | ".join(headers) + " |")
        print("|" + "---|" * len(headers))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    print(f"\n{title}")
    print("  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  " + "  ".join("-" * w for w in widths))
    for row in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def spawn(command: list[str], *, env: dict[str, str] | None = None, quiet: bool = False) -> subprocess.Popen[bytes]:
    output = subprocess.DEVNULL if quiet else None
    return subprocess.Popen(  # noqa: S603 - our own commands
        command, env=env, stdout=output, stderr=output, preexec_fn=die_with_parent
    )


async def wait_ready(url: str, timeout_s: float = 60) -> None:
    """Until ``url``/readyz answers 200."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} did not become ready")


async def wait_port(port: int, timeout_s: float = 30) -> None:
    """Until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port}")
