"""What the planner plans: an instance, in plain frozen dataclasses.

Times are local to the territory (``time_zone``); dates are the territory's calendar dates.
A permanence is a conseiller at a lieu for one block of a half-day ("am" or "pm"): individual
help (kind "permanence") or a group workshop ("atelier"); a recurrence's block may be shorter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from shared.geo import great_circle_km

HalfDay = Literal["am", "pm"]
HALVES: tuple[HalfDay, HalfDay] = ("am", "pm")
Interval = tuple[dt.time, dt.time]
Kind = Literal["permanence", "atelier"]
"""A permanence helps people one at a time; an atelier is a group workshop."""
KINDS: tuple[Kind, Kind] = ("permanence", "atelier")
MIN_ATELIER_SEATS = 6
"""An atelier is a group: fewer seats than this and a lieu hosts none (unless a recurrence asks)."""


@dataclass(frozen=True)
class Commune:
    insee: str
    latitude: float
    longitude: float
    population: int
    demand_hours: float
    """Expected weekly hours of individual help."""
    atelier_hours: float = 0.0
    """Expected weekly hours of ateliers."""

    def demand(self, kind: Kind) -> float:
        return self.demand_hours if kind == "permanence" else self.atelier_hours


@dataclass(frozen=True)
class Lieu:
    id: str
    insee: str
    latitude: float
    longitude: float
    capacity: int
    opening: dict[int, tuple[Interval, ...]]
    """Weekday (0 = Monday) → open intervals, local time."""
    rooms: int = 1
    """How many conseillers may hold a permanence there at once."""
    closed_dates: frozenset[dt.date] = frozenset()
    has_computers: bool = False
    dated_opening: dict[dt.date, tuple[Interval, ...]] = field(default_factory=dict)
    """A date's own hours, overriding the weekday's; an empty tuple: closed that day."""

    def hours_on(self, date: dt.date) -> tuple[Interval, ...]:
        """Its open intervals that date: none on a closed date, else the date's own, else the weekday's."""
        if date in self.closed_dates:
            return ()
        if date in self.dated_opening:
            return self.dated_opening[date]
        return self.opening.get(date.weekday(), ())


@dataclass(frozen=True)
class Absence:
    start: dt.datetime
    end: dt.datetime
    off_week: bool = False
    """Not an absence declared, but a half-day of theirs that does not occur that week ("every other Saturday")."""

    def covers(self, starts: dt.datetime, ends: dt.datetime) -> bool:
        return starts < self.end and self.start < ends


@dataclass(frozen=True)
class Conseiller:
    id: str
    home_lieu: str
    weekly_hours_min: float
    weekly_hours_max: float
    availability: dict[int, frozenset[HalfDay]]
    """Weekday → the half-days they work (recurring)."""
    absences: tuple[Absence, ...] = ()
    travel_mode: Literal["car", "public_transport", "bike", "walk"] = "car"
    max_travel_minutes_per_day: int = 240
    every_other_week: dict[int, dt.date] = field(default_factory=dict)
    """Weekday → the first date of a fortnightly slot ("every other Saturday")."""
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Recurrence:
    """A coordinator's standing request: "an atelier every Friday 16:00–17:00 at the médiathèque",
    "a permanence every other Saturday morning". Each occurrence in the horizon is held by exactly
    one conseiller, as a block of exactly ``start``–``end`` (shorter than a half-day if need be)."""

    id: str
    lieu: str
    weekday: int
    """0 = Monday."""
    start: dt.time
    end: dt.time
    every_weeks: int = 1
    first_date: dt.date | None = None
    """Weeks are counted from this date's week, and nothing is held before it."""
    kind: Kind = "permanence"
    skill: str | None = None
    """Only a conseiller with this skill holds it."""
    seats: int = 0
    """The lieu needs at least this capacity."""
    needs_computers: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"recurrence {self.id}: weekday {self.weekday} is not 0 (Monday) to 6")
        if not self.start < self.end:
            raise ValueError(f"recurrence {self.id}: it must end after it starts")
        if self.every_weeks < 1 or (self.every_weeks > 1 and self.first_date is None):
            raise ValueError(f"recurrence {self.id}: every {self.every_weeks} weeks needs a first date")

    def occurs_on(self, date: dt.date) -> bool:
        """On its weekday, every ``every_weeks`` weeks from the first date's week (holidays and
        closures aside)."""
        if date.weekday() != self.weekday:
            return False
        if self.first_date is None:
            return True
        first_monday = self.first_date - dt.timedelta(days=self.first_date.weekday())
        weeks = (date - first_monday).days // 7
        return date >= self.first_date and weeks % self.every_weeks == 0


