"""Demand for help per commune: expected weekly hours of individual help and of ateliers.

The default comes from population, with a floor so small communes are not forgotten:

- individual help: 0.75 h a week per 1,000 inhabitants, at least 0.5 h;
- ateliers: 0.4 h a week per 1,000 inhabitants (people travel to an atelier held nearby:
  the scheduler serves a commune's atelier demand from lieux within reach);

both to the tenth of an hour. For the Pays de Mortagne au Perche (33 communes, 13,768
inhabitants) that is 19.2 h of individual help and 5.5 h of ateliers a week, close to the
week the field report describes for its one conseiller (three half-days of individual help,
two afternoons of ateliers). A coordinator overrides it per commune with what they know.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.registry.domain.errors import RuleBroken
from shared.events import DemandChanged

INDIVIDUAL_HOURS_PER_1000 = 0.75
INDIVIDUAL_FLOOR_HOURS = 0.5
ATELIER_HOURS_PER_1000 = 0.4
MAX_WEEKLY_HOURS = 500.0


def _tenths(hours: float) -> float:
    return round(hours, 1)


@dataclass(frozen=True)
class Demand:
    commune: str
    individual_hours: float
    atelier_hours: float
    overridden: bool = False

    @classmethod
    def default(cls, commune: str, population: int) -> Demand:
        thousands = population / 1000
        individual = max(INDIVIDUAL_FLOOR_HOURS, _tenths(INDIVIDUAL_HOURS_PER_1000 * thousands))
        return cls(commune, individual, _tenths(ATELIER_HOURS_PER_1000 * thousands))

    @classmethod
    def override(cls, commune: str, individual_hours: float, atelier_hours: float) -> Demand:
        for field, value in (("individual_hours", individual_hours), ("atelier_hours", atelier_hours)):
            if not 0 <= value <= MAX_WEEKLY_HOURS:
                raise RuleBroken(field, f"must be between 0 and {MAX_WEEKLY_HOURS:g} hours a week")
        return cls(commune, individual_hours, atelier_hours, overridden=True)

    def changed(self) -> DemandChanged:
        return DemandChanged(
            commune=self.commune,
            individual_hours=self.individual_hours,
            atelier_hours=self.atelier_hours,
            overridden=self.overridden,
        )
