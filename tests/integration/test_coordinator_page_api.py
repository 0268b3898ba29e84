"""What scheduling serves the coordinator page: its files (with a strict Content-Security-Policy), where
the other services are, and a territory's week (public holidays, absences)."""

import datetime as dt
from typing import Any

from shared.auth import Role
from tests.integration.helpers import eventually
from tests.integration.registry_stack import ADMIN, COORDINATOR, MORTAGNE, OTHER_COORDINATOR, token
from tests.integration.services_stack import registered_conseiller

CHRISTMAS_WEEK = dt.date(2026, 12, 21)


async def test_the_page_and_its_modules_are_served_with_a_strict_policy(clients):
    scheduling = clients["scheduling"]
    assert (await scheduling.get("/coordinator", follow_redirects=False)).headers["location"] == "/coordinator/"
    page = await scheduling.get("/coordinator/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    # The browser may call the registry and notifications, and nothing else.
    assert "connect-src 'self' http://127.0.0.1:8001 http://127.0.0.1:8003;" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    script = await scheduling.get("/coordinator/js/main.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    config = (await scheduling.get("/coordinator/config.json")).json()
    assert config == {"registry_url": "http://127.0.0.1:8001", "notifications_url": "http://127.0.0.1:8003"}
    assert (await scheduling.get("/coordinator/../settings.py")).status_code == 404
    assert (await scheduling.get("/coordinator/%2e%2e/settings.py")).status_code == 404
    assert "content-security-policy" not in (await scheduling.get("/plans", headers=ADMIN)).headers


async def test_a_territorys_week_has_its_holidays_and_the_absences_of_its_conseillers(clients):
    conseiller_id = await registered_conseiller(clients)
    absence = {"start_date": "2026-12-22", "start_half": "pm", "end_date": "2026-12-23", "end_half": "am"}
    declared = await clients["registry"].post(f"/conseillers/{conseiller_id}/absences", json=absence, headers=ADMIN)
    assert declared.status_code == 201, declared.text
    path = f"/territories/{MORTAGNE}/week"

    async def absent() -> dict[str, Any] | None:
        week = await clients["scheduling"].get(path, params={"week_start": str(CHRISTMAS_WEEK)}, headers=COORDINATOR)
        assert week.status_code == 200, week.text
        found = week.json()
        return found if found["absences"] else None

    week = await eventually(absent)
    assert week["time_zone"] == "Europe/Paris"
    assert [d["date"] for d in week["days"]] == [str(CHRISTMAS_WEEK + dt.timedelta(days=i)) for i in range(7)]
    assert {d["date"]: d["holiday"] for d in week["days"] if d["holiday"]} == {"2026-12-25": "Noël"}
    (only,) = week["absences"]
    assert (only["conseiller_id"], only["start_date"], only["start_half"]) == (conseiller_id, "2026-12-22", "pm")
    assert (only["end_date"], only["end_half"], only["kind"]) == ("2026-12-23", "am", "conge")
    # A week the absence does not touch has none; five days were asked for, five come.
    params = {"week_start": "2026-11-30", "days": 5}
    later = (await clients["scheduling"].get(path, params=params, headers=COORDINATOR)).json()
    assert (len(later["days"]), later["absences"]) == (5, [])


async def test_a_week_is_for_the_territorys_coordinators_and_admins_only(clients):
    await registered_conseiller(clients)
    path, params = f"/territories/{MORTAGNE}/week", {"week_start": "2026-11-30"}
    scheduling = clients["scheduling"]
    assert (await scheduling.get(path, params=params)).status_code == 401
    assert (await scheduling.get(path, params=params, headers=OTHER_COORDINATOR)).status_code == 403
    conseiller = token(Role.CONSEILLER, subject="00000000-0000-0000-0000-000000000001")
    assert (await scheduling.get(path, params=params, headers=conseiller)).status_code == 403
    assert (await scheduling.get("/territories/epci:999999999/week", params=params, headers=ADMIN)).status_code == 404
    bad = await scheduling.get(path, params={"week_start": "2026-13-01"}, headers=ADMIN)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "week_start"]
    assert (await scheduling.get(path, params={**params, "days": 8}, headers=ADMIN)).status_code == 422
