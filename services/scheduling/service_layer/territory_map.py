"""A territory's map: its communes as GeoJSON, drawn from the shipped boundaries, with what scheduling's
copy of the registry knows of each (population, weekly demand). A read model: nothing is written."""

from __future__ import annotations

import asyncio
from typing import Any

from services.scheduling.adapters.boundaries import ATTRIBUTION, BBox, CommuneBoundaries, union
from services.scheduling.service_layer.errors import TerritoryNotFound
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork


async def territory_map(code: str, uow: SchedulingUnitOfWork, boundaries: CommuneBoundaries) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (RFC 7946), one Feature per commune of the territory, in the copy's order.

    A Feature's ``geometry`` is its shipped boundary, null for a commune the files do not draw. Its
    ``demand_hours`` and ``atelier_demand_hours`` are the commune's weekly demand as the planner takes it
    (individual help, ateliers; 0 when the copy has none yet): a plan's ``demand_hours_by_commune`` is
    ``demand_hours`` × its days / 7. ``bbox`` boxes the boundaries, and the centroids of the communes
    without one (left out when there is neither: GeoJSON has no null box).
    """
    async with uow:
        territory = await uow.territories.get(code)
        if territory is None:
            raise TerritoryNotFound(code)
        demand = await uow.demand.of([c.insee for c in territory.communes])
    # The first look at a département reads its file: off the event loop.
    drawn = await asyncio.to_thread(boundaries.of_many, [c.insee for c in territory.communes])
    features, boxes = [], []
    for commune in territory.communes:
        boundary = drawn.get(commune.insee)
        wanted = demand.get(commune.insee)
        if boundary is not None:
            boxes.append(boundary.bbox)
        elif commune.latitude is not None and commune.longitude is not None:
            boxes.append((commune.longitude, commune.latitude, commune.longitude, commune.latitude))
        features.append(
            {
                "type": "Feature",
                "id": commune.insee,
                "geometry": boundary.geometry() if boundary is not None else None,
                "properties": {
                    "insee": commune.insee,
                    "name": commune.name,
                    "population": commune.population,
                    "demand_hours": wanted.individual_hours if wanted else 0.0,
                    "atelier_demand_hours": wanted.atelier_hours if wanted else 0.0,
                },
            }
        )
    box: BBox | None = union(boxes)
    return {
        "type": "FeatureCollection",
        **({"bbox": list(box)} if box is not None else {}),
        "attribution": ATTRIBUTION,
        "features": features,
    }
