"""The envelope every event travels in, and the base class of event payloads.

Subjects follow ``<context>.<aggregate>.<event>.v<N>``. The envelope's ``event_id`` is also
sent as the ``Nats-Msg-Id`` header, so JetStream drops a publish the relay retried.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, NoReturn

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

SUBJECT_PATTERN = re.compile(
    r"^(?P<context>[a-z]+)\.(?P<aggregate>[a-z_]+)\.(?P<name>[a-z_]+)\.v(?P<version>[1-9][0-9]*)$"
)

MAX_EVENT_BYTES = 256 * 1024
"""The largest message a consumer reads (the biggest event, a plan of a few hundred permanences, is a
fraction of it): a bigger one is dead-lettered before it is parsed."""


class InvalidEvent(ValueError):
    """A message that can never be applied: it goes to the dead-letter subject with this reason."""


class Event(BaseModel):
    """Payload of one fact. Subclasses declare their subject (which carries the version)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        subject = cls.__dict__.get("subject")
        if subject is not None and not SUBJECT_PATTERN.match(subject):
            raise TypeError(f"{cls.__name__}.subject {subject!r} is not <context>.<aggregate>.<event>.v<N>")

    @classmethod
    def context(cls) -> str:
        return cls.subject.split(".", 1)[0]

    @classmethod
    def schema_version(cls) -> int:
        return int(cls.subject.rsplit(".v", 1)[1])


class Envelope(BaseModel):
    """What is actually published: metadata for tracing and de-duplication around one event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # No defaults: a message received without an id or a time is invalid, not given new ones.
    event_id: uuid.UUID
    subject: str
    schema_version: int
    occurred_at: AwareDatetime
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    producer: str
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        producer: str,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
    ) -> Envelope:
        event_id = uuid.uuid4()
        return cls(
            event_id=event_id,
            occurred_at=datetime.now(UTC),
            subject=event.subject,
            schema_version=event.schema_version(),
            correlation_id=correlation_id or event_id,
            causation_id=causation_id,
            producer=producer,
            data=event.model_dump(mode="json"),
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    def event(self) -> Event:
        """The typed payload, validated against the catalogue."""
        from shared.events.catalogue import CATALOGUE

        event_type = CATALOGUE.get(self.subject)
        if event_type is None:
            raise InvalidEvent(f"unknown event subject {self.subject!r}")
        try:
            return event_type.model_validate(self.data)
        except ValidationError as exc:
            raise InvalidEvent(f"{self.subject}: {_first_errors(exc)}") from exc


def parse_envelope(subject: str, body: bytes) -> tuple[Envelope, Event]:
    """Parse and validate a message received on ``subject``; raise InvalidEvent with the reason."""
    raw = read_json(body)
    if not isinstance(raw, dict):
        raise InvalidEvent(f"not a JSON object: {type(raw).__name__}")
    try:
        envelope = Envelope.model_validate(raw)
    except ValidationError as exc:
        raise InvalidEvent(f"bad envelope: {_first_errors(exc)}") from exc
    if envelope.subject != subject:
        raise InvalidEvent(f"envelope subject {envelope.subject!r} does not match {subject!r}")
    event = envelope.event()
    if envelope.schema_version != event.schema_version():
        raise InvalidEvent(
            f"schema_version {envelope.schema_version} does not match {subject} (v{event.schema_version()})"
        )
    return envelope, event


def read_json(body: bytes) -> Any:
    """``body`` as JSON (UTF-8, numbers finite, at most ``MAX_EVENT_BYTES``); InvalidEvent with the reason.

    What ``json.loads`` lets through or raises besides JSONDecodeError is refused here too: NaN and
    Infinity (no JSON, and they would pass ``ge=0``), nesting past the recursion limit (RecursionError),
    integers of more than 4300 digits (ValueError)."""
    if len(body) > MAX_EVENT_BYTES:
        raise InvalidEvent(f"payload of {len(body)} bytes exceeds {MAX_EVENT_BYTES}")
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_not_a_number, parse_float=_finite)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InvalidEvent(f"not JSON: {_first_line(exc)}") from exc


def _not_a_number(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"number out of range: {text[:20]}")
    return number


def _first_line(exc: BaseException) -> str:
    return str(exc).split("\n", 1)[0][:200]


def _first_errors(exc: ValidationError, limit: int = 3) -> str:
    parts = [f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()[:limit]]
    return "; ".join(parts)
