"""The JetStream streams, declared once: one per context, the solver's work queue, the dead letters."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

DEAD_LETTER_PREFIX = "deadletter"
DAY = 24 * 3600.0


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    max_age_days: float
    max_bytes: int
    work_queue: bool = False
    """A work queue keeps a message until one consumer acknowledges it, then deletes it."""


STREAMS: tuple[StreamSpec, ...] = (
    # No age limit: a new consumer rebuilds its copy of the registry by replaying it all.
    StreamSpec("REGISTRY", ("registry.>",), max_age_days=0, max_bytes=4 * 1024**3),
    StreamSpec("SCHEDULING", ("scheduling.>",), max_age_days=30, max_bytes=2 * 1024**3),
    StreamSpec("NOTIFICATIONS", ("notifications.>",), max_age_days=30, max_bytes=2 * 1024**3),
    # Solve requests, shared by the scheduling replicas: each is taken by one of them at a time.
    StreamSpec("SOLVER", ("solver.>",), max_age_days=7, max_bytes=256 * 1024**2, work_queue=True),
    StreamSpec("DEADLETTER", (f"{DEAD_LETTER_PREFIX}.>",), max_age_days=90, max_bytes=1024**3),
)


def stream_for(subject: str) -> str:
    context = subject.split(".", 1)[0]
    for spec in STREAMS:
        if any(pattern.split(".", 1)[0] == context for pattern in spec.subjects):
            return spec.name
    raise LookupError(f"no stream captures {subject!r}")


def dead_letter_subject(consumer: str, subject: str) -> str:
    return f"{DEAD_LETTER_PREFIX}.{consumer}.{subject}"


async def ensure_streams(js: JetStreamContext, *, replicas: int = 1, duplicate_window_s: float = 3600.0) -> None:
    """Create every stream, or bring an existing one to the declared config. Idempotent.

    The duplicate window must cover how long the outbox relay may retry one publish, so a
    retried publish after a crash is dropped by JetStream (the consumers' inbox covers
    anything older).
    """
    for spec in STREAMS:
        config = StreamConfig(
            name=spec.name,
            subjects=list(spec.subjects),
            retention=RetentionPolicy.WORK_QUEUE if spec.work_queue else RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=spec.max_age_days * DAY,  # 0: no limit
            max_bytes=spec.max_bytes,
            num_replicas=replicas,
            duplicate_window=duplicate_window_s,
        )
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)
