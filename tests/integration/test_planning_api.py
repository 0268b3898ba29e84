"""Planning through the scheduling API: solve, re-plan (by hand and after an absence), pins, the
calendar feed, idempotent requests, the one-more-conseiller question."""

import asyncio
import datetime as dt
import json

from shared.auth import Role
from tests.integration.helpers import eventually
from tests.integration.registry_stack import ADMIN, COORDINATOR, MORTAGNE, OTHER_COORDINATOR, token
from tests.integration.services_stack import MONDAY, PARIS, _ok, finished, registered_conseiller, solved_plan


async def test_the_solver_plans_a_territory_from_the_copy_and_the_plan_reaches_notifications(clients):
    await registered_conseiller(clients)

    async def territory_copied():
        return (await clients["scheduling"].get(f"/territories/{MORTAGNE}", headers=ADMIN)).status_code == 200

    await eventually(territory_copied)
    body = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "days": 5, "time_limit_s": 10}
    assert (await clients["scheduling"].post("/plans/solve", json=body, headers=OTHER_COORDINATOR)).status_code == 403
    response = await clients["scheduling"].post("/plans/solve", json=body, headers=COORDINATOR)
    asked = response.json()
    assert (asked["kind"], asked["territory"], asked["status"]) == ("plan", MORTAGNE, "queued")
    request = await finished(clients["scheduling"], response, COORDINATOR)
    assert (request["status"], request["plan_id"], request["attempts"]) == ("done", asked["id"], 1)
    assert request["progress"] is None or request["progress"]["solutions"] >= 1
    plan = (await clients["scheduling"].get(f"/plans/{request['plan_id']}", headers=COORDINATOR)).json()
    assert request["result"]["objective"] == plan["figures"]["objective"]
    assert plan["figures"]["status"] == "OPTIMAL"
    assert plan["figures"]["gap"] == 0
    assert plan["permanences"], plan
    # 35 h contract: between half of it and 85 % in permanences over a whole week.
    held = sum(
        (dt.datetime.fromisoformat(p["ends_at"]) - dt.datetime.fromisoformat(p["starts_at"])).seconds / 3600
        for p in plan["permanences"]
    )
    assert 17.5 <= held <= 29.75
    starts = [dt.datetime.fromisoformat(p["starts_at"]).astimezone(PARIS) for p in plan["permanences"]]
    assert all(MONDAY <= s.date() < MONDAY + dt.timedelta(days=5) for s in starts)
    assert all(dt.time(8, 30) <= s.time() < dt.time(17, 30) for s in starts)
    assert (await clients["scheduling"].get(f"/plans/{plan['id']}", headers=ADMIN)).json()["figures"] == plan["figures"]

    await clients["scheduling"].post(f"/plans/{plan['id']}/publish", headers=COORDINATOR)

    async def received():
        items = (
            await clients["notifications"].get("/permanences", params={"plan_id": plan["id"]}, headers=ADMIN)
        ).json()
        return items if len(items) == len(plan["permanences"]) else None

    assert await eventually(received)


async def test_solving_needs_a_known_territory_and_a_monday(clients):
    body = {"territory": "epci:200070780", "week_start": MONDAY.isoformat()}
    assert (await clients["scheduling"].post("/plans/solve", json=body, headers=ADMIN)).status_code == 404
    body = {"territory": MORTAGNE, "week_start": "2026-12-01"}
    response = await clients["scheduling"].post("/plans/solve", json=body, headers=ADMIN)
    assert response.status_code == 422