@dataclass(frozen=True)
class Permanence:
    conseiller: str
    lieu: str
    date: dt.date
    half: HalfDay
    start: dt.time
    end: dt.time
    kind: Kind = "permanence"
    recurrence: str | None = None
    """The id of the coordinator's standing request (``Recurrence``) it holds, if any."""

    @property
    def hours(self) -> float:
        return (dt.datetime.combine(self.date, self.end) - dt.datetime.combine(self.date, self.start)).seconds / 3600

    @property
    def key(self) -> tuple[str, str, dt.date, HalfDay, dt.time, Kind]:
        """What stays the same when a permanence "stays" on a re-plan: a short block and a
        half-day block at one lieu and half-day, or an atelier and a permanence, differ."""
        return (self.conseiller, self.lieu, self.date, self.half, self.start, self.kind)


@dataclass(frozen=True)
class Pin:
    """A permanence the coordinator fixed: it stays, as it is.

    A pin that breaks a rule makes the instance infeasible, unless ``unless_impossible``: then it
    is dropped, with a note (a re-plan after an absence keeps the pins the absence leaves possible).
    """

    conseiller: str
    lieu: str
    date: dt.date
    half: HalfDay
    unless_impossible: bool = False


@dataclass(frozen=True)
class Weights:
    """The objective's weights; a coordinator may change them. All in "minutes of travel": each
    weight is what one unit of its term costs, as that many minutes of driving would."""

    travel_per_minute: int = 1
    uncovered_per_hour: int = 60
    """One hour of demand left uncovered costs as much as an hour of driving."""
    fairness_per_minute: int = 1
    """Per minute of the longest daily travel of any conseiller (spreads the long days)."""
    move_per_permanence: int = 120
    """On re-planning: each permanence of the previous plan that does not stay where it was."""
    short_hours_per_hour: int = 240
    """Per hour a conseiller works below their weekly minimum (scaled, see ``contract``). An hour
    short costs four hours of driving, four times an uncovered hour: a contract is met whenever
    the lieux let it be, and falls short only where rooms or hours make it impossible."""
    hours_fairness_per_point: int = 1
    """Per percentage point between the highest and the lowest share of their contract any two
    conseillers work over the horizon (``contract.share_points``: hours ÷ the weekly maximum
    scaled to the half-days each can work). Modest: evening out ten points (3.5 h of a 35 h
    contract) is worth ten minutes of driving, far less than the hour of demand it could cover;
    it breaks ties between plans, it does not cost coverage."""
    uncovered_atelier_per_hour: int = 60
    """Per hour of atelier demand left uncovered: as much as an hour of individual help."""


@dataclass(frozen=True)
class Instance:
    time_zone: str
    start: dt.date
    days: int
    communes: tuple[Commune, ...]
    lieux: tuple[Lieu, ...]
    conseillers: tuple[Conseiller, ...]
    holidays: frozenset[dt.date] = frozenset()
    pins: tuple[Pin, ...] = ()
    previous_plan: tuple[Permanence, ...] = ()
    recurrences: tuple[Recurrence, ...] = ()
    reach_km: float = 15.0
    """A commune is served by permanences at lieux within this distance (people do travel ~15 km)."""
    weights: Weights = Weights()

    @property
    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def lieu(self, lieu_id: str) -> Lieu:
        return self._lieux[lieu_id]

    def conseiller(self, conseiller_id: str) -> Conseiller:
        return self._conseillers[conseiller_id]

    @cached_property
    def _lieux(self) -> dict[str, Lieu]:
        return {lieu.id: lieu for lieu in self.lieux}

    @cached_property
    def _conseillers(self) -> dict[str, Conseiller]:
        return {c.id: c for c in self.conseillers}

    @cached_property
    def communes_in_reach(self) -> dict[str, tuple[str, ...]]:
        """Lieu id → INSEE codes of the communes within ``reach_km`` of it (as the crow flies)."""
        return {
            lieu.id: tuple(
                c.insee
                for c in self.communes
                if great_circle_km((lieu.latitude, lieu.longitude), (c.latitude, c.longitude)) <= self.reach_km
            )
            for lieu in self.lieux
        }

    @cached_property
    def atelier_lieux(self) -> frozenset[str]:
        """The lieux where an atelier may be planned: seats enough, and atelier demand in reach."""
        wanted = {c.insee for c in self.communes if c.atelier_hours > 0}
        return frozenset(
            lieu.id
            for lieu in self.lieux
            if lieu.capacity >= MIN_ATELIER_SEATS and wanted.intersection(self.communes_in_reach[lieu.id])
        )
