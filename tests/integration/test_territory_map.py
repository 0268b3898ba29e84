"""A territory's map from scheduling: its communes as GeoJSON, with their boundaries and weekly demand."""

import time

import pytest

from shared.auth import Role
from tests.integration.helpers import eventually
from tests.integration.registry_stack import ADMIN, COORDINATOR, MORTAGNE, OTHER_COORDINATOR, token
from tests.integration.services_stack import MONDAY, registered_conseiller, solved_plan


def contains(outer, inner) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def box_of(geometry) -> list[float]:
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    points = [p for polygon in polygons for ring in polygon for p in ring]
    return [min(p[0] for p in points), min(p[1] for p in points), max(p[0] for p in points), max(p[1] for p in points)]


async def test_a_coordinator_gets_their_territorys_communes_with_boundaries_and_demand(clients):
    await registered_conseiller(clients)
    scheduling, registry = clients["scheduling"], clients["registry"]
    wanted = (await registry.get("/demand", params={"territory": MORTAGNE, "limit": 500}, headers=ADMIN)).json()
    demand = {d["commune"]: (d["individual_hours"], d["atelier_hours"]) for d in wanted["items"]}
    assert len(demand) == 33

    async def demand_copied():
        response = await scheduling.get(f"/territories/{MORTAGNE}/map", headers=COORDINATOR)
        if response.status_code != 200:
            return None
        got = {
            f["properties"]["insee"]: (f["properties"]["demand_hours"], f["properties"]["atelier_demand_hours"])
            for f in response.json()["features"]
        }
        return response if got == demand else None

    response = await eventually(demand_copied)
    assert response.headers["content-type"] == "application/geo+json"
    assert "private" in response.headers["cache-control"]
    assert "max-age=" in response.headers["cache-control"]
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    assert "Licence Ouverte 2.0" in collection["attribution"]

    territory = (await scheduling.get(f"/territories/{MORTAGNE}", headers=COORDINATOR)).json()
    features = collection["features"]
    assert [f["properties"]["insee"] for f in features] == [c["insee"] for c in territory["communes"]]
    assert {f["properties"]["insee"] for f in features} == set(demand)
    for feature, commune in zip(features, territory["communes"], strict=True):
        assert feature["type"] == "Feature"
        assert feature["id"] == commune["insee"]
        assert feature["properties"]["name"] == commune["name"]
        assert feature["properties"]["population"] == commune["population"]
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        box = box_of(feature["geometry"])
        assert contains(collection["bbox"], box)
        assert box[0] <= commune["longitude"] <= box[2]
        assert box[1] <= commune["latitude"] <= box[3]
    mortagne = next(f for f in features if f["id"] == "61293")
    assert mortagne["properties"]["name"] == "Mortagne-au-Perche"
    assert mortagne["properties"]["demand_hours"] > 0
    min_lon, min_lat, max_lon, max_lat = collection["bbox"]
    assert 0.3 < min_lon < max_lon < 0.9
    assert 48.3 < min_lat < max_lat < 48.7

    # Once the département is read, an EPCI's map is quick; an unchanged map is not sent again.
    started = time.perf_counter()
    again = await scheduling.get(f"/territories/{MORTAGNE}/map", headers=ADMIN)
    assert time.perf_counter() - started < 0.1
    assert again.content == response.content
    etag = again.headers["etag"]
    unchanged = await scheduling.get(f"/territories/{MORTAGNE}/map", headers={**ADMIN, "If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""


async def test_the_map_is_for_the_territorys_coordinators_and_admins_only(clients):
    await registered_conseiller(clients)
    scheduling = clients["scheduling"]
    path = f"/territories/{MORTAGNE}/map"
    await eventually(lambda: _status(scheduling, path, ADMIN, 200))
    assert (await scheduling.get(path)).status_code == 401
    assert (await scheduling.get(path, headers={"Authorization": "Bearer nonsense"})).status_code == 401
    assert (await scheduling.get(path, headers=OTHER_COORDINATOR)).status_code == 403
    assert (await scheduling.get(path, headers=token(Role.CONSEILLER))).status_code == 403
    assert (await scheduling.get(path, headers=COORDINATOR)).status_code == 200
    assert (await scheduling.get("/territories/epci:200000000/map", headers=ADMIN)).status_code == 404
    assert (await scheduling.get("/territories/epci:200000000/map", headers=COORDINATOR)).status_code == 403
    assert (await scheduling.get("/territories/nowhere/map", headers=ADMIN)).status_code == 422


async def test_a_commune_the_files_do_not_draw_has_a_null_geometry(clients):
    # Aurseulles (14581), restored in 2024, has neither a boundary nor a centroid; Ajaccio is in Corsica.
    custom = {"code": "custom:carte", "communes": ["61293", "14581", "2A004"]}
    defined = await clients["registry"].put("/territories", json=custom, headers=ADMIN)
    assert defined.status_code in (200, 201), defined.text
    path = "/territories/custom:carte/map"
    response = await eventually(lambda: _status(clients["scheduling"], path, ADMIN, 200))
    features = {f["id"]: f for f in response.json()["features"]}
    assert sorted(features) == ["14581", "2A004", "61293"]
    assert features["14581"]["geometry"] is None
    assert features["14581"]["properties"]["name"] == "Aurseulles"
    assert features["61293"]["geometry"] is not None
    assert features["2A004"]["geometry"] is not None
    min_lon, min_lat, max_lon, max_lat = response.json()["bbox"]
    assert min_lon < 0.6 < 8.7 < max_lon  # from Mortagne to Ajaccio
    assert min_lat < 42 < 48.5 < max_lat


async def test_a_plans_figures_give_each_communes_demand_over_its_days_as_the_map_gives_it_a_week(clients):
    await registered_conseiller(clients)
    scheduling = clients["scheduling"]
    path = f"/territories/{MORTAGNE}/map"

    async def demand_copied():
        response = await _status(scheduling, path, COORDINATOR, 200)
        features = response.json()["features"] if response else []
        return features if len(features) == 33 and all(f["properties"]["demand_hours"] for f in features) else None

    weekly = {f["id"]: f["properties"]["demand_hours"] for f in await eventually(demand_copied)}
    body = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "days": 5, "time_limit_s": 10}
    figures = (await solved_plan(scheduling, body, COORDINATOR))["figures"]
    by_commune = figures["demand_hours_by_commune"]
    assert set(by_commune) == set(weekly) == set(figures["covered_hours_by_commune"])
    assert sum(by_commune.values()) == pytest.approx(figures["demand_hours"], abs=0.05)
    for insee, hours in by_commune.items():
        assert hours == pytest.approx(weekly[insee] * 5 / 7, abs=0.051), insee
        assert figures["covered_hours_by_commune"][insee] <= hours


async def _status(client, path, headers, expected):
    response = await client.get(path, headers=headers)
    return response if response.status_code == expected else None
