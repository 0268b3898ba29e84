"""The demo scenario, driven through the services' public APIs like any client would.

Every territory of the field reports is set up in the registry (territory, structures, lieux,
conseillers); scheduling builds its copy from the registry's events; the solver plans next week
of the Pays de Mortagne au Perche (its one conseiller, its town halls and its demand), the plan
is published, and notifications receives it in local time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import httpx

from tournees.demo.territories import Scenario, fictional_name, scenarios

TIME_ZONE = "Europe/Paris"
JOURS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


@dataclass(frozen=True)
class TerritoryFigures:
    code: str
    name: str
    communes: int
    population: int
    time_zone: str
    holiday_calendar: str
    lieux: int
    conseillers: int
    individual_hours: float
    atelier_hours: float


@dataclass(frozen=True)
class Summary:
    territories: list[TerritoryFigures]
    plan_id: str
    figures: dict[str, Any]
    published: int
    received: list[dict[str, Any]]
    seconds: float


class Api:
    def __init__(self, http: httpx.AsyncClient, urls: dict[str, str]) -> None:
        self.http = http
        self.urls = urls

    async def __call__(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, f"{self.urls[service]}{path}", **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {service}{path}: {response.status_code} {response.text[:300]}")
        return response.json()


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


async def set_up(api: Api, scenario: Scenario, first_person: int) -> tuple[TerritoryFigures, dict[str, str]]:
    """The territory, its structures, lieux and conseillers; returns its figures and lieux by name."""
    territory = await api(
        "PUT", "registry", "/territories",
        json={"code": scenario.code, "name": scenario.name, "communes": scenario.communes},
    )  # fmt: skip
    structures: dict[str, str] = {}
    lieux: dict[str, str] = {}
    for commune in scenario.town_halls:
        mairie = await api("POST", "registry", "/lieux/town-hall", json={"commune": commune})
        lieux[mairie["name"]] = mairie["id"]
    for lieu in scenario.extra_lieux:
        lieux[lieu["name"]] = (await api("POST", "registry", "/lieux", json=lieu))["id"]
    for i, post in enumerate(scenario.posts):
        name = post.structure["name"]
        if name not in structures:
            structures[name] = (await api("POST", "registry", "/structures", json=post.structure))["id"]
        if post.lieu["name"] not in lieux:  # colleagues at one structure share its room
            home = await api("POST", "registry", "/lieux", json={**post.lieu, "structure_id": structures[name]})
            lieux[home["name"]] = home["id"]
        person = fictional_name(first_person + i)
        await api(
            "POST", "registry", "/conseillers",
            json={
                "name": person, "email": f"{slug(person)}@{slug(name)[:40]}.example",
                "employer_structure_id": structures[name], "home_lieu_id": lieux[post.lieu["name"]],
                "weekly_hours": post.weekly_hours, "availability": post.availability, "skills": list(post.skills),
                "territories": [scenario.code],
            },
        )  # fmt: skip
    demand = await api("GET", "registry", "/demand", params={"territory": scenario.code, "limit": 500})
    figures = TerritoryFigures(
        code=scenario.code,
        name=territory["name"],
        communes=len(territory["communes"]),
        population=territory["population"],
        time_zone=territory["time_zone"],
        holiday_calendar=territory["holiday_calendar"],
        lieux=len(lieux),
        conseillers=len(scenario.posts),
        individual_hours=round(sum(d["individual_hours"] for d in demand["items"]), 1),
        atelier_hours=round(sum(d["atelier_hours"] for d in demand["items"]), 1),
    )
    return figures, lieux


async def _eventually(check: Callable[[], Awaitable[Any]], what: str, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout_s:.0f} s")
        await asyncio.sleep(0.1)


async def _solved(api: Api, request_id: str, timeout_s: float = 120.0) -> dict[str, Any]:
    """The solve request once the solver has finished it (the service answers as soon as it is)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        request: dict[str, Any] = await api("GET", "scheduling", f"/solves/{request_id}", params={"wait": 10})
        if request["status"] == "done":
            return request
        if request["status"] == "failed":
            raise RuntimeError(f"the solver found no plan: {request['error']}")
    raise TimeoutError(f"the solve did not finish within {timeout_s:.0f} s")


