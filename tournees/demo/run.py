"""The demo scenario, driven through the services' public APIs like any client would.

Every territory of the field reports is set up in the registry (territory, structures, lieux,
conseillers); scheduling builds its copy from the registry's events; the solver plans next week
of the Pays de Mortagne au Perche (its one conseiller, its town halls and its demand) and of
Le Tampon in La Réunion (UTC+4), the plans are published, and notifications receives them in
local time. Fictional usagers are booked into the permanences; their confirmations go out by
SMS (through the local fake of Twilio) or e-mail, and their reminders are scheduled.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets
import time
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import httpx

from tournees.demo import usagers
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
class PlannedWeek:
    territory: str
    label: str
    time_zone: str
    plan_id: str
    figures: dict[str, Any]
    published: int
    received: list[dict[str, Any]]


@dataclass(frozen=True)
class Summary:
    territories: list[TerritoryFigures]
    weeks: list[PlannedWeek]
    seconds: float
    booked: list[usagers.Booked]
    deliveries: list[usagers.Delivery]
    mails: int
    maildir: Path | None
    coordinator: tuple[str, str] = ("", "")
    """The demo coordinator's login and password."""


PLANNED = (("epci:200036069", "the Pays de Mortagne au Perche"), ("epci:249740085", "Le Tampon (La Réunion)"))
"""The territories whose next week the demo plans and publishes."""
USAGERS_PER_TERRITORY = 16


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


async def coordinator_account(api: Api) -> tuple[str, str]:
    """A coordinator of the Pays de Mortagne, with a password made for this demo: (login, password)."""
    login, password = "coordination.mortagne@example.org", secrets.token_urlsafe(12)
    await api(
        "POST", "registry", "/accounts",
        json={"login": login, "name": "Coordination du Pays de Mortagne", "role": "coordinator",
              "territories": ["epci:200036069"], "password": password},
    )  # fmt: skip
    return login, password


def next_monday(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=7 - today.weekday())


async def run(
    urls: dict[str, str],
    token: str,
    today: dt.date | None = None,
    *,
    twilio_url: str | None = None,
    maildir: Path | None = None,
) -> Summary:
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
        week_start = next_monday(today or dt.datetime.now(ZoneInfo(TIME_ZONE)).date())
        zones = {f.code: f.time_zone for f in figures}
        weeks = [await _plan_week(api, code, label, zones[code], week_start) for code, label in PLANNED]
        seconds = time.monotonic() - started
        booked = await usagers.book(api, [(w.territory, w.plan_id, w.time_zone) for w in weeks], USAGERS_PER_TERRITORY)
        deliveries = await usagers.deliveries(api, booked, twilio_url)
        coordinator = await coordinator_account(api)
    return Summary(figures, weeks, seconds, booked, deliveries, usagers.mails_in(maildir), maildir, coordinator)


async def _plan_week(api: Api, code: str, label: str, time_zone: str, week_start: dt.date) -> PlannedWeek:
    """The territory's week solved, published, and received by notifications."""
    await _eventually(lambda: _known(api, f"/territories/{code}"), f"the territory {code} reaching scheduling")
    asked = await api(
        "POST", "scheduling", "/plans/solve",
        json={"territory": code, "week_start": week_start.isoformat(), "days": 5, "time_limit_s": 20},
    )  # fmt: skip
    solved = await _solved(api, asked["id"])
    plan = await api("GET", "scheduling", f"/plans/{solved['plan_id']}")
    published = await api("POST", "scheduling", f"/plans/{plan['id']}/publish")
    count = len(published["permanences"])

    async def received() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = await api("GET", "notifications", "/permanences", params={"plan_id": plan["id"]})
        return items if len(items) == count else None

    items = await _eventually(received, f"the published plan of {code} reaching notifications")
    return PlannedWeek(code, label, time_zone, plan["id"], plan["figures"], count, items)


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
    for week in summary.weeks:
        _print_week(week, out)
    print(f"  registry → scheduling → notifications: {summary.seconds:.1f} s in all", file=out)
    _print_messages(summary, out)
    login = " / ".join(summary.coordinator)
    print(f"\n  coordinator login (the page, or POST registry /auth/token): {login}", file=out)


def _print_week(week: PlannedWeek, out: TextIO) -> None:
    f = week.figures
    print(f"\n  plan {week.plan_id} for {week.label}, by the solver:", file=out)
    print(
        f"    {f['status']}, proven gap {f['gap']:.1%}, {f['solve_seconds']:.1f} s; travel {f['travel_km']:.0f} km;"
        f" demand {f['demand_hours']:.1f} h over the 5 days, uncovered {f['uncovered_demand_hours']:.1f} h",
        file=out,
    )
    print(f"  published: {week.published} permanences;", file=out)
    print(f"  received by notifications (local time, {week.time_zone}):", file=out)
    for item in week.received:
        start = dt.datetime.fromisoformat(item["local_start"])
        end = dt.datetime.fromisoformat(item["ends_at"]).astimezone(ZoneInfo(item["time_zone"]))
        when = f"{JOURS[start.weekday()]:<8} {start:%d/%m %H:%M}–{end:%H:%M}"
        print(f"    {when}  {item['kind']:<10}  {item['lieu']}", file=out)


def _print_messages(summary: Summary, out: TextIO) -> None:
    booked, by_sms = len(summary.booked), sum(b.channel == "sms" for b in summary.booked)
    print(
        f"\n  {booked} fictional usagers booked ({by_sms} by SMS, {booked - by_sms} by e-mail);"
        " the SMS as they arrive on their phones (local time of their territory):",
        file=out,
    )
    sms = [d for d in summary.deliveries if d.channel == "sms"]
    for d in sorted((d for d in sms if d.kind == "confirmation"), key=lambda d: (d.usager.territory, d.at)):
        _print_sms(d, out)
    reminders = [d for d in sms if d.kind == "reminder"]
    print(f"\n  {len(reminders)} reminders by SMS scheduled, the day before; the first of each territory:", file=out)
    for zone in sorted({d.usager.time_zone for d in reminders}):
        _print_sms(min((d for d in reminders if d.usager.time_zone == zone), key=lambda d: d.at), out)
    mails = [d for d in summary.deliveries if d.channel == "email" and d.kind == "confirmation"]
    waiting = [d for d in mails if not d.sent]
    where = f" in {summary.maildir}" if summary.maildir else ""
    print(
        f"\n  {len(mails)} confirmations by e-mail: {summary.mails} received so far by the SMTP sink{where}", file=out
    )
    if waiting:
        first = min(waiting, key=lambda d: d.at)
        print(f"    the others wait for the end of quiet hours: {usagers.local(first.at, first.usager.time_zone)}"
              f" ({first.usager.time_zone})", file=out)  # fmt: skip


def _print_sms(d: usagers.Delivery, out: TextIO) -> None:
    when = usagers.local(d.at, d.usager.time_zone)
    state = f"arrived {when}" if d.sent else f"will arrive {when}"
    segments = f", {d.segments} segment" if d.segments is not None else ""
    print(f"    {d.usager.phone}  {state} ({d.usager.time_zone}{segments})", file=out)
    print(f"      « {d.text} »", file=out)
