"""The fake at work: its state, the HTTP client for webhooks, and the tasks moving messages to their last status."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx

from services.notifications.adapters.fake_twilio.messages import OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS, FakeMessage, keyword
from services.notifications.adapters.fake_twilio.state import FakeTwilioState, Outcome
from services.notifications.adapters.fake_twilio.webhooks import incoming_params, post_signed, status_params

# The statuses a message goes through after ``queued``, by how it ends.
PATHS: dict[str | None, tuple[str, ...]] = {
    None: ("sending", "sent", "delivered"),
    "undelivered": ("sending", "sent", "undelivered"),
    "failed": ("sending", "failed"),
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class FakeTwilio:
    """The state, with the HTTP client for webhooks and one task per message moving it to its last status."""

    def __init__(self, state: FakeTwilioState, step_s: float) -> None:
        self.state = state
        self.step_s = step_s
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=5.0)
        return self._client

    def send(self, message: FakeMessage) -> None:
        """Move ``message`` from queued to its last status in the background, ``step_s`` a step."""
        task = asyncio.create_task(self._progress(message, self.state.failing.get(message.to)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _progress(self, message: FakeMessage, outcome: Outcome | None) -> None:
        for status in PATHS[None if outcome is None else outcome.status]:
            await asyncio.sleep(self.step_s)
            self.state.move(message, status, outcome)
            if message.status_callback:
                await post_signed(self.http(), self.state, message.status_callback, status_params(message))

    async def receive(self, from_: str, to: str, body: str, url: str) -> tuple[FakeMessage, int | None]:
        """An SMS from ``from_`` to one of our numbers: opt-out keywords, then the signed webhook to ``url``."""
        message = self.state.add(to=to, from_=from_, body=body, direction="inbound", status="received")
        message.sent = message.created
        if keyword(body) in OPT_OUT_KEYWORDS:
            self.state.unsubscribed.add(from_)
        elif keyword(body) in OPT_IN_KEYWORDS:
            self.state.unsubscribed.discard(from_)
        return message, await post_signed(self.http(), self.state, url, incoming_params(message))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
