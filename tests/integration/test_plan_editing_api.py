"""A coordinator edits plans through the scheduling API: moves a permanence by hand, checks a plan as it
stands, re-optimises a draft around its pins, previews what publishing a re-plan tells; and a calendar
link that opens one conseiller's feed and nothing else."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from typing import Any

import httpx

from shared.auth import Role
from tests.integration.helpers import eventually
from tests.integration.registry_stack import (
    ADMIN,
    COORDINATOR,
    MORTAGNE,
    OTHER_COORDINATOR,
    conseiller_body,
    token,
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


async def epn(clients: dict[str, httpx.AsyncClient]) -> dict[str, Any]:
    lieux = await clients["scheduling"].get("/lieux", params={"territory": MORTAGNE}, headers=ADMIN)
    found: dict[str, Any] = next(lieu for lieu in lieux.json()["items"] if lieu["name"] == "EPN de Mortagne-au-Perche")
    return found


def at(date: dt.date, hour: int) -> str:
    return dt.datetime.combine(date, dt.time(hour), PARIS).isoformat()


def local(moment: str) -> dt.datetime:
    return dt.datetime.fromisoformat(moment).astimezone(PARIS)


def move_body(p: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A move of ``p`` to where it is, but for ``changes``."""
    keys = ("conseiller_id", "lieu_id", "starts_at", "ends_at")
    return {**{key: p[key] for key in keys}, **changes}


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


async def test_a_coordinator_moves_a_permanence_and_is_told_what_it_now_breaks(clients):
    conseiller_id, plan = await solved_mortagne(clients)
    there = await epn(clients)
    p = next(p for p in plan["permanences"] if p["kind"] == "permanence")
    body = {"conseiller_id": conseiller_id, "lieu_id": there["id"], "starts_at": at(SATURDAY, 9),
            "ends_at": at(SATURDAY, 12)}  # fmt: skip
    path = f"/plans/{plan['id']}/permanences/{p['id']}"
    assert (await clients["scheduling"].put(path, json=body, headers=OTHER_COORDINATOR)).status_code == 403
    assert (await clients["scheduling"].put(path, json=body)).status_code == 401

    response = await clients["scheduling"].put(path, json=body, headers=COORDINATOR)

    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["version"] == plan["version"] + 1
    [it] = [q for q in moved["permanences"] if q["id"] == p["id"]]  # nobody was told of a draft: same id
    assert it == {**p, "lieu": there["name"], "commune": there["commune"], "lieu_id": there["id"],
                  "starts_at": at(SATURDAY, 9), "ends_at": at(SATURDAY, 12)}  # fmt: skip
    about_it = {w["code"]: w for w in moved["warnings"] if w["permanence_id"] == p["id"]}
    assert about_it["unavailable"]["message"] == (
        "Camille Lefèvre ne travaille pas le samedi 5 décembre (matin) : "
        "permanence au lieu « EPN de Mortagne-au-Perche », 9h–12h."
    )
    assert about_it["lieu_closed"]["message"] == (
        "Le lieu « EPN de Mortagne-au-Perche » est fermé le samedi 5 décembre : la permanence de Camille Lefèvre, 9h–12h."
    )
    assert about_it["lieu_closed"]["conseiller_id"] == conseiller_id
    check = (await clients["scheduling"].get(f"/plans/{plan['id']}/check", headers=COORDINATOR)).json()
    assert check["warnings"] == moved["warnings"]
    hours = sum(check["figures"]["hours_by_conseiller"].values())
    assert hours == sum(plan["figures"]["hours_by_conseiller"].values()), "a three-hour block for a three-hour one"
    stored = (await clients["scheduling"].get(f"/plans/{plan['id']}", headers=COORDINATOR)).json()
    assert {k: v for k, v in stored.items() if k != "figures"} == {
        k: v for k, v in moved.items() if k not in ("figures", "warnings")
    }


