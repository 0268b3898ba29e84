"""What a scheduling use case may answer instead of a result."""


class PlanNotFound(LookupError):
    pass


class TerritoryNotFound(LookupError):
    pass


class ConseillerNotFound(LookupError):
    pass


class SolveNotFound(LookupError):
    pass


class NoPlan(Exception):
    """The solver found no plan keeping every rule (or none in the time given)."""
