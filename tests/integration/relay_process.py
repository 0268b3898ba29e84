"""A relay run as its own process, which can be told to die by SIGKILL at a chosen step.

    python -m tests.integration.relay_process DATABASE_URL SCHEMA NATS_URL MODE

MODE: ``kill-before-publish`` (the outbox row is committed, nothing published yet),
``kill-after-publish`` (JetStream has the event, the row is not marked sent yet), or
``run`` (relay the outbox once and exit 0).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import nats

from services.registry.adapters import orm
from shared.db import create_engine
from shared.outbox import OutboxRelay, PubAck


class DyingPublisher:
    def __init__(self, js: nats.js.JetStreamContext, mode: str) -> None:
        self.js = js
        self.mode = mode

    async def publish(
        self,
        subject: str,
        payload: bytes = b"",
        timeout: float | None = None,
        stream: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> PubAck:
        if self.mode == "kill-before-publish":
            os.kill(os.getpid(), signal.SIGKILL)
        ack: PubAck = await self.js.publish(subject, payload, timeout=timeout, stream=stream, headers=headers)
        if self.mode == "kill-after-publish":
            os.kill(os.getpid(), signal.SIGKILL)
        return ack


async def main(database_url: str, schema: str, nats_url: str, mode: str) -> None:
    engine = create_engine(database_url, schema=schema or None)
    nc = await nats.connect(nats_url)
    relay = OutboxRelay(engine, orm.outbox, DyingPublisher(nc.jetstream(), mode))
    await relay.run_once()
    await nc.close()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
