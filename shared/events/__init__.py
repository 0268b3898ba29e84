"""The typed catalogue of events exchanged between the services, and their envelope."""

from shared.events.catalogue import (
    CATALOGUE,
    ConseillerRegistered,
    PlannedPermanence,
    PlanPublished,
)
from shared.events.envelope import Envelope, Event, InvalidEvent, parse_envelope

__all__ = [
    "CATALOGUE",
    "ConseillerRegistered",
    "Envelope",
    "Event",
    "InvalidEvent",
    "PlanPublished",
    "PlannedPermanence",
    "parse_envelope",
]
