"""When a message may be sent: never in the usager's quiet hours, in the territory's own time.

A message that falls in quiet hours is shifted to their end, never dropped. Times are read
on the territory's wall clock (Europe/Paris, America/Cayenne, Indian/Reunion…), so a
quiet period that ends at 09:00 ends at 09:00 local on the days the clocks change too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class QuietHours:
    """The daily local hours no message is sent in, from `start` (included) to `end` (excluded).

    A window whose start is after its end wraps midnight (20:00 → 09:00, the default); one
    whose start is before its end lies within a day (12:00 → 14:00).
    """

    start: dt.time = dt.time(20, 0)
    end: dt.time = dt.time(9, 0)

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("quiet hours are local wall-clock times, without a time zone")
        if self.start == self.end:
            raise ValueError("quiet hours must start and end at different times")

    @property
    def wraps_midnight(self) -> bool:
        return self.start > self.end

    def contains(self, local: dt.time) -> bool:
        """Whether a wall-clock time is quiet."""
        if self.wraps_midnight:
            return local >= self.start or local < self.end
        return self.start <= local < self.end


def is_quiet(moment: dt.datetime, zone: ZoneInfo, quiet: QuietHours) -> bool:
    """Whether `moment` falls in the quiet hours of the territory whose time zone is `zone`."""
    _require_aware(moment)
    return quiet.contains(moment.astimezone(zone).time())


def next_allowed(moment: dt.datetime, zone: ZoneInfo, quiet: QuietHours) -> dt.datetime:
    """`moment` itself when it is outside quiet hours, else the end of the quiet period it is in.

    The answer is in `zone`. When the end's wall-clock time happens twice (clocks set back)
    the first occurrence after `moment` is taken; when it does not happen (clocks set
    forward across it) the instant the clocks jump is taken. When the clocks are set back
    from inside quiet hours to before their start, the quiet period ends at that instant.
    """
    _require_aware(moment)
    local = moment.astimezone(zone)
    while quiet.contains(local.time()):  # twice only when the clocks jumped over a short window's end
        end_day = local.date()
        if quiet.wraps_midnight and local.time() >= quiet.start:
            end_day += dt.timedelta(days=1)
        end = _first_instant_at(dt.datetime.combine(end_day, quiet.end), zone, after=local)
        change = _clock_change(local, end, zone)
        local = change if change is not None and not quiet.contains(change.time()) else end
    return local


def reminder_due(
    appointment_start: dt.datetime, lead: dt.timedelta, zone: ZoneInfo, quiet: QuietHours
) -> dt.datetime | None:
    """When to send a reminder `lead` before an appointment: that moment, moved out of quiet hours.

    `lead` is elapsed time: 24 hours before a Sunday 10:00 when the clocks went forward
    that night is Saturday 09:00. None when the moved moment is at or after the appointment's start: a reminder that
    arrives once the permanence has begun is useless, so none is sent rather than a late
    one. Whether the answer is already past is the caller's business (this module has no
    clock).
    """
    _require_aware(appointment_start)
    if lead <= dt.timedelta(0):
        raise ValueError("a reminder's lead must be positive")
    start = appointment_start.astimezone(dt.UTC)
    due = next_allowed(start - lead, zone, quiet)
    return None if due.astimezone(dt.UTC) >= start else due


def _first_instant_at(wall: dt.datetime, zone: ZoneInfo, after: dt.datetime) -> dt.datetime:
    """The first instant not before `after` at which the wall clock of `zone` reads `wall` or later."""
    first = wall.replace(tzinfo=zone, fold=0)
    if _exists(first):
        if first.astimezone(dt.UTC) >= after.astimezone(dt.UTC):  # same-zone comparisons ignore fold
            return first
        return wall.replace(tzinfo=zone, fold=1)  # a repeated hour's second pass
    # In a gap: with fold=1 the wall time reads as before the jump, with fold=0 as after it.
    before = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    jumped = _first_second(before, int(first.timestamp()), lambda t: _wall(t, zone) >= wall)
    return dt.datetime.fromtimestamp(jumped, zone)


def _clock_change(since: dt.datetime, until: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
    """The instant between two moments at which the zone's offset changes, if it does (once at most)."""
    offset = until.utcoffset()
    if since.utcoffset() == offset:
        return None
    changed = _first_second(
        int(since.timestamp()),
        int(until.timestamp()),
        lambda t: dt.datetime.fromtimestamp(t, zone).utcoffset() == offset,
    )
    return dt.datetime.fromtimestamp(changed, zone)


def _first_second(before: int, after: int, reached: Callable[[int], bool]) -> int:
    """The first whole second in (before, after] at which `reached` holds, it holding at `after` and after it."""
    while after - before > 1:
        middle = (before + after) // 2
        if reached(middle):
            after = middle
        else:
            before = middle
    return after


def _wall(timestamp: int, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, zone).replace(tzinfo=None)


def _exists(moment: dt.datetime) -> bool:
    """Whether an aware local time is one the wall clock actually shows."""
    zone = moment.tzinfo
    return moment.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) == moment.replace(tzinfo=None)


def _require_aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the moment must be timezone-aware")
