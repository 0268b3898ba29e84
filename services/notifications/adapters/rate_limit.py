"""A token bucket: at most ``per_second`` calls a second on average, in bursts of at most ``burst``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class TokenBucket:
    def __init__(
        self,
        per_second: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least one")
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._at = clock()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        """Wait for a token; callers are served in the order they came."""
        async with self._lock:
            wait = self._refill()
            if wait > 0:
                await self._sleep(wait)
                self._refill()
            self._tokens -= 1

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.per_second