async def test_an_absence_replans_a_published_week_moving_only_what_it_must(clients, nc):
    conseiller_id = await registered_conseiller(clients)
    await eventually(
        lambda: _ok(clients["scheduling"].get(f"/territories/{MORTAGNE}", headers=ADMIN)),
    )
    body = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "days": 5, "time_limit_s": 10}
    first = await solved_plan(clients["scheduling"], body, COORDINATOR)
    await clients["scheduling"].post(f"/plans/{first['id']}/publish", headers=COORDINATOR)
    tuesday = MONDAY + dt.timedelta(days=1)
    on_tuesday = {p["id"] for p in first["permanences"] if dt.datetime.fromisoformat(p["starts_at"]).date() == tuesday}
    assert on_tuesday, first["permanences"]

    absence = {"start_date": tuesday.isoformat(), "start_half": "am", "end_date": tuesday.isoformat(), "end_half": "pm"}
    declared = await clients["registry"].post(f"/conseillers/{conseiller_id}/absences", json=absence, headers=ADMIN)
    assert declared.status_code == 201, declared.text

    async def replanned():
        response = await clients["scheduling"].post(
            f"/plans/{first['id']}/replan", json={"reason": "absence mardi"}, headers=COORDINATOR
        )
        request = await finished(clients["scheduling"], response, COORDINATOR)
        assert request["status"] == "done", request
        draft = (await clients["scheduling"].get(f"/plans/{request['plan_id']}", headers=COORDINATOR)).json()
        busy = [p for p in draft["permanences"] if dt.datetime.fromisoformat(p["starts_at"]).date() == tuesday]
        return None if busy else draft

    draft = await eventually(replanned)  # once scheduling's copy has the absence
    assert (draft["replaces"], draft["reason"], draft["status"]) == (first["id"], "absence mardi", "draft")
    assert draft["figures"]["moved"] >= len(on_tuesday)
    kept = {p["id"] for p in draft["permanences"]} & {p["id"] for p in first["permanences"]}
    assert kept, "the permanences the absence does not touch keep their id"

    published = await clients["scheduling"].post(f"/plans/{draft['id']}/publish", headers=COORDINATOR)
    assert published.status_code == 200, published.text
    assert (await clients["scheduling"].get(f"/plans/{first['id']}", headers=ADMIN)).json()["status"] == "replaced"
    again = await clients["scheduling"].post(f"/plans/{first['id']}/replan", json={"reason": "x"}, headers=COORDINATOR)
    assert again.status_code == 409

    js = nc.jetstream()
    told: dict[str, str] = {}

    async def changes_published():
        for subject in ("scheduling.permanence.cancelled.v1", "scheduling.permanence.moved.v1"):
            try:
                sub = await js.subscribe(subject, ordered_consumer=True)
            except Exception:
                continue
            while True:
                try:
                    message = await sub.next_msg(timeout=0.2)
                except Exception:
                    break
                data = json.loads(message.data)["data"]
                told[data["permanence_id"]] = data["reason"]
            await sub.unsubscribe()
        return on_tuesday <= set(told)

    await eventually(changes_published)
    assert {told[i] for i in on_tuesday} == {"absence mardi"}
    assert not (kept & set(told)), "nobody is told about a permanence that stays"


async def test_an_absence_in_the_registry_makes_a_replan_draft_on_its_own(clients):
    conseiller_id = await registered_conseiller(clients)
    await eventually(lambda: _ok(clients["scheduling"].get(f"/territories/{MORTAGNE}", headers=ADMIN)))
    body = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "days": 5, "time_limit_s": 10}
    first = await solved_plan(clients["scheduling"], body, COORDINATOR)
    await clients["scheduling"].post(f"/plans/{first['id']}/publish", headers=COORDINATOR)
    held = sorted({dt.datetime.fromisoformat(p["starts_at"]).astimezone(PARIS).date() for p in first["permanences"]})
    day = held[0]
    absence = {"start_date": day.isoformat(), "start_half": "am", "end_date": day.isoformat(), "end_half": "pm"}
    await clients["registry"].post(f"/conseillers/{conseiller_id}/absences", json=absence, headers=ADMIN)

    async def drafted():
        listing = await clients["scheduling"].get("/plans", params={"replaces": first["id"]}, headers=COORDINATOR)
        return listing.json()["items"]

    [draft] = await eventually(drafted, timeout_s=30)
    assert draft["status"] == "draft"
    assert draft["reason"] == f"absence du {day:%d/%m} matin au {day:%d/%m} après-midi"
    assert draft["figures"]["moved"] >= 1
    assert all(dt.datetime.fromisoformat(p["starts_at"]).astimezone(PARIS).date() != day for p in draft["permanences"])
    # An absence on a day the plan does not use asks for nothing.
    sunday = MONDAY + dt.timedelta(days=6)
    quiet = {"start_date": sunday.isoformat(), "start_half": "am", "end_date": sunday.isoformat(), "end_half": "pm"}
    await clients["registry"].post(f"/conseillers/{conseiller_id}/absences", json=quiet, headers=ADMIN)
    await asyncio.sleep(1.5)
    listing = await clients["scheduling"].get("/plans", params={"replaces": first["id"]}, headers=COORDINATOR)
    assert listing.json()["total"] == 1


