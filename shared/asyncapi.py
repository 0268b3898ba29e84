"""AsyncAPI documents of the services, generated from their code: what each subscribes to, what it publishes.

A service's document comes from the FastStream broker its composition root builds (never connected:
no NATS, no database is needed) and describes:

- its subscribers, as the service runs them: the subject, the durable consumer's name as the title,
  the handler's docstring as the description. ``durable_consumer`` handlers take the raw
  ``NatsMessage`` (they parse and validate it themselves, to dead-letter what is invalid), so
  FastStream would document an empty payload; ``EventSubscriberSpecification`` documents instead the
  envelopes of the catalogue's events that travel on the subscriber's subject;
- what it publishes. The outbox relay publishes with raw nats-py, which FastStream cannot see, so
  ``declare_publishers`` puts one FastStream publisher per event on the broker for the document
  only: nothing calls them, and the running services never build them (only the ``asyncapi``
  module of each service does).

Each message's payload is the ``Envelope`` with its ``subject`` and ``schema_version`` fixed and its
``data`` the event's model: exactly what ``Envelope.wrap(event).to_bytes()`` sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from typing import Any, Literal

from fast_depends.pydantic._compat import create_model as fd_create_model  # FastStream's own helper
from fast_depends.pydantic._compat import get_config_base
from faststream import FastStream
from faststream.nats import NatsBroker
from faststream.nats.subscriber.specification import NatsSubscriberSpecification
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.message import get_model_schema
from pydantic import create_model

from shared.events import CATALOGUE, Envelope, Event
from shared.events.streams import dead_letter_subject, stream_for
from shared.messaging import REASON_HEADER

RELAY_NOTE = (
    "Published by the service's outbox relay (nats-py, not FastStream) to the JetStream stream {stream}, "
    "with the header Nats-Msg-Id = event_id (JetStream drops a retried publish) and Tournees-Correlation-Id."
)


@cache
def envelope_of(event_type: type[Event]) -> type[Envelope]:
    """The envelope that carries ``event_type``, as a model: subject and schema version fixed, typed data."""
    subject: Any = Literal[event_type.subject]
    version: Any = Literal[event_type.schema_version()]
    model: type[Envelope] = create_model(
        f"{event_type.__name__}Envelope",
        __base__=Envelope,
        __doc__=f"The envelope of {event_type.subject}.",
        subject=(subject, ...),
        schema_version=(version, ...),
        data=(event_type, ...),
    )
    return model


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, a final ``>`` one or more."""
    wanted, tokens = pattern.split("."), subject.split(".")
    for i, part in enumerate(wanted):
        if part == ">":
            return len(tokens) > i
        if i >= len(tokens) or (part != "*" and part != tokens[i]):
            return False
    return len(wanted) == len(tokens)


def events_on(subject: str) -> list[type[Event]]:
    """The catalogue's events that travel on ``subject`` (a wildcard covers several), in catalogue order."""
    return [event_type for name, event_type in CATALOGUE.items() if subject_matches(subject, name)]


def _payload(event_type: type[Event], prefix: str) -> dict[str, Any]:
    model = fd_create_model("", __config__=get_config_base(), response__=(envelope_of(event_type), ...))
    body = get_model_schema(model, prefix=prefix)
    assert body is not None  # an envelope has fields
    return body


class EventSubscriberSpecification(NatsSubscriberSpecification):
    """A subscriber documented by the envelopes of the events on its subject, not by its handler's signature."""

    __slots__ = ()

    @property
    def description(self) -> str | None:
        consumer = self.config.title_ or self.call_name
        lines = " ".join((super().description or "").split())
        streams = ", ".join(sorted({stream_for(subject) for subject in self.subjects}))
        dead_letters = dead_letter_subject(consumer, "<subject>")
        note = (
            f"Durable pull consumer {consumer} of the stream {streams}: a message it gives up on goes to "
            f"{dead_letters} with its reason in the {REASON_HEADER} header."
        )
        return f"{lines} {note}".strip()

    def get_payloads(self) -> list[tuple[dict[str, Any], str]]:
        prefix = f"{self.config.title_ or self.call_name}:Message"
        return [
            (_payload(event_type, prefix), event_type.__name__)
            for subject in self.subjects
            for event_type in events_on(subject)
        ]


def describe_subscribers(broker: NatsBroker) -> None:
    """Document every subscriber of ``broker`` by the events its subject carries; each must carry one at least."""
    for subscriber in broker.subscribers:
        spec = subscriber.specification
        assert isinstance(spec, NatsSubscriberSpecification)
        documented = EventSubscriberSpecification(spec._outer_config, spec.config, spec.calls)
        if not documented.get_payloads():
            raise LookupError(f"no event of the catalogue travels on {documented.subjects}")
        # The same NATS specification with other payloads; FastStream types the attribute by its generic base.
        subscriber.specification = documented  # type: ignore[assignment]


def declare_publishers(broker: NatsBroker, events: Iterable[type[Event]]) -> None:
    """One publisher per event, for the document only (see the module's docstring)."""
    for event_type in events:
        stream = stream_for(event_type.subject)
        doc = " ".join((event_type.__doc__ or "").split())
        broker.publisher(
            event_type.subject,
            title=event_type.subject,
            description=" ".join(filter(None, (doc, RELAY_NOTE.format(stream=stream)))),
            schema=envelope_of(event_type),
            include_in_schema=True,
        )


def asyncapi_app(
    broker: NatsBroker, *, service: str, description: str, publishes: Iterable[type[Event]], version: str
) -> FastStream:
    """The FastStream app whose ``schema`` is the service's AsyncAPI document (``faststream docs gen`` reads it)."""
    describe_subscribers(broker)
    declare_publishers(broker, publishes)
    return FastStream(
        broker,
        specification=AsyncAPI(
            title=f"Tournées — {service}",
            version=version,
            description=description,
            schema_version="3.0.0",
        ),
    )


def document(app: FastStream) -> dict[str, Any]:
    """The AsyncAPI document as JSON data, as ``faststream docs gen`` writes it."""
    assert app.schema is not None
    jsonable: dict[str, Any] = app.schema.to_specification().to_jsonable()
    return jsonable


def render(app: FastStream) -> str:
    """The document as committed: keys sorted, so that regenerating it changes no line needlessly."""
    return json.dumps(document(app), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
