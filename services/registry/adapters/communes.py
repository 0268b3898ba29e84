"""Loading the shipped communes of France into the registry: idempotent, fast, with progress."""

from __future__ import annotations

import csv
import gzip
import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from services.registry.adapters.orm import communes, reference_data

COMMUNES_CSV = Path(__file__).resolve().parent.parent / "data" / "communes.csv.gz"
CHUNK = 2000

Progress = Callable[[int, int], None]


def read_communes(path: Path = COMMUNES_CSV) -> Iterator[dict[str, Any]]:
    """Rows of the shipped CSV, typed for the ``communes`` table."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            yield {
                "insee": row["insee"],
                "name": row["nom"],
                "population": int(row["population"] or 0),
                "departement": row["departement"],
                "region": row["region"],
                "epci_siren": row["epci_siren"] or None,
                "epci_name": row["epci_nom"] or None,
                "latitude": _float(row["lat"]),
                "longitude": _float(row["lon"]),
                "mairie_latitude": _float(row["mairie_lat"]),
                "mairie_longitude": _float(row["mairie_lon"]),
                "mairie_address": row["mairie_adresse"] or None,
                "mairie_opening_hours": row["mairie_horaires"] or None,
            }


def _float(value: str) -> float | None:
    return float(value) if value else None


def checksum(path: Path = COMMUNES_CSV) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def load_communes(engine: AsyncEngine, *, path: Path = COMMUNES_CSV, progress: Progress | None = None) -> int:
    """Insert or update every commune; skip entirely when this very file was loaded already.

    Returns the number of rows written (0 when nothing changed).
    """
    digest = checksum(path)
    async with engine.connect() as conn:
        loaded = await conn.scalar(select(reference_data.c.checksum).where(reference_data.c.name == "communes"))
    if loaded == digest:
        return 0
    rows = list(read_communes(path))
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(communes)
    updates = {c.name: statement.excluded[c.name] for c in communes.columns if c.name != "insee"}
    upsert = statement.on_conflict_do_update(index_elements=["insee"], set_=updates)
    async with engine.begin() as conn:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            await conn.execute(upsert, chunk)
            if progress:
                progress(start + len(chunk), len(rows))
        marker = dialect.insert(reference_data).values(
            name="communes", checksum=digest, rows=len(rows), loaded_at=datetime.now(UTC)
        )
        await conn.execute(
            marker.on_conflict_do_update(
                index_elements=["name"],
                set_={"checksum": digest, "rows": len(rows), "loaded_at": marker.excluded.loaded_at},
            )
        )
    return len(rows)