async def test_a_move_that_cannot_be_is_refused_naming_why(clients):
    conseiller_id, plan = await solved_mortagne(clients)
    p, q = sorted(plan["permanences"], key=lambda p: p["starts_at"])[:2]
    path = f"/plans/{plan['id']}/permanences/{p['id']}"
    archived = await archived_conseiller(clients, conseiller_id)

    async def refused(body: dict[str, Any], status: int, field: str | None = None, where: str = path) -> None:
        response = await clients["scheduling"].put(where, json=body, headers=COORDINATOR)
        assert response.status_code == status, response.text
        if field is not None:
            assert response.json()["detail"][0]["loc"] == ["body", field], response.text

    await refused({**move_body(p), "kind": "atelier"}, 422, "kind")
    await refused(move_body(p, starts_at=p["starts_at"][:19]), 422, "starts_at")  # no UTC offset
    await refused(move_body(p, lieu_id=NOBODY), 422, "lieu_id")
    await refused(move_body(p, conseiller_id=NOBODY), 422, "conseiller_id")
    await refused(move_body(p, conseiller_id=archived), 422, "conseiller_id")
    await refused(move_body(p, ends_at=p["starts_at"]), 422, "ends_at")
    await refused(move_body(p, starts_at=at(MONDAY + dt.timedelta(days=7), 9), ends_at=at(MONDAY + dt.timedelta(days=7), 12)), 422, "starts_at")  # fmt: skip
    await refused(move_body(p, starts_at=q["starts_at"], ends_at=q["ends_at"]), 409)  # in two places at once
    await refused(move_body(p), 404, where=f"/plans/{plan['id']}/permanences/{NOBODY}")
    await refused(move_body(p), 404, where=f"/plans/{NOBODY}/permanences/{p['id']}")
    unchanged = (await clients["scheduling"].get(f"/plans/{plan['id']}", headers=ADMIN)).json()
    assert (unchanged["version"], unchanged["permanences"]) == (plan["version"], plan["permanences"])
    assert (await clients["scheduling"].post(f"/plans/{plan['id']}/publish", headers=COORDINATOR)).status_code == 200
    await refused(move_body(p), 409)  # only a draft is changed by hand


async def archived_conseiller(clients: dict[str, httpx.AsyncClient], colleague_id: str) -> str:
    """A second conseillère of Mortagne, archived, as scheduling's copy has her."""
    colleague = (await clients["registry"].get(f"/conseillers/{colleague_id}", headers=ADMIN)).json()
    body = conseiller_body(colleague["employer_structure_id"], colleague["home_lieu_id"], name="Sami Haddad",
                           email="sami.haddad@epn-mortagne.example")  # fmt: skip
    registered = (await clients["registry"].post("/conseillers", json=body, headers=ADMIN)).json()
    archived = await clients["registry"].delete(
        f"/conseillers/{registered['id']}", params={"version": registered["version"]}, headers=ADMIN
    )
    assert archived.status_code == 200, archived.text

    async def copied() -> bool:
        listing = await clients["scheduling"].get("/conseillers", params={"include_archived": True}, headers=ADMIN)
        return any(c["id"] == registered["id"] and c["archived"] for c in listing.json()["items"])

    await eventually(copied)
    return str(registered["id"])


async def test_a_draft_is_solved_again_around_its_pins(clients):
    _, plan = await solved_mortagne(clients)
    last = max(plan["permanences"], key=lambda p: p["starts_at"])
    pinned = await clients["scheduling"].put(f"/plans/{plan['id']}/permanences/{last['id']}/pin", headers=COORDINATOR)
    assert pinned.status_code == 200, pinned.text
    path = f"/plans/{plan['id']}/replan"
    assert (await clients["scheduling"].post(path, json={"reason": "x"}, headers=OTHER_COORDINATOR)).status_code == 403
    assert (await clients["scheduling"].post(path, json={"reason": "x"})).status_code == 401

    again = await solved_replan(clients, plan["id"], "à revoir")

    assert (again["status"], again["replaces"], again["reason"]) == ("draft", None, "à revoir")
    assert again["id"] != plan["id"]
    [kept] = [p for p in again["permanences"] if p["pinned"]]
    assert {k: kept[k] for k in ("conseiller_id", "lieu_id", "starts_at", "ends_at")} == {
        k: last[k] for k in ("conseiller_id", "lieu_id", "starts_at", "ends_at")
    }
    assert not {p["id"] for p in again["permanences"]} & {p["id"] for p in plan["permanences"]}, (
        "a draft's permanences were never published: nothing to keep"
    )


