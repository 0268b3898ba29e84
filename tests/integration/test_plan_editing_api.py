"""A coordinator edits plans through the scheduling API: moves a permanence by hand, checks a plan as it
stands, re-optimises a draft around its pins, previews what publishing a re-plan tells; and a calendar
link that opens one conseiller's feed and nothing else."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from tests.integration.helpers import eventually
from tests.integration.registry_stack import (
    ADMIN,
    COORDINATOR,
    MORTAGNE,
    OTHER_COORDINATOR,
)
from tests.integration.services_stack import MONDAY, PARIS, _ok, registered_conseiller, solved_plan

SOLVE = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "days": 5, "time_limit_s": 10}
DAYS = ("lundi 30 novembre", "mardi 1er décembre", "mercredi 2 décembre", "jeudi 3 décembre", "vendredi 4 décembre",
        "samedi 5 décembre")  # fmt: skip
SATURDAY = MONDAY + dt.timedelta(days=5)
NOBODY = "00000000-0000-4000-8000-000000000000"
FIGURES = ("travel_km", "travel_km_by_conseiller", "hours_by_conseiller", "covered_hours_by_commune",
           "demand_hours", "uncovered_demand_hours")  # fmt: skip


async def solved_mortagne(clients: dict[str, httpx.AsyncClient]) -> tuple[str, dict[str, Any]]:
    """Mortagne and its conseillère in scheduling's copy, and a draft of the week solved for it."""
    conseiller_id = await registered_conseiller(clients)
    await eventually(lambda: _ok(clients["scheduling"].get(f"/territories/{MORTAGNE}", headers=ADMIN)))
    return conseiller_id, await solved_plan(clients["scheduling"], SOLVE, COORDINATOR)


def local(moment: str) -> dt.datetime:
    return dt.datetime.fromisoformat(moment).astimezone(PARIS)


async def test_a_solved_plan_checks_clean_with_the_figures_of_its_solve(clients):
    _, plan = await solved_mortagne(clients)
    path = f"/plans/{plan['id']}/check"

    check = await clients["scheduling"].get(path, headers=COORDINATOR)

    assert check.status_code == 200, check.text
    assert check.json()["warnings"] == []
    assert {k: check.json()["figures"][k] for k in FIGURES} == {k: plan["figures"][k] for k in FIGURES}
    assert (await clients["scheduling"].get(path, headers=OTHER_COORDINATOR)).status_code == 403
    assert (await clients["scheduling"].get(path)).status_code == 401
    assert (await clients["scheduling"].get(f"/plans/{NOBODY}/check", headers=ADMIN)).status_code == 404


async def test_the_check_tells_of_an_absence_declared_since_naming_who_and_where_in_french(clients):
    conseiller_id, plan = await solved_mortagne(clients)
    first = min(plan["permanences"], key=lambda p: p["starts_at"])
    starts, ends = local(first["starts_at"]), local(first["ends_at"])
    half = "am" if starts.hour < 13 else "pm"
    day = starts.date().isoformat()
    absence = {"start_date": day, "start_half": half, "end_date": day, "end_half": half}
    declared = await clients["registry"].post(f"/conseillers/{conseiller_id}/absences", json=absence, headers=ADMIN)
    assert declared.status_code == 201, declared.text

    async def warned():
        check = (await clients["scheduling"].get(f"/plans/{plan['id']}/check", headers=COORDINATOR)).json()
        return [w for w in check["warnings"] if w["code"] == "absence"]

    [warning] = await eventually(warned)
    what = "atelier" if first["kind"] == "atelier" else "permanence"
    when = f"{DAYS[starts.weekday()]} ({'matin' if half == 'am' else 'après-midi'})"
    assert warning == {
        "code": "absence",
        "permanence_id": first["id"],
        "permanence_ids": [first["id"]],
        "conseiller_id": conseiller_id,
        "message": f"Absence de Camille Lefèvre le {when} : {what} au lieu « {first['lieu']} », "
        f"{clock(starts)}–{clock(ends)}.",
    }


def clock(moment: dt.datetime) -> str:
    return f"{moment.hour}h{moment.minute:02d}" if moment.minute else f"{moment.hour}h"
