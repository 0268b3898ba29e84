"""What ``test_hostile_events`` publishes: a valid event of each type a service consumes (coherent, in the order a
producer would publish them), and the malformed messages made from one, each with the reason it must be
dead-lettered with."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from shared.events import (
    AbsenceDeclared,
    AbsenceWithdrawn,
    AvailabilitySlot,
    CommuneRef,
    ConseillerRegistered,
    ConseillerUpdated,
    DemandChanged,
    Envelope,
    Event,
    LieuChanged,
    LieuClosed,
    LieuOpened,
    PermanenceCancelled,
    PermanenceMoved,
    PlannedPermanence,
    PlanPublished,
    SolveRequested,
    StructureRegistered,
    StructureUpdated,
    TerritoryDefined,
)
from shared.events.envelope import MAX_EVENT_BYTES

TERRITORY = "custom:hostile"
NOWHERE = "custom:nowhere"
"""The territory of the solve request: not in scheduling's copy, so the solver answers at once."""
MONDAY = dt.date(2026, 11, 30)
PARIS = ZoneInfo("Europe/Paris")
STRUCTURE, LIEU, CONSEILLER, ABSENCE = (uuid.uuid4() for _ in range(4))
PLAN, REPLAN, KEPT, DROPPED, MOVED_TO = (uuid.uuid4() for _ in range(5))
SOLVE_REQUEST = uuid.uuid4()

PERSONAL = ("Jeanne Dupont", "06 12 34 56 78")
"""Personal data in the payloads (a conseiller's name, a phone number): never in a dead letter's reason."""


def _permanence(permanence_id: uuid.UUID, hour: int) -> PlannedPermanence:
    starts_at = dt.datetime.combine(MONDAY, dt.time(hour), PARIS)
    return PlannedPermanence(
        permanence_id=permanence_id, conseiller_id=CONSEILLER, commune="61293", commune_name="Mortagne-au-Perche",
        lieu="EPN de Mortagne", starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=3),
        time_zone="Europe/Paris",
    )  # fmt: skip


def valid_events() -> list[Event]:
    """One event of each type, in an order every consumer can apply them in."""
    structure: dict[str, Any] = {
        "structure_id": STRUCTURE, "name": "EPN de Mortagne", "kind": "epn", "commune": "61293",
        "latitude": 48.52, "longitude": 0.547,
    }  # fmt: skip
    lieu: dict[str, Any] = {
        "lieu_id": LIEU, "name": "EPN de Mortagne", "kind": "structure", "structure_id": STRUCTURE,
        "commune": "61293", "latitude": 48.52, "longitude": 0.547, "capacity": 8, "has_computers": True,
        "accessible": True, "opening_hours": "Mo-Fr 09:00-17:00",
    }  # fmt: skip
    conseiller: dict[str, Any] = {
        "conseiller_id": CONSEILLER, "name": PERSONAL[0], "employer_structure_id": STRUCTURE,
        "home_lieu_id": LIEU, "weekly_hours": 35, "availability": [AvailabilitySlot(weekday=0, half="am")],
        "skills": [], "travel_mode": "car", "max_travel_minutes_per_day": 90, "territories": [TERRITORY],
    }  # fmt: skip
    commune = CommuneRef(insee="61293", name="Mortagne-au-Perche", population=3818)
    return [
        TerritoryDefined(
            code=TERRITORY,
            kind="custom",
            name="Perche",
            time_zone="Europe/Paris",
            holiday_calendar="FR",
            communes=[commune],
        ),
        StructureRegistered(**structure),
        StructureUpdated(**structure),
        LieuOpened(**lieu),
        LieuChanged(**lieu),
        ConseillerRegistered(**conseiller),
        ConseillerUpdated(**conseiller),
        AbsenceDeclared(
            absence_id=ABSENCE,
            conseiller_id=CONSEILLER,
            start_date=MONDAY,
            start_half="am",
            end_date=MONDAY,
            end_half="pm",
            kind="conge",
        ),
        AbsenceWithdrawn(absence_id=ABSENCE, conseiller_id=CONSEILLER),
        DemandChanged(commune="61293", individual_hours=3, atelier_hours=1, overridden=False),
        LieuClosed(lieu_id=LIEU),
        PlanPublished(
            plan_id=PLAN,
            territory=TERRITORY,
            week_start=MONDAY,
            permanences=[_permanence(KEPT, 9), _permanence(DROPPED, 14)],
        ),
        PermanenceMoved(plan_id=REPLAN, permanence_id=KEPT, to=_permanence(MOVED_TO, 10), reason="absence"),
        PermanenceCancelled(plan_id=REPLAN, permanence_id=DROPPED, reason="lieu fermé"),
        SolveRequested(request_id=SOLVE_REQUEST, territory=NOWHERE, kind="plan"),
    ]


@dataclass(frozen=True)
class Hostile:
    kind: str
    subject: str
    body: bytes
    reason: str
    """How the dead letter's reason starts."""
    headers: dict[str, str] | None = None


