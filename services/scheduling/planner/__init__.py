"""The planner: given a territory's conseillers, lieux and demand, choose the permanences.

Pure computation, no I/O: ``instance`` (what is planned), ``travel`` (how long between places),
``blocks`` (which half-days a conseiller can hold at a lieu), ``cpsat`` (the OR-Tools CP-SAT
model), ``result`` (the plan and its figures), ``scenario`` (the JSON file form of an instance).
"""
