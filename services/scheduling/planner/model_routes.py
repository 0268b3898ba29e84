"""The model's daily travel: home → morning lieu → afternoon lieu → home, within the daily limit."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from ortools.sat.python import cp_model

from services.scheduling.planner.blocks import Block, home
from services.scheduling.planner.instance import HALVES, Instance
from services.scheduling.planner.travel import TravelTimes


def daily_travel(
    instance: Instance, model: cp_model.CpModel, x: dict[tuple[str, Block], cp_model.IntVar], travel: TravelTimes
) -> tuple[list[cp_model.LinearExprT], cp_model.IntVar]:
    """Daily travel of each conseiller: home → morning lieu → afternoon lieu → home."""
    days = _whereabouts(model, x)
    terms: list[cp_model.LinearExprT] = []
    longest = model.new_int_var(0, 24 * 60, "longest_day")
    for (who, date), halves in days.items():
        c = instance.conseiller(who)
        start = home(instance, c)

        def minutes(a: tuple[float, float], b: tuple[float, float], mode: str = c.travel_mode) -> int:
            return travel.minutes(a, b, mode)

        def where(lieu_id: str) -> tuple[float, float]:
            lieu = instance.lieu(lieu_id)
            return lieu.latitude, lieu.longitude

        day: list[cp_model.LinearExprT] = []
        for half in HALVES:
            for lieu_id, var in halves[half].items():
                day.append(2 * minutes(start, where(lieu_id)) * var)
        for a, am in halves["am"].items():
            for p, pm in halves["pm"].items():
                # Holding both, the day is home → a → p → home, not two round trips: the pair
                # variable is exactly "both" (forced both ways), whatever the sign of the saving.
                saving = minutes(start, where(a)) + minutes(start, where(p)) - minutes(where(a), where(p))
                if saving == 0:
                    continue
                both = model.new_bool_var(f"pair[{who},{date},{a},{p}]")
                model.add_implication(both, am)
                model.add_implication(both, pm)
                model.add_bool_or([am.negated(), pm.negated(), both])
                day.append(-saving * both)
        total = cp_model.LinearExpr.sum(day)
        model.add(total <= c.max_travel_minutes_per_day)
        model.add(longest >= total)
        terms.append(total)
    return terms, longest


def _whereabouts(
    model: cp_model.CpModel, x: dict[tuple[str, Block], cp_model.IntVar]
) -> dict[tuple[str, dt.date], dict[str, dict[str, cp_model.IntVar]]]:
    """(conseiller, date) → half → lieu → "there then": the block's own variable, or when several
    blocks are held there then (a permanence or an atelier, a recurrence), one for any of them."""
    blocks: dict[tuple[str, dt.date, str, str], list[cp_model.IntVar]] = defaultdict(list)
    for (who, block), var in x.items():
        blocks[(who, block.date, block.half, block.lieu)].append(var)
    days: dict[tuple[str, dt.date], dict[str, dict[str, cp_model.IntVar]]] = defaultdict(lambda: {"am": {}, "pm": {}})
    for (who, date, half, lieu_id), held in blocks.items():
        there = held[0]
        if len(held) > 1:  # they exclude each other (one block per half-day): "any" is their sum
            there = model.new_bool_var(f"at[{who},{lieu_id},{date},{half}]")
            model.add(there == cp_model.LinearExpr.sum(held))
        days[(who, date)][half][lieu_id] = there
    return days