async def test_a_coordinator_pins_a_permanence_and_a_replan_keeps_it(clients):
    conseiller_id = await registered_conseiller(clients)
    await eventually(lambda: _ok(clients["scheduling"].get(f"/territories/{MORTAGNE}", headers=ADMIN)))
    body = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "days": 5, "time_limit_s": 10}
    plan = await solved_plan(clients["scheduling"], body, COORDINATOR)
    first, last = plan["permanences"][0], plan["permanences"][-1]
    path = f"/plans/{plan['id']}/permanences/{last['id']}/pin"
    assert (await clients["scheduling"].put(path, headers=OTHER_COORDINATOR)).status_code == 403
    pinned = (await clients["scheduling"].put(path, headers=COORDINATOR)).json()
    assert [p["pinned"] for p in pinned["permanences"] if p["id"] == last["id"]] == [True]
    missing = f"/plans/{plan['id']}/permanences/00000000-0000-4000-8000-000000000000/pin"
    assert (await clients["scheduling"].put(missing, headers=COORDINATOR)).status_code == 404
    await clients["scheduling"].post(f"/plans/{plan['id']}/publish", headers=COORDINATOR)

    day = dt.datetime.fromisoformat(first["starts_at"]).astimezone(PARIS).date()
    absence = {"start_date": day.isoformat(), "start_half": "am", "end_date": day.isoformat(), "end_half": "pm"}
    await clients["registry"].post(f"/conseillers/{conseiller_id}/absences", json=absence, headers=ADMIN)

    async def drafted():
        return (await clients["scheduling"].get("/plans", params={"replaces": plan["id"]}, headers=ADMIN)).json()[
            "items"
        ]

    [draft] = await eventually(drafted, timeout_s=30)
    [kept] = [p for p in draft["permanences"] if p["id"] == last["id"]]
    assert kept["pinned"] is True
    unpinned = (
        await clients["scheduling"].delete(f"/plans/{draft['id']}/permanences/{last['id']}/pin", headers=ADMIN)
    ).json()
    assert [p["pinned"] for p in unpinned["permanences"] if p["id"] == last["id"]] == [False]


async def test_a_conseiller_subscribes_to_their_published_permanences(clients):
    from icalendar import Calendar

    conseiller_id = await registered_conseiller(clients)
    await eventually(lambda: _ok(clients["scheduling"].get(f"/territories/{MORTAGNE}", headers=ADMIN)))
    body = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "days": 5, "time_limit_s": 10}
    plan = await solved_plan(clients["scheduling"], body, COORDINATOR)
    path = f"/conseillers/{conseiller_id}/calendar.ics"
    mine = token(Role.CONSEILLER, subject=conseiller_id)["Authorization"].removeprefix("Bearer ")

    empty = await clients["scheduling"].get(path, params={"token": mine})
    assert empty.status_code == 200
    assert Calendar.from_ical(empty.content).walk("VEVENT") == []  # a draft is not in anyone's calendar

    await clients["scheduling"].post(f"/plans/{plan['id']}/publish", headers=COORDINATOR)
    feed = await clients["scheduling"].get(path, params={"token": mine})
    assert feed.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(feed.content).walk("VEVENT")
    assert sorted(str(e["uid"]) for e in events) == sorted(f"{p['id']}@tournees" for p in plan["permanences"])
    first = min(events, key=lambda e: e.decoded("dtstart"))
    assert first.decoded("dtstart") == min(dt.datetime.fromisoformat(p["starts_at"]) for p in plan["permanences"])
    assert str(first["summary"]).startswith(("Permanence — ", "Atelier — "))

    someone_else = token(Role.CONSEILLER, subject="00000000-0000-4000-8000-000000000000")
    assert (await clients["scheduling"].get(path, headers=someone_else)).status_code == 403
    assert (await clients["scheduling"].get(path, headers=OTHER_COORDINATOR)).status_code == 403
    assert (await clients["scheduling"].get(path, headers=COORDINATOR)).status_code == 200
    assert (await clients["scheduling"].get(path)).status_code == 401
    assert (await clients["scheduling"].get(path, params={"token": "forged"})).status_code == 401


