"""Recurrences of a lieu: a coordinator's standing request that a permanence or an atelier is held
there regularly ("an atelier every Friday 16:00-17:00, 8 seats, on computers"), each occurrence by
exactly one conseiller.

``Recurrence`` is a value object; ``parse_recurrences`` reads a lieu's list and checks it against
the lieu's weekly opening hours and room, naming the field at fault (``recurrences.0.end``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, get_args

from services.registry.domain.errors import RuleBroken
from services.registry.domain.skills import SKILL, SKILL_RULE, normalized
from shared.events import RecurrenceKind, check_anchor
from shared.opening_hours import OpeningHours

RECURRENCE_KINDS: tuple[str, ...] = get_args(RecurrenceKind)
MAX_RECURRENCES = 50
MAX_EVERY_WEEKS = 4
MIN_MINUTES = 30
FIELDS = ("id", "weekday", "start", "end", "every_weeks", "from_date", "kind", "skill", "seats", "needs_computers")


@dataclass(frozen=True, kw_only=True)
class Recurrence:
    """A ``kind`` on ``weekday`` (0 is Monday) from ``start`` to ``end``, local time of the lieu,
    every ``every_weeks`` weeks counted from ``from_date`` (its first occurrence, on ``weekday``;
    required when ``every_weeks`` > 1, as for a conseiller's availability)."""

    id: uuid.UUID
    weekday: int
    start: dt.time
    end: dt.time
    every_weeks: int = 1
    from_date: dt.date | None = None
    kind: str
    skill: str | None = None
    """A skill the conseiller must have (one of ``Conseiller.skills``), if any."""
    seats: int = 0
    needs_computers: bool = False

    def snapshot(self) -> dict[str, Any]:
        """As ``RecurrenceFields`` in the lieu's events."""
        return {"recurrence_id": self.id, **{name: getattr(self, name) for name in FIELDS[1:]}}


def parse_recurrences(
    items: Iterable[Recurrence | Mapping[str, Any]], *, hours: OpeningHours, capacity: int, has_computers: bool
) -> tuple[Recurrence, ...]:
    """A lieu's recurrences, in the order given, each checked against the lieu's weekly hours and
    room. A new one without ``id`` gets a fresh id; a given id is kept (a coordinator's edit keeps
    them). RuleBroken names the field, e.g. ``recurrences.0.end``."""
    given = list(items)
    if len(given) > MAX_RECURRENCES:
        raise RuleBroken("recurrences", f"at most {MAX_RECURRENCES} per lieu")
    parsed: list[Recurrence] = []
    for index, item in enumerate(given):
        at = f"recurrences.{index}"
        recurrence = item if isinstance(item, Recurrence) else _read(item, at)
        _check(recurrence, at, capacity=capacity, has_computers=has_computers)
        _within_hours(recurrence, at, hours)
        if any(other.id == recurrence.id for other in parsed):
            raise RuleBroken(f"{at}.id", f"{recurrence.id} is the id of another recurrence of this lieu")
        parsed.append(recurrence)
    return tuple(parsed)


def _read(item: Mapping[str, Any], at: str) -> Recurrence:
    if unknown := sorted(set(item) - set(FIELDS)):
        raise RuleBroken(f"{at}.{unknown[0]}", "unknown field")
    for required in ("weekday", "start", "end", "kind"):
        if item.get(required) is None:
            raise RuleBroken(f"{at}.{required}", "required")
    skill = item.get("skill")
    return Recurrence(
        id=_id(item.get("id"), f"{at}.id"),
        weekday=item["weekday"],
        start=_clock(item["start"], f"{at}.start"),
        end=_clock(item["end"], f"{at}.end"),
        every_weeks=item.get("every_weeks", 1),
        from_date=_date(item.get("from_date"), f"{at}.from_date"),
        kind=item["kind"],
        skill=None if skill is None else normalized(skill),
        seats=item.get("seats", 0),
        needs_computers=bool(item.get("needs_computers", False)),
    )


def _check(r: Recurrence, at: str, *, capacity: int, has_computers: bool) -> None:
    if type(r.weekday) is not int or not 0 <= r.weekday <= 6:
        raise RuleBroken(f"{at}.weekday", "0 (Monday) to 6 (Sunday)")
    if r.kind not in RECURRENCE_KINDS:
        raise RuleBroken(f"{at}.kind", f"one of {', '.join(RECURRENCE_KINDS)}")
    if not r.start < r.end:
        raise RuleBroken(f"{at}.end", "must end after it starts (not past midnight)")
    if _minutes(r.end) - _minutes(r.start) < MIN_MINUTES:
        raise RuleBroken(f"{at}.end", f"at least {MIN_MINUTES} minutes after the start")
    if type(r.every_weeks) is not int or not 1 <= r.every_weeks <= MAX_EVERY_WEEKS:
        raise RuleBroken(f"{at}.every_weeks", f"1 to {MAX_EVERY_WEEKS}")
    try:
        check_anchor(r.weekday, r.every_weeks, r.from_date, "recurrence")
    except ValueError as exc:
        raise RuleBroken(f"{at}.from_date", str(exc)) from None
    if r.skill is not None and not SKILL.match(r.skill):
        raise RuleBroken(f"{at}.skill", f"{SKILL_RULE}: not {r.skill!r}")
    if type(r.seats) is not int or not 0 <= r.seats <= capacity:
        raise RuleBroken(f"{at}.seats", f"between 0 and the lieu's capacity ({capacity})")
    if r.needs_computers and not has_computers:
        raise RuleBroken(f"{at}.needs_computers", "this lieu has no computers")


def _within_hours(r: Recurrence, at: str, hours: OpeningHours) -> None:
    """Inside one interval of the lieu's weekly hours on its weekday (dated exceptions and public
    holidays only cancel occurrences, they do not make the recurrence wrong)."""
    intervals = hours.weekly[r.weekday]
    day = OpeningHours.of({r.weekday: intervals}).to_osm() if intervals else "closed"
    opening = next(((opens, closes) for opens, closes in intervals if opens <= r.start < closes), None)
    if opening is None:
        field = "weekday" if not intervals else "start"
        raise RuleBroken(f"{at}.{field}", f"outside the lieu's opening hours that day ({day})")
    if r.end > opening[1]:
        raise RuleBroken(f"{at}.end", f"past the lieu's closing time that day ({day})")


def _minutes(moment: dt.time) -> int:
    return moment.hour * 60 + moment.minute


def _id(value: Any, field: str) -> uuid.UUID:
    if value is None:
        return uuid.uuid4()
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise RuleBroken(field, "a UUID") from None


def _clock(value: Any, field: str) -> dt.time:
    if isinstance(value, str):
        try:
            value = dt.time.fromisoformat(value)
        except ValueError:
            raise RuleBroken(field, "a time of day, HH:MM") from None
    if not isinstance(value, dt.time) or value.tzinfo is not None or value.second or value.microsecond:
        raise RuleBroken(field, "a time of day to the minute, HH:MM, without time zone")
    return value


def _date(value: Any, field: str) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise RuleBroken(field, "a date, YYYY-MM-DD") from None
