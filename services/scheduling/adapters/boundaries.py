"""The communes' boundaries shipped with scheduling (``data/geo/communes-DEP.geojson.gz``), by INSEE code.

Each département's file is read once, when a commune of it is first asked for, and kept (at most
``max_departements`` of them, the least recently used going first). A commune's geometry is kept
as its compact JSON text with its bounding box: about 0.2 MB a département instead of the 1.5 MB
its parsed coordinates take; ``Boundary.geometry()`` parses a fresh copy for each caller.

Lookups may come from several threads at once (the API reads them off the event loop): the cache
is guarded by a lock, and a département being read is read by one thread while the others wait.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GEO_DIR = Path(__file__).resolve().parent.parent / "data" / "geo"
ATTRIBUTION = "Données : INSEE, IGN, DILA (Annuaire de l'administration) — Licence Ouverte 2.0"
MAX_DEPARTEMENTS = 24

BBox = tuple[float, float, float, float]
"""``(min_lon, min_lat, max_lon, max_lat)``, as GeoJSON's ``bbox``."""


def departement_of(insee: str) -> str | None:
    """The département of a commune's INSEE code: its first two characters (``61``, ``2A``, ``2B``),
    three overseas (``971`` … ``976``); None for what is not a commune's code."""
    if len(insee) != 5 or not insee.isascii() or not insee.isalnum():
        return None
    if insee.startswith("97"):
        return insee[:3]
    if insee[:2] in ("2A", "2B") or insee[:2].isdigit():
        return insee[:2] if insee[2:].isdigit() else None
    return None


@dataclass(frozen=True)
class Boundary:
    insee: str
    name: str
    bbox: BBox
    geometry_json: str
    """The GeoJSON geometry (``Polygon`` or ``MultiPolygon``, ``[lon, lat]``), as compact JSON text."""

    def geometry(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.geometry_json)
        return parsed


def union(boxes: Iterable[BBox]) -> BBox | None:
    """The box around all of ``boxes``; None when there are none."""
    boxes = list(boxes)
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


class CommuneBoundaries:
    """The shipped boundaries of the communes, read a département at a time and kept (bounded)."""

    def __init__(self, directory: Path = GEO_DIR, *, max_departements: int = MAX_DEPARTEMENTS) -> None:
        if max_departements < 1:
            raise ValueError("max_departements must be at least 1")
        self.directory = directory
        self.max_departements = max_departements
        self._lock = threading.Lock()
        self._loaded: OrderedDict[str, dict[str, Boundary]] = OrderedDict()
        self._loading: dict[str, threading.Lock] = {}
        self.reads = 0
        """How many files were read (a département read again after being evicted counts again)."""

    def of(self, insee: str) -> Boundary | None:
        """The commune's boundary; None for a commune the files do not draw (or not a commune's code)."""
        departement = departement_of(insee)
        if departement is None:
            return None
        return self._departement(departement).get(insee)

    def of_many(self, codes: Iterable[str]) -> dict[str, Boundary]:
        """The boundaries of those of ``codes`` the files draw, by INSEE code."""
        found = {}
        for insee in codes:
            boundary = self.of(insee)
            if boundary is not None:
                found[insee] = boundary
        return found

    def cached(self) -> list[str]:
        """The départements held, least recently used first."""
        with self._lock:
            return list(self._loaded)

    def _departement(self, departement: str) -> dict[str, Boundary]:
        with self._lock:
            if departement in self._loaded:
                self._loaded.move_to_end(departement)
                return self._loaded[departement]
            loading = self._loading.setdefault(departement, threading.Lock())
        with loading:  # one thread reads the file; the others asking for it wait, then find it
            with self._lock:
                if departement in self._loaded:
                    self._loaded.move_to_end(departement)
                    return self._loaded[departement]
            boundaries = self._read(departement)
            with self._lock:
                self._loaded[departement] = boundaries
                while len(self._loaded) > self.max_departements:
                    self._loaded.popitem(last=False)
                self._loading.pop(departement, None)
            return boundaries

    def _read(self, departement: str) -> dict[str, Boundary]:
        path = self.directory / f"communes-{departement}.geojson.gz"
        if not path.is_file():
            return {}  # no such département (975, say): its communes have no boundary
        with gzip.open(path, "rt", encoding="utf-8") as f:
            collection = json.load(f)
        with self._lock:
            self.reads += 1
        boundaries = {}
        for feature in collection["features"]:
            geometry, properties = feature.get("geometry"), feature["properties"]
            if not geometry:
                continue
            insee = properties["insee"]
            boundaries[insee] = Boundary(
                insee=insee,
                name=properties.get("nom", ""),
                bbox=_bbox(geometry),
                geometry_json=json.dumps(geometry, separators=(",", ":")),
            )
        return boundaries


def _positions(geometry: dict[str, Any]) -> Iterator[list[float]]:
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        raise ValueError(f"a commune's boundary is a Polygon or a MultiPolygon, not a {geometry['type']}")
    for polygon in polygons:
        for ring in polygon:
            yield from ring


def _bbox(geometry: dict[str, Any]) -> BBox:
    lons, lats = zip(*((p[0], p[1]) for p in _positions(geometry)), strict=True)
    return (min(lons), min(lats), max(lons), max(lats))


BOUNDARIES = CommuneBoundaries()
"""The shipped boundaries, shared by the process (nothing is read until a commune is asked for)."""
