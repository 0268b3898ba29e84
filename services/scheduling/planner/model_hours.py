"""The model's hours terms: each week's hours within the contract (the maximum hard, the minimum
soft), and how evenly the conseillers' hours are shared out."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from ortools.sat.python import cp_model

from services.scheduling.planner.blocks import Block
from services.scheduling.planner.contract import WeekBounds, full_tenths, monday_of, tenths_of

Held = list[tuple[Block, cp_model.IntVar]]


def worked(mine: Held) -> dict[dt.date, cp_model.LinearExpr]:
    """Monday → tenths of an hour held that week."""
    weeks: dict[dt.date, Held] = defaultdict(list)
    for block, var in mine:
        weeks[monday_of(block.date)].append((block, var))
    return {
        monday: cp_model.LinearExpr.weighted_sum([var for _, var in items], [tenths_of(b.hours) for b, _ in items])
        for monday, items in weeks.items()
    }


def weekly_hours(
    model: cp_model.CpModel, who: str, mine: Held, bounds: dict[dt.date, WeekBounds], *, soft_minimum: bool
) -> list[cp_model.IntVar]:
    """The maximum, hard; and per week with a minimum, the tenths of an hour short of it."""
    weeks = worked(mine)
    short = []
    for monday, week in sorted(bounds.items()):
        total = weeks.get(monday)
        if total is not None:
            model.add(total <= week.maximum)
        if soft_minimum and week.minimum > 0:
            below = model.new_int_var(0, week.minimum, f"short[{who},{monday}]")
            model.add(below >= week.minimum - (total if total is not None else 0))
            short.append(below)
    return short


def hours_spread(
    model: cp_model.CpModel, held: dict[str, tuple[Held, dict[dt.date, WeekBounds]]]
) -> cp_model.IntVar | None:
    """The spread, in percentage points, of the conseillers' hours as a share of a full horizon
    (``contract.share_points``: rounded down, exactly); None when fewer than two can work.

    No variable per conseiller: the highest share is at least, the lowest at most, each one's
    ``floor(100 × hours / full)``, written ``full × highest ≥ 100 × hours − full + 1`` and
    ``full × lowest ≤ 100 × hours``; minimising their difference makes them the max and the min."""
    working = {who: (mine, full) for who, (mine, bounds) in held.items() if (full := full_tenths(bounds)) > 0}
    if len(working) < 2:
        return None
    top = max(100 * sum(tenths_of(b.hours) for b, _ in mine) // full for mine, full in working.values())
    highest = model.new_int_var(0, top, "highest_share")
    lowest = model.new_int_var(0, top, "lowest_share")
    for mine, full in working.values():
        hours = cp_model.LinearExpr.weighted_sum([var for _, var in mine], [tenths_of(b.hours) for b, _ in mine])
        model.add(full * highest >= 100 * hours - full + 1)
        model.add(full * lowest <= 100 * hours)
    spread = model.new_int_var(0, top, "hours_spread")
    model.add(spread == highest - lowest)
    return spread
