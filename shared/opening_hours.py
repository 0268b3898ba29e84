"""Opening hours of a lieu: a pure value object, no I/O.

The interchange form is the subset of the OpenStreetMap ``opening_hours`` syntax that real data
uses (the ``horaires`` field of the standard de la médiation numérique), e.g.
``Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00; PH off; 2026 Dec 25 off``.

Decisions:

* Times are local to the lieu, in whole minutes. ``24:00`` (end of day) is ``time.max``; spans
  past midnight (``22:00-02:00``) are refused.
* The intervals of a day are sorted, and merged when they overlap or touch
  (``08:00-12:00,11:00-14:00`` and ``08:00-12:00,12:00-14:00`` are both ``08:00-14:00``), so
  equal hours compare equal.
* A dated exception replaces the week for that date; with no intervals the lieu is closed.
  Precedence: exception, then ``PH off`` (when the caller says the day is a public holiday),
  then the week.
* OSM order semantics: a later rule overrides earlier ones for the days it selects, including
  earlier dated exceptions on those weekdays. A weekday rule after ``PH off``, or ``PH off``
  after a dated rule that opens, would reopen only some public holidays, which this value cannot
  hold: both are refused (write ``PH off`` after the week and before the dates).
* A rule with weekdays or a date but no times means the whole day (OSM); a dated range spans at
  most ``MAX_DATE_RANGE_DAYS`` days. Empty rules (``Mo 09:00-12:00;``) are ignored.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

Interval = tuple[time, time]
Intervals = tuple[Interval, ...]

END_OF_DAY = time.max  # written 24:00
ALL_DAY: Intervals = ((time.min, END_OF_DAY),)
WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
JOURS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_DATE_RANGE_DAYS = 366
OFF = ("off", "closed")

_AROUND_SEPARATORS = re.compile(r"\s+(?=[,-])|(?<=[,-])\s+")
_SPAN = re.compile(r"(\d{1,2}:\d{2})-(\d{1,2}:\d{2})", re.ASCII)
_MAIRIE_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::\d{2})?", re.ASCII)
_DATED = re.compile(r"(\d{4}) ([A-Za-z]+) (\d{1,2})(?:-(?:(?:(\d{4}) )?([A-Za-z]+) )?(\d{1,2}))?(?: (\S+))?", re.ASCII)


class InvalidOpeningHours(ValueError):
    """Opening hours that cannot be read or built; ``part`` is the offending piece of the input."""

    def __init__(self, message: str, part: str) -> None:
        super().__init__(message)
        self.part = part


@dataclass(frozen=True, repr=False)
class OpeningHours:
    """Weekly intervals (index 0 = Monday), dated exceptions, and closure on public holidays."""

    weekly: tuple[Intervals, ...] = ((),) * 7
    exceptions: tuple[tuple[date, Intervals], ...] = ()
    closed_on_public_holidays: bool = False

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise InvalidOpeningHours(f"weekly needs 7 days, Monday first, not {len(self.weekly)}", "weekly")
        object.__setattr__(self, "weekly", tuple(_merge(day) for day in self.weekly))
        exceptions = tuple(sorted(((day, _merge(spans)) for day, spans in self.exceptions), key=lambda e: e[0]))
        if len({day for day, _ in exceptions}) != len(exceptions):
            raise InvalidOpeningHours("exceptions give a date twice", "exceptions")
        object.__setattr__(self, "exceptions", exceptions)

    @classmethod
    def of(
        cls,
        weekly: Mapping[int, Iterable[Interval]],
        exceptions: Mapping[date, Iterable[Interval]] | None = None,
        *,
        closed_on_public_holidays: bool = False,
    ) -> OpeningHours:
        """Builds from ``{weekday: intervals}`` (0 = Monday; missing days closed) and ``{date: intervals}``."""
        if unknown := set(weekly) - set(range(7)):
            raise InvalidOpeningHours(f"weekdays are 0 (Monday) to 6, not {sorted(unknown)}", "weekly")
        return cls(
            tuple(tuple(weekly.get(day, ())) for day in range(7)),
            tuple((day, tuple(spans)) for day, spans in (exceptions or {}).items()),
            closed_on_public_holidays,
        )

    @classmethod
    def always(cls) -> OpeningHours:
        return cls((ALL_DAY,) * 7)

    @classmethod
    def closed(cls) -> OpeningHours:
        return cls()

    @classmethod
    def parse(cls, text: str) -> OpeningHours:
        """Reads OSM ``opening_hours``; anything outside the supported subset raises InvalidOpeningHours."""
        if not isinstance(text, str):
            raise InvalidOpeningHours(f"opening hours must be text, not {type(text).__name__}", repr(text))
        return _parse(text)

    @classmethod
    def from_mairie_horaires(cls, json_text: str) -> OpeningHours:
        """Reads ``[[first_day, last_day, [[open, close], ...]], ...]`` (lundi..dimanche, "HH:MM:SS").

        Blank text or ``[]`` (no hours published) gives ``closed()``. An empty ``last_day`` means
        the first day alone; entries naming the same day add up (merged); seconds are dropped;
        zero-length spans are ignored. Anything else unreadable raises InvalidOpeningHours.
        """
        if not json_text.strip():
            return cls.closed()
        try:
            entries: Any = json.loads(json_text)
        except (ValueError, RecursionError) as error:
            raise InvalidOpeningHours(f"invalid JSON: {error}", json_text) from None
        if not isinstance(entries, list):
            raise InvalidOpeningHours("expected a JSON list of [first_day, last_day, spans]", json_text)
        weekly: list[list[Interval]] = [[] for _ in range(7)]
        for entry in entries:
            match entry:
                case [str(first), (str() | None) as last, list(spans)]:
                    days = _day_range(_jour(first), _jour(last or first))
                case _:
                    raise InvalidOpeningHours(f"unexpected entry {entry!r}", repr(entry))
            for span in spans:
                match span:
                    case [str(opens), str(closes)]:
                        start, end = _mairie_clock(opens, end=False), _mairie_clock(closes, end=True)
                    case _:
                        raise InvalidOpeningHours(f"unexpected span {span!r}", repr(span))
                if end < start:
                    raise InvalidOpeningHours(f"span {opens}-{closes} ends before it starts", repr(span))
                for day in days if start < end else ():
                    weekly[day].append((start, end))
        return cls(tuple(tuple(spans) for spans in weekly))

    def intervals_on(self, day: date, *, public_holiday: bool = False) -> Intervals:
        """Open intervals on ``day``: its exception if any, else none on a public holiday if PH off, else the week."""
        for exception_day, intervals in self.exceptions:
            if exception_day == day:
                return intervals
        if public_holiday and self.closed_on_public_holidays:
            return ()
        return self.weekly[day.weekday()]

    def covers(self, day: date, start: time, end: time, *, public_holiday: bool = False) -> bool:
        """Whether the block ``start``-``end`` on ``day`` lies inside a single open interval."""
        if not start < end:
            raise ValueError(f"start {start} must be before end {end}")
        intervals = self.intervals_on(day, public_holiday=public_holiday)
        return any(opens <= start and end <= closes for opens, closes in intervals)

    def to_osm(self) -> str:
        """The canonical OSM string; ``OpeningHours.parse(oh.to_osm()) == oh``."""
        return self._osm

    @functools.cached_property
    def _osm(self) -> str:
        rules: list[str] = []
        if all(day == ALL_DAY for day in self.weekly):
            rules.append("24/7")
        else:
            groups: dict[Intervals, list[int]] = {}
            for weekday, intervals in enumerate(self.weekly):
                if intervals:
                    groups.setdefault(intervals, []).append(weekday)
            rules += [f"{_format_days(days)} {_format_spans(spans)}" for spans, days in groups.items()]
        if self.closed_on_public_holidays:
            rules.append("PH off")
        rules += [f"{_format_dates(first, last)} {_format_spans(spans)}" for first, last, spans in self._runs()]
        return "; ".join(rules) or "off"

    def _runs(self) -> list[tuple[date, date, Intervals]]:
        """Exceptions as runs of consecutive dates with the same intervals."""
        runs: list[tuple[date, date, Intervals]] = []
        for day, spans in self.exceptions:
            first, last, same = runs[-1] if runs else (day, day, None)
            if same == spans and (day - last).days == 1 and (day - first).days < MAX_DATE_RANGE_DAYS:
                runs[-1] = (first, day, spans)
            else:
                runs.append((day, day, spans))
        return runs

    def __str__(self) -> str:
        return self.to_osm()

    def __repr__(self) -> str:
        return f"OpeningHours.parse({self.to_osm()!r})"


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> OpeningHours:
    """The value is immutable, and every listing of lieux reads the same few texts again: each is parsed once."""
    rules = [" ".join(_AROUND_SEPARATORS.sub("", rule).split()) for rule in text.split(";")]
    if not any(rules):
        raise InvalidOpeningHours("empty opening hours", text)
    weekly: list[Intervals] = [()] * 7
    exceptions: dict[date, Intervals] = {}
    ph_off = False
    for rule in filter(None, rules):
        try:
            ph_off = _apply(rule, weekly, exceptions, ph_off)
        except InvalidOpeningHours as error:
            raise InvalidOpeningHours(f"{error} in rule {rule!r}", error.part) from None
    return OpeningHours(tuple(weekly), tuple(exceptions.items()), ph_off)


def _apply(rule: str, weekly: list[Intervals], exceptions: dict[date, Intervals], ph_off: bool) -> bool:
    """Applies one rule in place (later rules override earlier ones); returns whether PH is off."""
    tokens = (rule if rule != "24/7" else "00:00-24:00").split(" ")
    if tokens[0] == "PH":
        if tokens[1:] not in (["off"], ["closed"]):
            raise InvalidOpeningHours("unsupported public holiday rule (only 'PH off' is supported)", rule)
        if any(exceptions.values()):
            raise InvalidOpeningHours("'PH off' must come before the dated rules that open", rule)
        return True
    if dated := _DATED.fullmatch(rule):
        first, last = _dates(dated)
        spans = _spans(dated[7]) if dated[7] else ALL_DAY
        for offset in range((last - first).days + 1):
            exceptions[first + timedelta(days=offset)] = spans
        return ph_off
    if tokens[-1] in OFF or ":" in tokens[-1]:
        selector, spans = tokens[:-1], _spans(tokens[-1])
    elif len(tokens) == 1:
        selector, spans = tokens, ALL_DAY
    else:
        raise InvalidOpeningHours("unsupported rule: expected weekdays, then times or 'off'", rule)
    if len(selector) > 1:
        raise InvalidOpeningHours(f"unsupported selector {' '.join(selector)!r}", " ".join(selector))
    days = _weekdays(selector[0]) if selector else set(range(7))
    if ph_off:
        raise InvalidOpeningHours("'PH off' must come after the weekday rules (a later rule overrides it)", rule)
    for weekday in days:
        weekly[weekday] = spans
    for day in [day for day in exceptions if day.weekday() in days]:
        del exceptions[day]
    return ph_off


def _weekdays(selector: str) -> set[int]:
    days: set[int] = set()
    for part in selector.split(","):
        names = part.split("-")
        for name in names:
            if name not in WEEKDAYS and re.fullmatch(r"[A-Za-z]{2}", name) and name not in ("PH", "SH"):
                raise InvalidOpeningHours(f"unknown weekday {name!r}", name)
        if len(names) > 2 or not set(names) <= set(WEEKDAYS):
            raise InvalidOpeningHours(f"unsupported selector {selector!r}", selector)
        days.update(_day_range(WEEKDAYS.index(names[0]), WEEKDAYS.index(names[-1])))
    return days


def _day_range(first: int, last: int) -> list[int]:
    """Days from first to last, wrapping past Sunday (``Sa-Mo``)."""
    return [(first + offset) % 7 for offset in range((last - first) % 7 + 1)]


def _dates(match: re.Match[str]) -> tuple[date, date]:
    first = _date(match[1], match[2], match[3])
    if match[6] is None:
        return first, first
    last = _date(match[4] or match[1], match[5] or match[2], match[6])
    if last < first:
        raise InvalidOpeningHours("date range ends before it starts", match[0])
    if (last - first).days >= MAX_DATE_RANGE_DAYS:
        raise InvalidOpeningHours(f"date range longer than {MAX_DATE_RANGE_DAYS} days", match[0])
    return first, last


def _date(year: str, month: str, day: str) -> date:
    if month not in MONTHS:
        raise InvalidOpeningHours(f"unknown month {month!r}", month)
    try:
        return date(int(year), MONTHS.index(month) + 1, int(day))
    except ValueError:
        raise InvalidOpeningHours(f"invalid date '{year} {month} {day}'", f"{year} {month} {day}") from None


def _spans(text: str) -> Intervals:
    if text in OFF:
        return ()
    spans: list[Interval] = []
    for span in text.split(","):
        if not (match := _SPAN.fullmatch(span)):
            raise InvalidOpeningHours(f"invalid time span {span!r}", span)
        start, end = _clock(match[1], end=False), _clock(match[2], end=True)
        if end <= start:
            raise InvalidOpeningHours(f"time span {span!r} must end after it starts (not past midnight)", span)
        spans.append((start, end))
    return _merge(spans)


def _clock(text: str, *, end: bool) -> time:
    hours, minutes = int(text[:-3]), int(text[-2:])  # text is H:MM or HH:MM
    if end and (hours, minutes) == (24, 0):
        return END_OF_DAY
    if hours > 23 or minutes > 59:
        raise InvalidOpeningHours(f"invalid time {text!r}", text)
    return time(hours, minutes)


def _mairie_clock(text: str, *, end: bool) -> time:
    if not (match := _MAIRIE_CLOCK.fullmatch(text.strip())):
        raise InvalidOpeningHours(f"invalid time {text!r}", text)
    return _clock(f"{match[1]}:{match[2]}", end=end)


def _jour(name: str) -> int:
    if (jour := name.strip().lower()) not in JOURS:
        raise InvalidOpeningHours(f"unknown day {name!r}", name)
    return JOURS.index(jour)


def _merge(intervals: Iterable[Interval]) -> Intervals:
    """Sorts, checks and merges overlapping or touching intervals."""
    if not (checked := list(intervals)):
        return ()
    for start, end in checked:
        for moment in (start, end):
            if moment.tzinfo is not None or (moment != END_OF_DAY and (moment.second or moment.microsecond)):
                raise InvalidOpeningHours(f"time {moment} must be a whole minute without time zone", str(moment))
        if not start < end:
            span = _format_spans(((start, end),))
            raise InvalidOpeningHours(f"interval {span} must end after it starts", span)
    merged: list[Interval] = []
    for start, end in sorted(checked):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def _format_spans(spans: Intervals) -> str:
    return ",".join(f"{_format_clock(start)}-{_format_clock(end)}" for start, end in spans) or "off"


def _format_clock(moment: time) -> str:
    return "24:00" if moment == END_OF_DAY else f"{moment.hour:02d}:{moment.minute:02d}"


def _format_days(days: list[int]) -> str:
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] + 1 == day:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [
        f"{WEEKDAYS[run[0]]}-{WEEKDAYS[run[-1]]}" if len(run) > 2 else ",".join(WEEKDAYS[d] for d in run)
        for run in runs
    ]
    return ",".join(parts)


def _format_dates(first: date, last: date) -> str:
    start, end = (f"{day.year:04d} {MONTHS[day.month - 1]} {day.day:02d}" for day in (first, last))
    if last == first:
        return start
    kept = 3 if last.year != first.year else 2 if last.month != first.month else 1  # year, month, day
    return f"{start}-{' '.join(end.split(' ')[-kept:])}"
