"""A rule a plan breaks, as the checker finds it: a stable code, the checker's own sentence, and
what it is about (the permanences, the conseiller, the lieu, the day), for whoever tells it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from services.scheduling.planner.instance import Interval, Permanence

Code = Literal[
    "absence",
    "holiday",
    "unavailable",
    "lieu_closed",
    "opening_hours",
    "time_window",
    "too_short",
    "half_day_taken",
    "daily_travel",
    "weekly_hours",
    "room_taken",
    "atelier_seats",
    "atelier_demand",
    "recurrence",
    "pin_broken",
    "other",
]
"""What rule is broken:

* ``absence``: the conseiller is absent then; ``unavailable``: they do not work that half-day
  (not one of theirs, or not that week of a fortnightly one); ``holiday``: a public holiday;
* ``lieu_closed``: the lieu is closed that day; ``opening_hours``: open that day, not all that time;
* ``time_window``: outside the half-day's window (08:30–12:30, 13:30–17:30); ``too_short``: under two hours;
* ``half_day_taken``: two permanences of one conseiller in one half-day; ``room_taken``: more
  conseillers at a lieu at once than it has rooms;
* ``daily_travel``: a day's round over the conseiller's limit; ``weekly_hours``: a week over the contract;
* ``atelier_seats``: an atelier at a lieu with too few seats; ``atelier_demand``: nobody within
  reach asks for ateliers;
* ``recurrence``: a lieu's standing request not held as asked, or not held exactly once;
* ``pin_broken``: a coordinator's pin is not in the plan;
* ``other``: anything else (an unknown conseiller or lieu, a day outside the horizon…).
"""


@dataclass(frozen=True)
class Finding:
    code: Code
    sentence: str
    """The checker's sentence (English, with ids): what the tests and the notes read."""
    permanences: tuple[Permanence, ...] = ()
    conseiller: str | None = None
    lieu: str | None = None
    date: dt.date | None = None
    half: str | None = None
    amount: float | None = None
    """The figure at fault: minutes travelled, hours worked, conseillers at once, seats, times held."""
    limit: float | None = None
    """What it should have kept within: minutes a day, the contract's hours, rooms, seats needed, times asked."""
    intervals: tuple[Interval, ...] = ()
    """The lieu's opening hours that day, or the half-day's window."""

    def __str__(self) -> str:
        return self.sentence