def malformed(valid: Envelope) -> list[Hostile]:
    """Every way of getting a message on ``valid``'s subject wrong."""
    subject = valid.subject
    good: dict[str, Any] = json.loads(valid.to_bytes())
    required = [name for name, field in type(valid.event()).model_fields.items() if field.is_required()]
    missing, wrong = required[0], required[-1]
    unknown = f"{subject.split('.', 1)[0]}.hostile.unknown.v1"

    def body(**changes: Any) -> bytes:
        return json.dumps({**good, **changes}).encode()

    def text(**tokens: str) -> bytes:
        """``good`` with some values written as raw JSON text (what json.dumps would not write)."""
        placeholders = {name: f"@{name}@" for name in tokens}
        raw = json.dumps({**good, **placeholders})
        for name, token in tokens.items():
            raw = raw.replace(json.dumps(placeholders[name]), token)
        return raw.encode()

    without_ids = {k: v for k, v in good.items() if k not in ("event_id", "occurred_at")}
    return [
        # A broken trace header too: the consumer's span must not choke on it.
        Hostile("not JSON", subject, b"\x00not json", "invalid: not JSON", {"traceparent": "00-garbage"}),
        Hostile(
            "not JSON, said to be", subject, b"{not json", "invalid: not JSON", {"content-type": "application/json"}
        ),
        Hostile("not UTF-8", subject, b'{"event_id": "\xff\xfe"}', "invalid: not JSON"),
        Hostile("not an object", subject, b'["an", "array"]', "invalid: not a JSON object"),
        Hostile("nested too deep", subject, b"[" * 100_000, "invalid: not JSON"),
        Hostile("huge integer", subject, text(schema_version="1" * 5000), "invalid: not JSON"),
        Hostile("NaN", subject, text(schema_version="NaN"), "invalid: not JSON"),
        Hostile("unknown schema version", subject, body(schema_version=2), "invalid: schema_version 2 does not match"),
        Hostile(
            "envelope without its id", subject, json.dumps(without_ids).encode(), "invalid: bad envelope: event_id"
        ),
        Hostile(
            "event without a field",
            subject,
            body(data={k: v for k, v in good["data"].items() if k != missing}),
            f"invalid: {subject}: {missing}: Field required",
        ),
        Hostile(
            "event with a wrong-typed field",
            subject,
            body(data={**good["data"], wrong: {"telephone": PERSONAL[1]}}),
            f"invalid: {subject}: {wrong}",
        ),
        Hostile(
            "too big",
            subject,
            body(producer=PERSONAL[1] * (MAX_EVENT_BYTES // len(PERSONAL[1]))),
            "invalid: payload of",
        ),
        Hostile(
            "another event type on this subject",
            subject,
            body(subject=unknown),
            f"invalid: envelope subject '{unknown}' does not match",
        ),
    ]


def nonsense(valid: dict[str, Envelope]) -> list[Hostile]:
    """Messages of the right shape whose values a consumer cannot use: refused with the rest, not stored."""

    def data(subject: str, **changes: Any) -> bytes:
        good: dict[str, Any] = json.loads(valid[subject].to_bytes())
        return json.dumps({**good, "data": {**good["data"], **changes}}).encode()

    territory, plan, demand = TerritoryDefined.subject, PlanPublished.subject, DemandChanged.subject
    permanence: dict[str, Any] = json.loads(valid[plan].to_bytes())["data"]["permanences"][0]
    infinite = data(demand, individual_hours="@").replace(b'"@"', b"1e999")
    return [
        Hostile(
            "unknown time zone",
            territory,
            data(territory, time_zone="Europe/Atlantis"),
            f"invalid: {territory}: time_zone: Value error, unknown time zone",
        ),
        Hostile(
            "a path for a time zone",
            plan,
            data(plan, permanences=[{**permanence, "time_zone": "../../../etc/passwd"}]),
            f"invalid: {plan}: permanences.0.time_zone: Value error, unknown time zone",
        ),
        Hostile(
            "a permanence ending as it starts",
            plan,
            data(plan, permanences=[{**permanence, "ends_at": permanence["starts_at"]}]),
            f"invalid: {plan}: permanences.0: Value error, ends_at must be after starts_at",
        ),
        Hostile("infinite hours", demand, infinite, "invalid: not JSON: number out of range"),
    ]


def unknown_on(pattern: str, producer: Envelope) -> Hostile | None:
    """On a wildcard subscription: an event of a type no one knows, on its own subject."""
    if not pattern.endswith(">"):
        return None
    subject = pattern.replace(">", "hostile.unknown.v1")
    good = json.loads(producer.to_bytes())
    body = json.dumps({**good, "subject": subject}).encode()
    return Hostile("unknown event type", subject, body, f"invalid: unknown event subject '{subject}'")


def matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, a final ``>`` one or more."""
    wanted, tokens = pattern.split("."), subject.split(".")
    for i, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > i
        if i >= len(tokens) or token not in ("*", tokens[i]):
            return False
    return len(tokens) == len(wanted)
