"""The planner: given a territory's conseillers, lieux and demand, choose the permanences.

Pure computation, no I/O: ``instance`` (what is planned), ``travel`` (how long between places),
``blocks`` (which half-days a conseiller can hold at a lieu), ``recurrences`` (the coordinator's
standing requests in the horizon), ``contract`` (weekly hours as the contract counts them),
``cpsat`` (the OR-Tools CP-SAT model, with its terms in ``model_hours``, ``model_routes`` and
``model_coverage``), ``result`` (the plan and its figures), ``scenario`` (the JSON file form of
an instance), ``checker`` (an independent check of a plan against the rules), ``greedy`` and
``routing`` (baselines). ``docs/planner-model.md`` describes the model.
"""