async def test_a_replan_draft_solved_again_still_replaces_the_published_plan_with_its_reason(clients):
    conseiller_id, plan = await solved_mortagne(clients)
    assert (await clients["scheduling"].post(f"/plans/{plan['id']}/publish", headers=COORDINATOR)).status_code == 200
    first = min(plan["permanences"], key=lambda p: p["starts_at"])
    day = local(first["starts_at"]).date().isoformat()
    absence = {"start_date": day, "start_half": "am", "end_date": day, "end_half": "pm"}
    await clients["registry"].post(f"/conseillers/{conseiller_id}/absences", json=absence, headers=ADMIN)

    async def drafted():
        listing = await clients["scheduling"].get("/plans", params={"replaces": plan["id"]}, headers=COORDINATOR)
        return listing.json()["items"]

    [draft] = await eventually(drafted, timeout_s=30)

    again = await solved_replan(clients, draft["id"], "revu à la main")

    assert (again["replaces"], again["reason"], again["status"]) == (plan["id"], draft["reason"], "draft")
    published_ids = {p["id"] for p in plan["permanences"]}
    assert {p["id"] for p in again["permanences"]} & published_ids, "what stays as published keeps its id"
    assert again["figures"]["moved"] >= 1, "its moves are counted from the published plan (the absence forces some)"
    assert (await clients["scheduling"].post(f"/plans/{again['id']}/publish", headers=COORDINATOR)).status_code == 200
    for stale in (draft["id"], plan["id"]):  # its plan replaced already; replaced
        response = await clients["scheduling"].post(f"/plans/{stale}/replan", json={"reason": "x"}, headers=COORDINATOR)
        assert response.status_code == 409, response.text


async def solved_replan(clients: dict[str, httpx.AsyncClient], plan_id: str, reason: str) -> dict[str, Any]:
    from tests.integration.services_stack import finished

    response = await clients["scheduling"].post(
        f"/plans/{plan_id}/replan", json={"reason": reason}, headers=COORDINATOR
    )
    request = await finished(clients["scheduling"], response, COORDINATOR)
    assert request["status"] == "done", request
    draft: dict[str, Any] = (
        await clients["scheduling"].get(f"/plans/{request['plan_id']}", headers=COORDINATOR)
    ).json()
    return draft


async def test_a_replans_preview_is_what_publishing_it_tells_after_hand_moves(clients, nc):
    conseiller_id, plan = await solved_mortagne(clients)
    assert (await clients["scheduling"].post(f"/plans/{plan['id']}/publish", headers=COORDINATOR)).status_code == 200
    assert (await clients["scheduling"].get(f"/plans/{plan['id']}/changes", headers=COORDINATOR)).status_code == 409
    first = min(plan["permanences"], key=lambda p: p["starts_at"])
    day = local(first["starts_at"]).date().isoformat()
    absence = {"start_date": day, "start_half": "am", "end_date": day, "end_half": "pm"}
    await clients["registry"].post(f"/conseillers/{conseiller_id}/absences", json=absence, headers=ADMIN)

    async def drafted():
        listing = await clients["scheduling"].get("/plans", params={"replaces": plan["id"]}, headers=COORDINATOR)
        return listing.json()["items"]

    [draft] = await eventually(drafted, timeout_s=30)
    published_ids = {p["id"] for p in plan["permanences"]}
    kept = next(p for p in draft["permanences"] if p["id"] in published_ids)
    path = f"/plans/{draft['id']}/permanences/{kept['id']}"
    saturday = move_body(kept, starts_at=at(SATURDAY, 9), ends_at=at(SATURDAY, 12))

    away = (await clients["scheduling"].put(path, json=saturday, headers=COORDINATOR)).json()
    [moved] = [p for p in away["permanences"] if p["starts_at"] == at(SATURDAY, 9)]
    assert moved["id"] != kept["id"], "its usagers must be told: it is no longer the published permanence"
    back = await clients["scheduling"].put(f"/plans/{draft['id']}/permanences/{moved['id']}", json=move_body(kept),
                                           headers=COORDINATOR)  # fmt: skip
    assert kept["id"] in {p["id"] for p in back.json()["permanences"]}, "moved back: the published one again"
    away = (await clients["scheduling"].put(path, json=saturday, headers=COORDINATOR)).json()

    changes_path = f"/plans/{draft['id']}/changes"
    assert (await clients["scheduling"].get(changes_path, headers=OTHER_COORDINATOR)).status_code == 403
    assert (await clients["scheduling"].get(changes_path)).status_code == 401
    preview = (await clients["scheduling"].get(changes_path, headers=COORDINATOR)).json()
    assert (preview["replaces"], preview["reason"]) == (plan["id"], draft["reason"])
    told = {c["permanence_id"]: c for c in preview["changes"]}
    assert len(told) >= 2, "the absence and the hand move change something"
    assert told[kept["id"]]["change"] == "cancelled" or told[kept["id"]]["to"]["starts_at"] == at(SATURDAY, 9)
    assert preview["kept"] + len(preview["changes"]) == len(plan["permanences"])
    new_ids = {p["id"] for p in away["permanences"]} - published_ids
    destinations = {c["to"]["permanence_id"] for c in preview["changes"] if c["to"]}
    assert {p["permanence_id"] for p in preview["added"]} == new_ids - destinations
    assert all(c["starts_at"] == local(c["starts_at"]).isoformat() for c in preview["changes"]), "in Paris time"

    published = await clients["scheduling"].post(f"/plans/{draft['id']}/publish", headers=COORDINATOR)
    assert published.status_code == 200, published.text

    events = await eventually(lambda: change_events(nc, draft["id"], len(preview["changes"])))
    assert events == {
        c["permanence_id"]: (
            "scheduling.permanence.cancelled.v1" if c["to"] is None else "scheduling.permanence.moved.v1",
            c["to"] and c["to"]["permanence_id"], preview["reason"],
        )
        for c in preview["changes"]
    }  # fmt: skip
    assert (await clients["scheduling"].get(changes_path, headers=COORDINATOR)).status_code == 409


