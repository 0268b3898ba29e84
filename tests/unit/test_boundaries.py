"""The communes' boundaries shipped with scheduling, found by INSEE code."""

import gzip
import json
import threading

import pytest

from services.scheduling.adapters.boundaries import GEO_DIR, CommuneBoundaries, departement_of, union


@pytest.fixture(scope="module")
def boundaries() -> CommuneBoundaries:
    return CommuneBoundaries()


def inside(box, lon, lat) -> bool:
    return box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


@pytest.mark.parametrize(
    ("insee", "departement"),
    [("61293", "61"), ("01001", "01"), ("2A004", "2A"), ("2B033", "2B"), ("97422", "974"), ("97611", "976")],
)
def test_the_departement_comes_from_the_code_three_characters_overseas(insee, departement):
    assert departement_of(insee) == departement
    assert (GEO_DIR / f"communes-{departement}.geojson.gz").is_file()


@pytest.mark.parametrize("code", ["", "6129", "612930", "2C004", "../61", "6129x", "AB123", "６１２９３"])
def test_what_is_not_a_communes_code_has_no_departement(code):
    assert departement_of(code) is None


def test_every_shipped_file_is_a_departement_of_its_communes():
    for path in sorted(GEO_DIR.glob("communes-*.geojson.gz")):
        departement = path.name.removeprefix("communes-").removesuffix(".geojson.gz")
        with gzip.open(path, "rt", encoding="utf-8") as f:
            codes = [feature["properties"]["insee"] for feature in json.load(f)["features"]]
        assert codes, path
        assert {departement_of(code) for code in codes} == {departement}, path


@pytest.mark.parametrize(
    ("insee", "name", "lon", "lat"),
    [
        ("61293", "Mortagne-au-Perche", 0.5465, 48.5206),  # its EPN
        ("97422", "Le Tampon", 55.515, -21.278),  # La Réunion
        ("2A004", "Ajaccio", 8.7369, 41.9192),  # Corse-du-Sud
    ],
)
def test_a_commune_has_its_polygon(boundaries, insee, name, lon, lat):
    boundary = boundaries.of(insee)
    assert boundary is not None
    assert (boundary.insee, boundary.name) == (insee, name)
    geometry = boundary.geometry()
    assert geometry["type"] in ("Polygon", "MultiPolygon")
    ring = geometry["coordinates"][0] if geometry["type"] == "Polygon" else geometry["coordinates"][0][0]
    assert len(ring) >= 4
    assert ring[0] == ring[-1]
    assert inside(boundary.bbox, lon, lat)  # [lon, lat], as GeoJSON has them


@pytest.mark.parametrize("code", ["99999", "61999", "20004", "97500", "not-a-code", "14581"])
def test_a_commune_without_a_boundary_has_none(boundaries, code):
    # 14581 (Aurseulles) is a real commune, restored in 2024, after the boundaries were drawn.
    assert boundaries.of(code) is None


def test_each_departement_is_read_once_and_callers_get_their_own_copy():
    boundaries = CommuneBoundaries()
    first = boundaries.of("61293")
    assert first is not None
    assert boundaries.of("61001") is not None
    assert boundaries.of("61293") is first
    assert boundaries.reads == 1
    mine = first.geometry()
    mine["coordinates"].clear()
    assert first.geometry()["coordinates"]


def test_the_cache_keeps_the_most_recently_used_departements_only():
    boundaries = CommuneBoundaries(max_departements=2)
    for insee in ("61293", "97422", "61293", "2A004"):
        assert boundaries.of(insee) is not None
    assert boundaries.cached() == ["61", "2A"]  # 974 was the least recently used
    assert boundaries.reads == 3
    assert boundaries.of("97422") is not None
    assert boundaries.reads == 4
    assert boundaries.cached() == ["2A", "974"]


def test_threads_asking_at_once_read_a_departement_once():
    boundaries = CommuneBoundaries()
    start = threading.Barrier(8)
    found = []

    def ask():
        start.wait()
        found.append(boundaries.of("2B033"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8
    assert found[0] is not None
    assert all(b is found[0] for b in found)
    assert boundaries.reads == 1


def test_of_many_leaves_out_the_communes_without_a_boundary_and_the_union_boxes_them(boundaries):
    found = boundaries.of_many(["61293", "14581", "61097"])
    assert sorted(found) == ["61097", "61293"]
    box = union(b.bbox for b in found.values())
    assert box is not None
    assert all(inside(box, *corner) for b in found.values() for corner in (b.bbox[:2], b.bbox[2:]))
    assert union([]) is None
