"""Scenario files: an instance as JSON, so plans can be made and checked from outside the service.

The format is documented in ``docs/scenario-format.md``. Weekdays are given as ``0``–``6``
(Monday first), ``mo``…``su``, ``monday``…``sunday`` or ``lundi``…``dimanche``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from services.scheduling.planner.blocks import half_of
from services.scheduling.planner.instance import (
    Absence,
    Commune,
    Conseiller,
    HalfDay,
    Instance,
    Lieu,
    Permanence,
    Pin,
    Recurrence,
    Weights,
)

WEEKDAY_NAMES = (
    ("0", "mo", "monday", "lundi"), ("1", "tu", "tuesday", "mardi"), ("2", "we", "wednesday", "mercredi"),
    ("3", "th", "thursday", "jeudi"), ("4", "fr", "friday", "vendredi"), ("5", "sa", "saturday", "samedi"),
    ("6", "su", "sunday", "dimanche"),
)  # fmt: skip


class ScenarioError(ValueError):
    """A scenario file that cannot be planned, with where and why."""


def _weekday(value: Any) -> int:
    key = str(value).strip().lower()
    for number, names in enumerate(WEEKDAY_NAMES):
        if key in names:
            return number
    raise ValueError(f"unknown weekday {value!r}")


def _clock(value: Any) -> dt.time:
    text = str(value)
    if text == "24:00":
        return dt.time.max
    moment = dt.time.fromisoformat(text)
    if moment.tzinfo is not None:  # a local wall-clock time: an offset would make it incomparable
        raise ValueError(f"{text!r} is a local time: write it without a UTC offset")
    return moment


Weekday = Annotated[int, BeforeValidator(_weekday)]
Clock = Annotated[dt.time, BeforeValidator(_clock)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommuneIn(_Strict):
    insee: str = Field(pattern=r"^(\d{5}|2[AB]\d{3})$")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    population: int = Field(ge=0)
    demand_hours: float = Field(ge=0)
    atelier_hours: float = Field(default=0, ge=0)


class LieuIn(_Strict):
    id: str = Field(min_length=1)
    insee: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    capacity: int = Field(ge=0)
    opening: dict[Weekday, list[tuple[Clock, Clock]]]
    rooms: int = Field(default=1, ge=1)
    closed_dates: list[dt.date] = []
    has_computers: bool = False
    dated_opening: dict[dt.date, list[tuple[Clock, Clock]]] = {}

    @field_validator("opening", "dated_opening")
    @classmethod
    def _ordered(cls, value: dict[Any, list[tuple[dt.time, dt.time]]]) -> dict[Any, list[tuple[dt.time, dt.time]]]:
        for intervals in value.values():
            for opens, closes in intervals:
                if closes <= opens:
                    raise ValueError(f"{opens:%H:%M}-{closes:%H:%M} closes before it opens")
        return value


class AbsenceIn(_Strict):
    start: dt.datetime
    end: dt.datetime


class ConseillerIn(_Strict):
    id: str = Field(min_length=1)
    home_lieu: str
    weekly_hours_min: float = Field(ge=0, le=48)
    weekly_hours_max: float = Field(gt=0, le=48)
    availability: dict[Weekday, list[HalfDay]]
    absences: list[AbsenceIn] = []
    travel_mode: Literal["car", "public_transport", "bike", "walk"] = "car"
    max_travel_minutes_per_day: int = Field(default=240, gt=0)
    every_other_week: dict[Weekday, dt.date] = {}
    skills: list[str] = []


class RecurrenceIn(_Strict):
    id: str = Field(min_length=1)
    lieu: str
    weekday: Weekday
    start: Clock
    end: Clock
    every_weeks: int = Field(default=1, ge=1)
    first_date: dt.date | None = None
    kind: Literal["permanence", "atelier"] = "permanence"
    skill: str | None = None
    seats: int = Field(default=0, ge=0)
    needs_computers: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> RecurrenceIn:
        if self.end <= self.start:
            raise ValueError(f"{self.start:%H:%M}-{self.end:%H:%M} ends before it starts")
        if self.every_weeks > 1 and self.first_date is None:
            raise ValueError(f"every {self.every_weeks} weeks needs a first_date to count the weeks from")
        return self


class PinIn(_Strict):
    conseiller: str
    lieu: str
    date: dt.date
    half: HalfDay


class PermanenceIn(_Strict):
    conseiller: str
    lieu: str
    date: dt.date
    start: Clock
    end: Clock
    kind: Literal["permanence", "atelier"] = "permanence"


class WeightsIn(_Strict):
    """Each field of ``Weights``, with its default (documented there)."""

    travel_per_minute: int = Field(default=Weights.travel_per_minute, ge=0)
    uncovered_per_hour: int = Field(default=Weights.uncovered_per_hour, ge=0)
    fairness_per_minute: int = Field(default=Weights.fairness_per_minute, ge=0)
    move_per_permanence: int = Field(default=Weights.move_per_permanence, ge=0)
    short_hours_per_hour: int = Field(default=Weights.short_hours_per_hour, ge=0)
    hours_fairness_per_point: int = Field(default=Weights.hours_fairness_per_point, ge=0)
    uncovered_atelier_per_hour: int = Field(default=Weights.uncovered_atelier_per_hour, ge=0)


class ScenarioIn(_Strict):
    timezone: str
    start: dt.date
    days: int = Field(ge=1, le=62)
    communes: list[CommuneIn]
    lieux: list[LieuIn] = Field(min_length=1)
    conseillers: list[ConseillerIn]
    holidays: list[dt.date] | None = None
    holiday_calendar: str = "FR"
    reach_km: float = Field(default=15.0, gt=0)
    weights: WeightsIn = WeightsIn()
    pins: list[PinIn] = []
    previous_plan: list[PermanenceIn] = []
    recurrences: list[RecurrenceIn] = []


def load(path: Path) -> Instance:
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))  # a byte order mark (Notepad writes one) is fine
    except (OSError, ValueError, RecursionError) as exc:  # unreadable, not UTF-8, not JSON, nested too deep
        raise ScenarioError(f"{path}: {exc}") from exc
    return parse(raw)


def parse(raw: Any) -> Instance:
    try:
        scenario = ScenarioIn.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "scenario"
        raise ScenarioError(f"{where}: {first['msg']} ({exc.error_count()} error(s) in all)") from exc
    return _instance(scenario)


def _instance(s: ScenarioIn) -> Instance:
    try:
        zone = ZoneInfo(s.timezone)
    except (KeyError, ValueError, OSError) as exc:  # OSError: a directory ("America"), a name too long
        raise ScenarioError(f"timezone: unknown time zone {s.timezone!r}") from exc
    _check_across_fields(s)
    dates = [s.start + dt.timedelta(days=i) for i in range(s.days)]
    return Instance(
        time_zone=s.timezone,
        start=s.start,
        days=s.days,
        communes=tuple(
            Commune(c.insee, c.lat, c.lon, c.population, c.demand_hours, c.atelier_hours) for c in s.communes
        ),
        lieux=tuple(
            Lieu(
                id=lieu.id,
                insee=lieu.insee,
                latitude=lieu.lat,
                longitude=lieu.lon,
                capacity=lieu.capacity,
                opening={day: tuple(spans) for day, spans in lieu.opening.items()},
                rooms=lieu.rooms,
                closed_dates=frozenset(lieu.closed_dates),
                has_computers=lieu.has_computers,
                dated_opening={day: tuple(spans) for day, spans in lieu.dated_opening.items()},
            )
            for lieu in s.lieux
        ),
        conseillers=tuple(
            Conseiller(
                id=c.id,
                home_lieu=c.home_lieu,
                weekly_hours_min=c.weekly_hours_min,
                weekly_hours_max=c.weekly_hours_max,
                availability={day: frozenset(halves) for day, halves in c.availability.items()},
                absences=_absences(c, zone),
                travel_mode=c.travel_mode,
                max_travel_minutes_per_day=c.max_travel_minutes_per_day,
                every_other_week=dict(c.every_other_week),
                skills=frozenset(c.skills),
            )
            for c in s.conseillers
        ),
        holidays=frozenset(s.holidays if s.holidays is not None else holidays_in(s.holiday_calendar, dates)),
        pins=tuple(Pin(p.conseiller, p.lieu, p.date, p.half) for p in s.pins),
        previous_plan=tuple(
            Permanence(p.conseiller, p.lieu, p.date, half_of(p.start), p.start, p.end, p.kind) for p in s.previous_plan
        ),
        recurrences=tuple(Recurrence(**r.model_dump()) for r in s.recurrences),
        reach_km=s.reach_km,
        weights=Weights(**s.weights.model_dump()),
    )


def _check_across_fields(s: ScenarioIn) -> None:
    """The rules that tie fields together (ids, references, the horizon), each refusal naming its field."""
    for field, ids in (
        ("lieux", [lieu.id for lieu in s.lieux]),
        ("conseillers", [c.id for c in s.conseillers]),
        ("recurrences", [r.id for r in s.recurrences]),
    ):
        if len(set(ids)) != len(ids):
            again = next(i for i, id_ in enumerate(ids) if id_ in ids[:i])
            raise ScenarioError(f"{field}.{again}.id: {ids[again]!r} again: ids of {field} must be unique")
    lieux = {lieu.id for lieu in s.lieux}
    conseillers = {c.id for c in s.conseillers}
    for c in s.conseillers:
        if c.home_lieu not in lieux:
            raise ScenarioError(f"conseillers.{c.id}.home_lieu: no lieu {c.home_lieu!r}")
        if c.weekly_hours_min > c.weekly_hours_max:
            raise ScenarioError(f"conseillers.{c.id}: weekly_hours_min is above weekly_hours_max")
    named: list[tuple[str, Sequence[PinIn | PermanenceIn]]] = [("pins", s.pins), ("previous_plan", s.previous_plan)]
    for field, entries in named:
        for i, entry in enumerate(entries):
            if entry.conseiller not in conseillers:
                raise ScenarioError(f"{field}.{i}.conseiller: no conseiller {entry.conseiller!r}")
            if entry.lieu not in lieux:
                raise ScenarioError(f"{field}.{i}.lieu: no lieu {entry.lieu!r}")
    for r in s.recurrences:
        if r.lieu not in lieux:
            raise ScenarioError(f"recurrences.{r.id}.lieu: no lieu {r.lieu!r}")
    if (dt.date.max - s.start).days < s.days - 1 + 6:  # the planner counts whole Monday-based weeks
        raise ScenarioError(f"start: the planned weeks must end by {dt.date.max}")


def _absences(c: ConseillerIn, zone: ZoneInfo) -> tuple[Absence, ...]:
    try:
        return tuple(Absence(_local(a.start, zone), _local(a.end, zone)) for a in c.absences)
    except OverflowError:
        raise ScenarioError(f"conseillers.{c.id}.absences: a moment falls outside years 1-9999 in {zone}") from None


def _local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """Absences compare with blocks in local wall-clock time."""
    return moment.astimezone(zone).replace(tzinfo=None) if moment.tzinfo else moment


def holidays_in(calendar: str, dates: list[dt.date]) -> set[dt.date]:
    """The public holidays among ``dates`` in a calendar (``FR``, ``FR-57``, ``FR-974``…)."""
    return set(holiday_names(calendar, dates))


def holiday_names(calendar: str, dates: list[dt.date]) -> dict[dt.date, str]:
    """The public holidays among ``dates`` in a calendar, with their French names ("Noël", "Toussaint")."""
    country, _, subdivision = calendar.partition("-")
    years = sorted({d.year for d in dates})
    try:
        days = holiday_calendars.country_holidays(country, subdiv=subdivision or None, years=years, language="fr")
    except NotImplementedError as exc:
        raise ScenarioError(f"holiday_calendar: unknown calendar {calendar!r}") from exc
    return {d: str(days[d]) for d in dates if d in days}
