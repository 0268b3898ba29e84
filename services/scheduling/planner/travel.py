"""Travel between places: great-circle distance × a detour factor ÷ a speed per mode.

The offline default. A road-routing provider (OSRM, Valhalla) implements the same
``TravelTimes`` protocol when one is reachable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.geo import Point, great_circle_km

DETOUR = 1.3
"""Roads are longer than the crow flies: ~1.3 in rural France."""
SPEED_KMH = {"car": 50.0, "public_transport": 25.0, "bike": 15.0, "walk": 4.5}


class TravelTimes(Protocol):
    def km(self, a: Point, b: Point) -> float: ...

    def minutes(self, a: Point, b: Point, mode: str) -> int: ...


@dataclass(frozen=True)
class CrowFlies:
    detour: float = DETOUR

    def km(self, a: Point, b: Point) -> float:
        return great_circle_km(a, b) * self.detour

    def minutes(self, a: Point, b: Point, mode: str) -> int:
        return round(self.km(a, b) / SPEED_KMH[mode] * 60)
