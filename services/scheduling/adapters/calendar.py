"""A conseiller's published permanences as an iCalendar feed (RFC 5545), for their calendar app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from icalendar import Calendar, Event

from services.scheduling.domain.model import Permanence

PRODUCT = "-//Tournées//permanences//FR"


def feed(name: str, permanences: Iterable[Permanence], *, now: dt.datetime | None = None) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Permanences — {name}")
    stamp = now or dt.datetime.now(dt.UTC)
    for p in sorted(permanences, key=lambda p: p.starts_at):
        event = Event()
        event.add("uid", f"{p.id}@tournees")
        event.add("dtstamp", stamp)
        event.add("dtstart", p.starts_at.astimezone(dt.UTC))
        event.add("dtend", p.ends_at.astimezone(dt.UTC))
        event.add("summary", f"{'Atelier' if p.kind == 'atelier' else 'Permanence'} — {p.lieu}")
        event.add("location", f"{p.lieu} ({p.commune})")
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