async def test_the_same_solve_request_gives_the_same_plan(clients):
    await registered_conseiller(clients)
    await eventually(lambda: _ok(clients["scheduling"].get(f"/territories/{MORTAGNE}", headers=ADMIN)))
    request_id = "6f1c1c3e-3d4b-4a43-9a57-0d6c2b9b7a11"
    body = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "time_limit_s": 10, "request_id": request_id}
    first = await clients["scheduling"].post("/plans/solve", json=body, headers=COORDINATOR)
    again = await clients["scheduling"].post("/plans/solve", json=body, headers=COORDINATOR)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"] == request_id
    done = await finished(clients["scheduling"], first, COORDINATOR)
    after = await clients["scheduling"].post("/plans/solve", json=body, headers=COORDINATOR)
    assert after.json() == done, "asked again once done: the same request, with its plan"
    assert done["plan_id"] == request_id
    assert (await clients["scheduling"].get("/plans", headers=ADMIN)).json()["total"] == 1
    assert (await clients["scheduling"].get("/solves", headers=ADMIN)).json()["total"] == 1
    other_week = {**body, "week_start": (MONDAY + dt.timedelta(days=7)).isoformat()}
    response = await clients["scheduling"].post("/plans/solve", json=other_week, headers=COORDINATOR)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "request_id"]


async def test_what_one_more_conseiller_would_cover(clients):
    await registered_conseiller(clients)
    # More demand than one conseiller can hold (at most 85 % of 35 h in permanences).
    await clients["registry"].put("/demand/61293", json={"individual_hours": 60, "atelier_hours": 0}, headers=ADMIN)
    await eventually(lambda: _ok(clients["scheduling"].get(f"/territories/{MORTAGNE}", headers=ADMIN)))
    lieux = (await clients["scheduling"].get("/lieux", params={"territory": MORTAGNE}, headers=ADMIN)).json()["items"]
    epn = next(lieu for lieu in lieux if lieu["name"] == "EPN de Mortagne-au-Perche")

    async def demand_copied():
        body = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "lieu_id": epn["id"], "time_limit_s": 10}
        response = await clients["scheduling"].post("/what-if/one-more-conseiller", json=body, headers=COORDINATOR)
        request = await finished(clients["scheduling"], response, COORDINATOR)
        assert (request["status"], request["plan_id"]) == ("done", None), request
        answer = request["result"]
        return answer if answer["uncovered_hours_now"] > 10 else None

    answer = await eventually(demand_copied)
    assert answer["more_covered_hours"] > 10
    assert answer["uncovered_hours_with_one_more"] < answer["uncovered_hours_now"]
    assert 17.5 <= answer["their_hours"] <= 29.75
    body = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "lieu_id": epn["id"]}
    assert (
        await clients["scheduling"].post("/what-if/one-more-conseiller", json=body, headers=OTHER_COORDINATOR)
    ).status_code == 403
    stranger = {**body, "lieu_id": "00000000-0000-4000-8000-000000000000"}
    response = await clients["scheduling"].post("/what-if/one-more-conseiller", json=stranger, headers=COORDINATOR)
    assert (response.status_code, response.json()["detail"][0]["loc"]) == (422, ["body", "lieu_id"])


async def test_a_closed_lieu_in_a_published_week_asks_for_a_replan_that_avoids_it(clients):
    await registered_conseiller(clients)
    await eventually(lambda: _ok(clients["scheduling"].get(f"/territories/{MORTAGNE}", headers=ADMIN)))
    body = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "days": 5, "time_limit_s": 10}
    plan = await solved_plan(clients["scheduling"], body, COORDINATOR)
    await clients["scheduling"].post(f"/plans/{plan['id']}/publish", headers=COORDINATOR)
    used = {p["lieu_id"] for p in plan["permanences"]}
    lieu = (await clients["registry"].get(f"/lieux/{sorted(used)[0]}", headers=ADMIN)).json()
    closed = await clients["registry"].delete(
        f"/lieux/{lieu['id']}", params={"version": lieu["version"]}, headers=ADMIN
    )
    assert closed.status_code == 200, closed.text

    async def drafted():
        return (await clients["scheduling"].get("/plans", params={"replaces": plan["id"]}, headers=ADMIN)).json()[
            "items"
        ]

    [draft] = await eventually(drafted, timeout_s=30)
    assert draft["reason"] == f"lieu fermé : {lieu['name']}"
    assert lieu["id"] not in {p["lieu_id"] for p in draft["permanences"]}
    [request] = (await clients["scheduling"].get("/solves", params={"status": "done"}, headers=ADMIN)).json()["items"][
        :1
    ]
    assert (request["kind"], request["plan_id"]) == ("replan", draft["id"])


