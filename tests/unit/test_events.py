"""The envelope, the subjects and the catalogue of events."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import uuid

import pytest
from pydantic import ValidationError

import shared.events.catalogue as catalogue_module
from shared.events import (
    CATALOGUE,
    AvailabilitySlot,
    DemandChanged,
    Envelope,
    Event,
    InvalidEvent,
    PlannedPermanence,
    parse_envelope,
)
from shared.events.envelope import MAX_EVENT_BYTES, SUBJECT_PATTERN
from shared.events.streams import STREAMS, dead_letter_subject, stream_for


def registered() -> DemandChanged:
    return DemandChanged(commune="2A004", individual_hours=2.5, atelier_hours=1, overridden=False)


def test_every_event_class_is_in_the_catalogue_under_its_own_subject():
    declared = {
        cls
        for _, cls in inspect.getmembers(catalogue_module, inspect.isclass)
        if issubclass(cls, Event) and cls is not Event
    }
    assert set(CATALOGUE.values()) == declared
    assert all(CATALOGUE[cls.subject] is cls for cls in declared)


@pytest.mark.parametrize("subject", sorted(CATALOGUE))
def test_subjects_follow_the_naming_and_each_lands_in_its_context_stream(subject):
    match = SUBJECT_PATTERN.match(subject)
    assert match is not None
    assert stream_for(subject) == match["context"].upper()


def test_a_subject_outside_the_naming_is_refused_at_class_definition():
    with pytest.raises(TypeError, match="not <context>"):

        class Bad(Event):
            subject = "Registry.ConseillerRegistered"


def test_streams_capture_disjoint_subjects_and_dead_letters_have_their_own():
    roots = [pattern.split(".")[0] for spec in STREAMS for pattern in spec.subjects]
    assert len(roots) == len(set(roots))
    assert stream_for(dead_letter_subject("scheduling-registry", DemandChanged.subject)) == "DEADLETTER"
    with pytest.raises(LookupError):
        stream_for("billing.invoice.sent.v1")


def test_envelope_carries_ids_time_and_version():
    event = registered()
    envelope = Envelope.wrap(event, producer="registry")
    assert envelope.subject == "registry.demand.changed.v1"
    assert envelope.schema_version == 1
    assert envelope.correlation_id == envelope.event_id  # a fact with no cause starts its own chain
    assert envelope.causation_id is None
    assert envelope.occurred_at.utcoffset() == dt.timedelta(0)
    assert envelope.producer == "registry"


def test_an_event_caused_by_another_keeps_the_correlation():
    cause = Envelope.wrap(registered(), producer="registry")
    effect = Envelope.wrap(
        registered(), producer="scheduling", correlation_id=cause.correlation_id, causation_id=cause.event_id
    )
    assert effect.correlation_id == cause.event_id
    assert effect.causation_id == cause.event_id


def test_envelope_round_trips_through_bytes():
    event = registered()
    envelope = Envelope.wrap(event, producer="registry")
    parsed_envelope, parsed_event = parse_envelope(event.subject, envelope.to_bytes())
    assert parsed_envelope == envelope
    assert parsed_event == event


def test_events_are_frozen_and_strict():
    event = registered()
    with pytest.raises(Exception, match="frozen"):
        event.commune = "61293"  # type: ignore[misc]
    with pytest.raises(Exception, match="Extra inputs"):
        DemandChanged.model_validate({**event.model_dump(), "extra": 1})


def _body(**changes) -> bytes:
    raw = json.loads(Envelope.wrap(registered(), producer="registry").to_bytes())
    for key, value in changes.items():
        if value is None:
            raw.pop(key)
        else:
            raw[key] = value
    return json.dumps(raw).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"{", "not JSON"),
        (b"[]", "not a JSON object: list"),
        (b"[" * 100_000, "not JSON: maximum recursion depth"),
        (_body(schema_version="@").replace(b'"@"', b"1" * 5000), "not JSON: Exceeds the limit"),
        (_body(schema_version="@").replace(b'"@"', b"NaN"), "not JSON: NaN is not a JSON number"),
        (_body(schema_version="@").replace(b'"@"', b"-Infinity"), "not JSON: -Infinity is not a JSON number"),
        (_body(data="@").replace(b'"@"', b'{"individual_hours": 1e999}'), "not JSON: number out of range"),
        (_body(event_id=None), "event_id: Field required"),
        (_body(occurred_at="2026-11-26T10:00:00"), "occurred_at"),
        (_body(schema_version=2), "schema_version 2 does not match"),
        (_body(subject="registry.demand.renamed.v1"), "does not match"),
        (_body(data={"commune": "61293"}), "individual_hours: Field required"),
        (_body(data={"commune": "61293", "individual_hours": "x", "atelier_hours": 1, "overridden": False}), "number"),
        (b" " * (MAX_EVENT_BYTES + 1), "exceeds"),
    ],
)
def test_invalid_messages_are_refused_with_a_reason(body, reason):
    with pytest.raises(InvalidEvent, match=reason):
        parse_envelope(DemandChanged.subject, body)


def test_an_unknown_subject_is_refused():
    envelope = Envelope.wrap(registered(), producer="registry").model_copy(update={"subject": "registry.x.y.v1"})
    with pytest.raises(InvalidEvent, match="unknown event subject"):
        parse_envelope("registry.x.y.v1", envelope.to_bytes())


def test_a_refusal_reason_never_echoes_the_payload():
    body = _body(data={"commune": "+33612345678", "individual_hours": 1, "atelier_hours": 1, "overridden": False})
    with pytest.raises(InvalidEvent) as refused:
        parse_envelope(DemandChanged.subject, body)
    assert "+33612345678" not in str(refused.value)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"time_zone": "Europe/Atlantis"}, "unknown time zone"),
        ({"time_zone": "../../../etc/passwd"}, "unknown time zone"),
        ({"time_zone": "Europe/Paris" * 6}, "at most 64 characters"),
        ({"ends_at": "2026-11-30T09:00:00+01:00"}, "ends_at must be after starts_at"),
    ],
)
def test_a_planned_permanence_has_a_known_time_zone_and_ends_after_it_starts(changes, reason):
    planned = {
        "permanence_id": uuid.uuid4(), "conseiller_id": uuid.uuid4(), "commune": "61293", "lieu": "EPN",
        "starts_at": "2026-11-30T09:00:00+01:00", "ends_at": "2026-11-30T12:00:00+01:00", "time_zone": "Europe/Paris",
    }  # fmt: skip
    assert PlannedPermanence.model_validate(planned).time_zone == "Europe/Paris"
    with pytest.raises(ValidationError, match=reason):
        PlannedPermanence.model_validate(planned | changes)


def test_a_fortnightly_slot_starts_on_its_first_day():
    slot = AvailabilitySlot(weekday=5, half="am", every_weeks=2, from_date=dt.date(2026, 12, 5))
    assert slot.from_date is not None
    with pytest.raises(ValueError, match="from_date of its first occurrence"):
        AvailabilitySlot(weekday=5, half="am", every_weeks=2)
    with pytest.raises(ValueError, match="not on weekday 5"):
        AvailabilitySlot(weekday=5, half="am", every_weeks=2, from_date=dt.date(2026, 12, 6))