def next_monday(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=7 - today.weekday())


async def run(urls: dict[str, str], token: str, today: dt.date | None = None) -> Summary:
    started = time.monotonic()
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        api = Api(http, urls)
        figures: list[TerritoryFigures] = []
        for scenario in scenarios():
            territory, _ = await set_up(api, scenario, first_person=sum(f.conseillers for f in figures))
            figures.append(territory)
        expected = sum(f.conseillers for f in figures)

        async def copied() -> list[dict[str, Any]] | None:
            page: dict[str, Any] = await api("GET", "scheduling", "/conseillers", params={"limit": 500})
            return page["items"] if page["total"] == expected else None

        await _eventually(copied, "every conseiller reaching scheduling")
        await _eventually(lambda: _known(api, "/territories/epci:200036069"), "the territory reaching scheduling")
        week_start = next_monday(today or dt.datetime.now(ZoneInfo(TIME_ZONE)).date())
        asked = await api(
            "POST", "scheduling", "/plans/solve",
            json={"territory": "epci:200036069", "week_start": week_start.isoformat(), "days": 5, "time_limit_s": 20},
        )  # fmt: skip
        solved = await _solved(api, asked["id"])
        plan = await api("GET", "scheduling", f"/plans/{solved['plan_id']}")
        published = await api("POST", "scheduling", f"/plans/{plan['id']}/publish")
        count = len(published["permanences"])

        async def received() -> list[dict[str, Any]] | None:
            items: list[dict[str, Any]] = await api(
                "GET", "notifications", "/permanences", params={"plan_id": plan["id"]}
            )
            return items if len(items) == count else None

        items = await _eventually(received, "the published plan reaching notifications")
    return Summary(figures, plan["id"], plan["figures"], count, items, time.monotonic() - started)


async def _known(api: Api, path: str) -> bool:
    try:
        await api("GET", "scheduling", path)
    except RuntimeError:
        return False
    return True


def print_summary(summary: Summary, out: TextIO) -> None:
    print("\nTournées demo — the territories of the field reports", file=out)
    print(
        f"  {'territory':<44} {'communes':>8} {'inhabitants':>11} {'lieux':>5} {'conseillers':>11}"
        f" {'demand h/week (help + ateliers)':>32}  time zone, holidays",
        file=out,
    )
    for t in summary.territories:
        print(
            f"  {t.name[:44]:<44} {t.communes:>8} {t.population:>11,} {t.lieux:>5} {t.conseillers:>11}"
            f" {t.individual_hours:>22.1f} + {t.atelier_hours:<7.1f}  {t.time_zone}, {t.holiday_calendar}",
            file=out,
        )
    f = summary.figures
    print(f"\n  plan {summary.plan_id} for the Pays de Mortagne au Perche, by the solver:", file=out)
    print(
        f"    {f['status']}, proven gap {f['gap']:.1%}, {f['solve_seconds']:.1f} s; travel {f['travel_km']:.0f} km;"
        f" demand {f['demand_hours']:.1f} h over the 5 days, uncovered {f['uncovered_demand_hours']:.1f} h",
        file=out,
    )
    print(f"  published: {summary.published} permanences;", file=out)
    print("  received by notifications (local time, Europe/Paris):", file=out)
    for item in summary.received:
        start = dt.datetime.fromisoformat(item["local_start"])
        end = dt.datetime.fromisoformat(item["ends_at"]).astimezone(ZoneInfo(item["time_zone"]))
        when = f"{JOURS[start.weekday()]:<8} {start:%d/%m %H:%M}–{end:%H:%M}"
        print(f"    {when}  {item['kind']:<10}  {item['lieu']}", file=out)
    print(f"  registry → scheduling → notifications: {summary.seconds:.1f} s in all", file=out)