async def test_a_lieus_recurring_atelier_is_planned_at_its_own_hour(clients):
    """A coordinator asks the EPN for an atelier every Friday 16:00–17:00 (skill, seats, computers)."""
    await registered_conseiller(clients)
    lieux = (await clients["registry"].get("/lieux", params={"territory": MORTAGNE}, headers=ADMIN)).json()["items"]
    epn = next(lieu for lieu in lieux if lieu["name"] == "EPN de Mortagne-au-Perche")
    atelier = {
        "weekday": 4, "start": "16:00", "end": "17:00", "kind": "atelier", "skill": "smartphone", "seats": 8,
        "needs_computers": True,
    }  # fmt: skip
    changed = await clients["registry"].patch(
        f"/lieux/{epn['id']}", json={"version": epn["version"], "recurrences": [atelier]}, headers=ADMIN
    )
    assert changed.status_code == 200, changed.text

    async def copied():
        listing = await clients["scheduling"].get("/lieux", params={"territory": MORTAGNE}, headers=ADMIN)
        return any(lieu["recurrences"] for lieu in listing.json()["items"])

    await eventually(copied)
    body = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "days": 5, "time_limit_s": 10}
    plan = await solved_plan(clients["scheduling"], body, COORDINATOR)
    friday = MONDAY + dt.timedelta(days=4)
    held = [
        (p["kind"], dt.datetime.fromisoformat(p["starts_at"]).astimezone(PARIS).time())
        for p in plan["permanences"]
        if p["lieu_id"] == epn["id"] and dt.datetime.fromisoformat(p["starts_at"]).astimezone(PARIS).date() == friday
    ]
    assert ("atelier", dt.time(16)) in held, plan["permanences"]
    [it] = [
        p
        for p in plan["permanences"]
        if p["kind"] == "atelier"
        and dt.datetime.fromisoformat(p["starts_at"]).astimezone(PARIS)
        == dt.datetime.combine(friday, dt.time(16), PARIS)
    ]
    assert dt.datetime.fromisoformat(it["ends_at"]).astimezone(PARIS).time() == dt.time(17)


async def test_a_coordinator_sets_the_objectives_weights_and_a_replan_keeps_them(clients):
    await registered_conseiller(clients)
    await eventually(lambda: _ok(clients["scheduling"].get(f"/territories/{MORTAGNE}", headers=ADMIN)))
    body = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "time_limit_s": 10}
    bad = await clients["scheduling"].post(
        "/plans/solve", json={**body, "weights": {"travel_per_minute": -1}}, headers=COORDINATOR
    )
    assert (bad.status_code, bad.json()["detail"][0]["loc"]) == (422, ["body", "weights", "travel_per_minute"])
    # Demand worth nothing: the contract's hours are held at home, with no reason to drive anywhere.
    weights = {"uncovered_per_hour": 0, "uncovered_atelier_per_hour": 0}
    plan = await solved_plan(clients["scheduling"], {**body, "weights": weights, "reach_km": 5}, COORDINATOR)
    assert plan["figures"]["weights"]["uncovered_per_hour"] == 0
    assert plan["figures"]["weights"]["travel_per_minute"] == 1, "the others keep their default"
    assert plan["figures"]["reach_km"] == 5
    assert plan["figures"]["travel_km"] == 0
    assert plan["permanences"]

    published = await clients["scheduling"].post(f"/plans/{plan['id']}/publish", headers=COORDINATOR)
    assert published.status_code == 200, published.text
    response = await clients["scheduling"].post(
        f"/plans/{plan['id']}/replan", json={"reason": "x"}, headers=COORDINATOR
    )
    request = await finished(clients["scheduling"], response, COORDINATOR)
    draft = (await clients["scheduling"].get(f"/plans/{request['plan_id']}", headers=COORDINATOR)).json()
    assert (draft["figures"]["weights"], draft["figures"]["reach_km"]) == (plan["figures"]["weights"], 5)
