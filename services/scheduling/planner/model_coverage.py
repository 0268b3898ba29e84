"""The model's coverage: each lieu's hours of one kind shared out to the communes within reach."""

from __future__ import annotations

from collections import defaultdict

from ortools.sat.python import cp_model

from services.scheduling.planner.blocks import Block
from services.scheduling.planner.contract import tenths_of
from services.scheduling.planner.instance import Instance, Kind
from services.scheduling.planner.result import demand_tenths


def uncovered(
    instance: Instance, model: cp_model.CpModel, x: dict[tuple[str, Block], cp_model.IntVar], kind: Kind
) -> cp_model.LinearExprT:
    """Uncovered demand of the kind (tenths of an hour): each lieu's hours of that kind shared out
    to the communes within reach, none getting more than its demand over the horizon."""
    offered: dict[str, list[cp_model.LinearExprT]] = defaultdict(list)
    for (_, block), var in x.items():
        if block.kind == kind:
            offered[block.lieu].append(tenths_of(block.hours) * var)
    demand = {c.insee: demand_tenths(instance, c.demand(kind)) for c in instance.communes}
    served: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    for lieu_id, hours in offered.items():
        shares = []
        for insee in instance.communes_in_reach[lieu_id]:
            if demand[insee] == 0:
                continue
            share = model.new_int_var(0, demand[insee], f"serve[{kind},{lieu_id},{insee}]")
            shares.append(share)
            served[insee].append(share)
        if shares:
            model.add(cp_model.LinearExpr.sum(shares) <= cp_model.LinearExpr.sum(hours))
    covered: list[cp_model.LinearExprT] = []
    for insee, need in demand.items():
        if served[insee]:
            model.add(cp_model.LinearExpr.sum(served[insee]) <= need)
            covered.extend(served[insee])
    return sum(demand.values()) - cp_model.LinearExpr.sum(covered)
