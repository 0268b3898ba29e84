"""The demo scenario, driven through the services' public APIs like any client would.

Mortagne-au-Perche (Orne), from the field reports: one conseiller at the EPN holds
individual help on Monday and Friday afternoons and group ateliers on Tuesday and Thursday
afternoons, and goes out to the town halls of the communauté de communes. Lieux and
addresses come from the shipped commune data.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import gzip
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import httpx

COMMUNES = Path(__file__).resolve().parent.parent / "services" / "registry" / "data" / "communes.csv.gz"
TERRITORY = "epci:200036069"  # CC du Pays de Mortagne au Perche
TIME_ZONE = "Europe/Paris"
EPN = "61293"  # Mortagne-au-Perche

# (weekday, start, end, commune, lieu kind, activity) — the field report's week.
ROUNDS = (
    (0, "14:00", "17:00", EPN, "epn", "permanence"),
    (1, "09:00", "12:00", "61029", "mairie", "permanence"),  # Bazoches-sur-Hoëne
    (1, "14:00", "17:00", EPN, "epn", "atelier"),
    (3, "14:00", "17:00", "61404", "mairie", "atelier"),  # Saint-Hilaire-le-Châtel
    (4, "14:00", "17:00", EPN, "epn", "permanence"),
)


JOURS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


@dataclass(frozen=True)
class Summary:
    conseiller_id: str
    plan_id: str
    published: int
    received: list[dict[str, Any]]
    seconds: float


def communes(codes: set[str]) -> dict[str, dict[str, str]]:
    with gzip.open(COMMUNES, "rt", encoding="utf-8") as f:
        return {row["insee"]: row for row in csv.DictReader(f) if row["insee"] in codes}


def next_monday(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=7 - today.weekday())


def rounds(conseiller_id: str, week_start: dt.date) -> list[dict[str, str]]:
    zone = ZoneInfo(TIME_ZONE)
    info = communes({r[3] for r in ROUNDS})
    permanences = []
    for weekday, start, end, insee, lieu_kind, kind in ROUNDS:
        day = week_start + dt.timedelta(days=weekday)
        commune = info[insee]
        lieu = (
            f"EPN de {commune['nom']}"
            if lieu_kind == "epn"
            else f"Mairie de {commune['nom']}, {commune['mairie_adresse']}"
        )
        permanences.append(
            {
                "conseiller_id": conseiller_id,
                "commune": insee,
                "lieu": lieu[:200],
                "kind": kind,
                "starts_at": dt.datetime.combine(day, dt.time.fromisoformat(start), zone).isoformat(),
                "ends_at": dt.datetime.combine(day, dt.time.fromisoformat(end), zone).isoformat(),
            }
        )
    return permanences


async def _eventually(check: Any, what: str, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout_s:.0f} s")
        await asyncio.sleep(0.1)


async def run(urls: dict[str, str], token: str, today: dt.date | None = None) -> Summary:
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=10) as http:
        response = await http.post(
            f"{urls['registry']}/conseillers",
            json={"name": "Camille Lefèvre", "home_commune": EPN, "weekly_hours": 35},
        )
        response.raise_for_status()
        conseiller_id = response.json()["id"]

        async def copied() -> bool:
            listing = (await http.get(f"{urls['scheduling']}/conseillers")).json()
            return any(c["id"] == conseiller_id for c in listing)

        await _eventually(copied, "the conseiller reaching scheduling")

        week_start = next_monday(today or dt.datetime.now(ZoneInfo(TIME_ZONE)).date())
        response = await http.post(
            f"{urls['scheduling']}/plans",
            json={
                "territory": TERRITORY,
                "week_start": week_start.isoformat(),
                "time_zone": TIME_ZONE,
                "permanences": rounds(conseiller_id, week_start),
            },
        )
        response.raise_for_status()
        plan_id = response.json()["id"]
        published = await http.post(f"{urls['scheduling']}/plans/{plan_id}/publish")
        published.raise_for_status()
        count = len(published.json()["permanences"])

        async def received() -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = (
                await http.get(f"{urls['notifications']}/permanences", params={"plan_id": plan_id})
            ).json()
            return items if len(items) == count else []

        items = await _eventually(received, "the published plan reaching notifications")
    return Summary(conseiller_id, plan_id, count, items, time.monotonic() - started)


def print_summary(summary: Summary, out: TextIO) -> None:
    print("", file=out)
    print("Tournées demo — CC du Pays de Mortagne au Perche (Orne)", file=out)
    print(f"  conseiller registered in registry, copied by scheduling: {summary.conseiller_id}", file=out)
    print(f"  plan {summary.plan_id} published with {summary.published} permanences", file=out)
    print("  received by notifications (local time, Europe/Paris):", file=out)
    for item in summary.received:
        start = dt.datetime.fromisoformat(item["local_start"])
        end = dt.datetime.fromisoformat(item["ends_at"]).astimezone(ZoneInfo(item["time_zone"]))
        when = f"{JOURS[start.weekday()]:<8} {start:%d/%m %H:%M}–{end:%H:%M}"
        print(f"    {when}  {item['kind']:<10}  {item['lieu']}", file=out)
    print(f"  registry → scheduling → notifications in {summary.seconds:.1f} s", file=out)
