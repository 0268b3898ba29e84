"""Scheduling's map routes: a territory's communes as GeoJSON, for a page to draw without a tile server.

Included by ``entrypoints.api.router``; same roles as ``GET /territories/{code}``.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Response, status

from services.scheduling.adapters.boundaries import BOUNDARIES, CommuneBoundaries
from services.scheduling.entrypoints.access import may_plan_or_read
from services.scheduling.service_layer import territory_map
from services.scheduling.service_layer.errors import TerritoryNotFound
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from shared.auth import Authenticator, Principal
from shared.events.catalogue import TERRITORY_CODE_PATTERN
from shared.http import problems

GEOJSON = "application/geo+json"
CACHE_CONTROL = "private, max-age=60"
"""The boundaries never change, but demand may (a coordinator's override): a minute, then revalidate."""

_EXAMPLE = {
    "type": "FeatureCollection",
    "bbox": [0.3527, 48.3832, 0.6935, 48.6521],
    "attribution": "Données : INSEE, IGN, DILA (Annuaire de l'administration) — Licence Ouverte 2.0",
    "features": [
        {
            "type": "Feature",
            "id": "61293",
            "geometry": {"type": "Polygon", "coordinates": [[[0.5914, 48.5202], [0.5829, 48.5178], [0.5914, 48.5202]]]},
            "properties": {
                "insee": "61293",
                "name": "Mortagne-au-Perche",
                "population": 3818,
                "demand_hours": 2.9,
                "atelier_demand_hours": 1.5,
            },
        }
    ],
}


def router(
    uow: Callable[[], SchedulingUnitOfWork],
    principal_dependency: Authenticator,
    boundaries: CommuneBoundaries = BOUNDARIES,
) -> APIRouter:
    api = APIRouter()
    Caller = Annotated[Principal, Depends(principal_dependency)]

    @api.get(
        "/territories/{code}/map",
        tags=["registry copy"],
        response_class=Response,
        responses=problems(403, 404)
        | {
            200: {"content": {GEOJSON: {"example": _EXAMPLE}}, "description": "a GeoJSON FeatureCollection"},
            304: {"description": "not modified since the ETag sent in If-None-Match"},
        },
    )
    async def get_territory_map(
        code: Annotated[str, Path(pattern=TERRITORY_CODE_PATTERN, examples=["epci:200036069"])],
        principal: Caller,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        """The territory's communes as a GeoJSON FeatureCollection: each commune's boundary (simplified;
        ``null`` for a commune the shipped files do not draw) with its ``insee``, ``name``, ``population``
        and weekly ``demand_hours`` (individual help) and ``atelier_demand_hours`` as the planner takes them;
        ``bbox`` ``[min_lon, min_lat, max_lon, max_lat]`` and the data's ``attribution`` to show with it."""
        may_plan_or_read(principal, code)
        try:
            collection = await territory_map.territory_map(code, uow(), boundaries)
        except TerritoryNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such territory") from exc
        body = json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()
        etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Authorization"}
        if if_none_match is not None and etag in (tag.strip().removeprefix("W/") for tag in if_none_match.split(",")):
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(body, media_type=GEOJSON, headers=headers)

    return api
