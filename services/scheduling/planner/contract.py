"""Contract hours in a week, as the model and the figures both count them (one rule, not two).

The contract's minimum is scaled to the share of the conseiller's nominal half-days of the week
that are workable (holidays, absences and a horizon cut mid-week count less) and never asks more
than the blocks allow; it is soft (``Weights.short_hours_per_hour``). The maximum is hard. The
contract's maximum scaled the same way is what a "full" week is, for the fairness of hours.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.scheduling.planner.blocks import Block, candidate_blocks, works
from services.scheduling.planner.instance import HALVES, Conseiller, Instance
from services.scheduling.planner.travel import TravelTimes

TENTHS = 10  # hours are counted in tenths of an hour


@dataclass(frozen=True)
class WeekBounds:
    """Tenths of an hour in one Monday-based week."""

    minimum: int
    """Soft: the scaled minimum, capped by what the blocks allow."""
    maximum: int
    """Hard: the contract's maximum."""
    full: int
    """The contract's maximum scaled to the workable share: the week's 100 % for fairness."""


def monday_of(date: dt.date) -> dt.date:
    return date - dt.timedelta(days=date.weekday())


def tenths_of(hours: float) -> int:
    return round(hours * TENTHS)


def contract_weeks(instance: Instance, conseiller: Conseiller, travel: TravelTimes) -> dict[dt.date, WeekBounds]:
    """Monday → the week's bounds, as the model, the figures and the baselines all count them."""
    return week_bounds(instance, conseiller, candidate_blocks(instance, conseiller, travel))


def week_bounds(instance: Instance, conseiller: Conseiller, blocks: Iterable[Block]) -> dict[dt.date, WeekBounds]:
    """Monday → the week's bounds, from the half-day blocks the conseiller can hold (``candidate_blocks``)."""
    best: dict[dt.date, dict[tuple[dt.date, str], int]] = defaultdict(dict)
    for block in blocks:
        slots = best[monday_of(block.date)]
        slots[(block.date, block.half)] = max(slots.get((block.date, block.half), 0), tenths_of(block.hours))
    bounds = {}
    for monday in {monday_of(d) for d in instance.dates}:
        slots = best.get(monday, {})
        nominal = sum(1 for i in range(7) for half in HALVES if works(conseiller, monday + dt.timedelta(days=i), half))
        share = len(slots) / nominal if nominal else 0.0
        bounds[monday] = WeekBounds(
            minimum=min(round(conseiller.weekly_hours_min * TENTHS * share), sum(slots.values())),
            maximum=tenths_of(conseiller.weekly_hours_max),
            full=round(conseiller.weekly_hours_max * TENTHS * share),
        )
    return bounds


def short_tenths(bounds: Mapping[dt.date, WeekBounds], worked: Mapping[dt.date, int]) -> int:
    """Tenths of an hour below the weekly minimums, week by week."""
    return sum(max(0, week.minimum - worked.get(monday, 0)) for monday, week in bounds.items())


def full_tenths(bounds: Mapping[dt.date, WeekBounds]) -> int:
    return sum(week.full for week in bounds.values())


def share_points(worked_tenths: int, full: int) -> int:
    """Hours worked as a share of a full horizon, in whole percentage points (rounded down)."""
    return 100 * worked_tenths // full