async def change_events(nc, plan_id: str, expected: int) -> dict[str, tuple[str, str | None, str]] | None:
    """The permanences' moved and cancelled events of a published re-plan, once there are ``expected`` of them."""
    found: dict[str, tuple[str, str | None, str]] = {}
    js = nc.jetstream()
    for subject in ("scheduling.permanence.cancelled.v1", "scheduling.permanence.moved.v1"):
        sub = await js.subscribe(subject, ordered_consumer=True)
        while True:
            try:
                message = await sub.next_msg(timeout=0.2)
            except Exception:
                break
            data = json.loads(message.data)["data"]
            if data["plan_id"] == plan_id:
                to = data.get("to")
                found[data["permanence_id"]] = (subject, to and to["permanence_id"], data["reason"])
        await sub.unsubscribe()
    return found if len(found) >= expected else None


async def test_a_calendar_link_opens_the_conseillers_feed_and_no_route(clients):
    conseiller_id = await registered_conseiller(clients)
    path = f"/conseillers/{conseiller_id}/calendar-link"
    herself = token(Role.CONSEILLER, subject=conseiller_id)
    assert (await clients["scheduling"].post(path, headers=OTHER_COORDINATOR)).status_code == 403
    assert (await clients["scheduling"].post(path, headers=token(Role.CONSEILLER, subject=NOBODY))).status_code == 403
    assert (await clients["scheduling"].post(path)).status_code == 401
    missing = f"/conseillers/{NOBODY}/calendar-link"
    assert (await clients["scheduling"].post(missing, headers=ADMIN)).status_code == 404
    for who in (COORDINATOR, ADMIN):
        assert (await clients["scheduling"].post(path, headers=who)).status_code == 200

    link = (await clients["scheduling"].post(path, headers=herself)).json()

    url = urllib.parse.urlsplit(link["url"])
    assert url.path == f"/conseillers/{conseiller_id}/calendar.ics"
    expires_in = dt.datetime.fromisoformat(link["expires_at"]) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=364) < expires_in <= dt.timedelta(days=365)
    feed = await clients["scheduling"].get(link["url"])
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"].startswith("text/calendar")
    [calendar_token] = urllib.parse.parse_qs(url.query)["token"]
    bearer = {"Authorization": f"Bearer {calendar_token}"}
    assert (await clients["scheduling"].get(url.path, headers=bearer)).status_code == 200
    for service, route in (("scheduling", "/plans"), ("scheduling", f"/conseillers/{conseiller_id}/calendar-link"),
                           ("registry", f"/conseillers/{conseiller_id}"), ("notifications", "/permanences")):  # fmt: skip
        method = "POST" if route.endswith("calendar-link") else "GET"
        answer = await clients[service].request(method, route, headers=bearer)
        assert answer.status_code == 401, (service, route, answer.text)
    assert (await clients["scheduling"].get(url.path, headers=herself)).status_code == 200, "an ordinary token too"
