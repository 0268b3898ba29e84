"""The registry's API on a real database and NATS: every rule a coordinator relies on."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from sqlalchemy import select

from services.registry.adapters import orm
from shared.auth import Role, issue_token
from tests.integration.helpers import eventually
from tests.integration.registry_stack import (
    COORDINATOR,
    MORTAGNE,
    OTHER_COORDINATOR,
    SECRET,
    THIONVILLE,
    conseiller_body,
    mortagne_with_a_conseiller,
    running_registry,
    template_database,
    token,
)


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    return template_database(tmp_path_factory.mktemp("registry-template"))


@pytest.fixture
async def registry(template, tmp_path, nats_url, nc):
    async with running_registry(template, tmp_path, nats_url) as running:
        yield running


@pytest.fixture
async def mortagne(registry):
    return await mortagne_with_a_conseiller(registry)


def fields(response) -> set[str]:
    return {str(part) for error in response.json()["detail"] for part in error["loc"][1:]}


# --- authentication and roles ---------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": f"Bearer {issue_token(SECRET, subject='x', role=Role.ADMIN, ttl=dt.timedelta(seconds=-1))}"},
        {
            "Authorization": f"Bearer {issue_token(type(SECRET)('another-secret-0123456789abcdefgh'), subject='x', role=Role.ADMIN)}"
        },
    ],
    ids=["none", "garbage", "expired", "foreign"],
)
async def test_every_route_needs_a_valid_token(registry, headers):
    for method, path in [
        ("GET", "/communes"), ("GET", "/territories"), ("GET", "/structures"), ("GET", "/lieux"),
        ("GET", "/conseillers"), ("GET", f"/demand?territory={MORTAGNE}"), ("PUT", "/territories"),
    ]:  # fmt: skip
        response = await registry.http.request(method, path, headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == "Bearer"


async def test_only_an_admin_defines_territories(registry):
    assert (await registry.call("PUT", "/territories", COORDINATOR, json={"code": MORTAGNE})).status_code == 403


async def test_a_coordinator_cannot_read_or_change_another_territory(registry, mortagne):
    lieu, conseiller, epn = mortagne["room"], mortagne["conseiller"], mortagne["epn"]
    forbidden = [
        ("GET", f"/territories/{MORTAGNE}", None),
        ("GET", f"/lieux/{lieu['id']}", None),
        ("GET", f"/structures/{epn['id']}", None),
        ("GET", f"/conseillers/{conseiller['id']}", None),
        ("GET", f"/lieux?territory={MORTAGNE}", None),
        ("GET", f"/conseillers?territory={MORTAGNE}", None),
        ("GET", f"/demand?territory={MORTAGNE}", None),
        ("PATCH", f"/lieux/{lieu['id']}", {"version": lieu["version"], "capacity": 3}),
        ("PATCH", f"/conseillers/{conseiller['id']}", {"version": conseiller["version"], "weekly_hours": 20}),
        ("POST", f"/conseillers/{conseiller['id']}/absences", {"start_date": "2026-12-01", "end_date": "2026-12-01"}),
        ("PUT", "/demand/61293", {"individual_hours": 1, "atelier_hours": 0}),
        ("POST", "/lieux/town-hall", {"commune": "61293"}),
        ("POST", "/structures", {"name": "CCAS", "kind": "ccas", "commune": "61293"}),
    ]
    for method, path, body in forbidden:
        response = await registry.call(method, path, OTHER_COORDINATOR, json=body)
        assert response.status_code == 403, (method, path, response.text)
    # …and their unfiltered listings show none of it.
    for path in ("/lieux", "/structures", "/conseillers", "/territories"):
        assert (await registry.ok("GET", path, OTHER_COORDINATOR))["total"] == 0, path
    # The coordinator of the territory sees and changes it.
    assert (await registry.ok("GET", "/lieux", COORDINATOR))["total"] == 2
    changed = await registry.ok("PATCH", f"/lieux/{lieu['id']}", COORDINATOR, json={"version": 1, "capacity": 14})
    assert changed["capacity"] == 14


async def test_a_coordinator_cannot_give_a_conseiller_a_territory_not_theirs(registry, mortagne):
    body = conseiller_body(mortagne["epn"]["id"], mortagne["room"]["id"], territories=[MORTAGNE, THIONVILLE])
    assert (await registry.call("POST", "/conseillers", COORDINATOR, json=body)).status_code == 403


async def test_a_conseiller_reads_their_record_and_declares_their_absences_only(registry, mortagne):
    me = mortagne["conseiller"]
    myself = token(Role.CONSEILLER, subject=me["id"])
    other = await registry.ok(
        "POST", "/conseillers", json=conseiller_body(mortagne["epn"]["id"], mortagne["room"]["id"], name="Sam")
    )
    assert (await registry.ok("GET", f"/conseillers/{me['id']}", myself))["name"] == "Camille Lefèvre"
    absence = {"start_date": "2026-12-07", "start_half": "am", "end_date": "2026-12-11", "end_half": "pm"}
    declared = await registry.ok("POST", f"/conseillers/{me['id']}/absences", myself, json=absence)
    assert len(declared["absences"]) == 1
    for method, path, body in [
        ("GET", f"/conseillers/{other['id']}", None),
        ("POST", f"/conseillers/{other['id']}/absences", absence),
        ("PATCH", f"/conseillers/{me['id']}", {"version": declared["version"], "weekly_hours": 10}),
        ("GET", "/conseillers", None),
        ("GET", "/lieux", None),
        ("POST", "/lieux/town-hall", {"commune": "61293"}),
    ]:
        assert (await registry.call(method, path, myself, json=body)).status_code == 403, (method, path)


# --- territories, communes, demand ----------------------------------------------------------


async def test_territories_come_from_the_data_with_zone_calendar_and_demand(registry):
    mortagne = await registry.ok("PUT", "/territories", json={"code": MORTAGNE})
    assert (mortagne["kind"], len(mortagne["communes"]), mortagne["population"]) == ("epci", 33, 13_768)
    assert (mortagne["time_zone"], mortagne["holiday_calendar"]) == ("Europe/Paris", "FR")
    tampon = await registry.ok("PUT", "/territories", json={"code": "custom:le-tampon", "communes": ["97422"]})
    assert (tampon["time_zone"], tampon["holiday_calendar"]) == ("Indian/Reunion", "FR-974")
    moselle = await registry.ok("PUT", "/territories", json={"code": "dep:57"})
    assert moselle["holiday_calendar"] == "FR-57"
    assert len(moselle["communes"]) > 700

    demand = await registry.ok("GET", f"/demand?territory={MORTAGNE}&limit=500")
    assert demand["total"] == 33
    assert sum(d["individual_hours"] for d in demand["items"]) == pytest.approx(19.2)
    assert sum(d["atelier_hours"] for d in demand["items"]) == pytest.approx(5.5)
    assert {d["source"] for d in demand["items"]} == {"default"}


async def test_redefining_a_territory_bumps_its_version(registry):
    first = await registry.ok("PUT", "/territories", json={"code": "custom:perche", "communes": ["61293"]})
    second = await registry.ok("PUT", "/territories", json={"code": "custom:perche", "communes": ["61293", "61029"]})
    assert (first["version"], second["version"], second["communes"]) == (1, 2, ["61029", "61293"])


async def test_unknown_insee_codes_are_refused_naming_the_field(registry):
    response = await registry.call("PUT", "/territories", json={"code": "custom:x", "communes": ["61293", "99999"]})
    assert response.status_code == 422
    assert "99999" in response.text
    assert fields(response) == {"communes"}
    response = await registry.call("POST", "/structures", json={"name": "EPN", "kind": "epn", "commune": "99999"})
    assert (response.status_code, fields(response)) == (422, {"commune"})
    assert (await registry.call("GET", "/communes/99999")).status_code == 404
    assert (await registry.ok("GET", "/communes/97422"))["name"] == "Le Tampon"


async def test_communes_are_searchable_and_paginated(registry):
    page = await registry.ok("GET", "/communes?name=mortagne&limit=2")
    assert page["total"] >= 2
    assert len(page["items"]) == 2
    await registry.ok("PUT", "/territories", json={"code": MORTAGNE})
    members = await registry.ok("GET", f"/communes?territory={MORTAGNE}&limit=10&offset=30")
    assert (members["total"], len(members["items"])) == (33, 3)


async def test_a_coordinator_overrides_demand_and_can_go_back_to_the_default(registry, mortagne):
    set_ = await registry.ok("PUT", "/demand/61293", COORDINATOR, json={"individual_hours": 6, "atelier_hours": 2})
    assert set_ == {"commune": "61293", "individual_hours": 6, "atelier_hours": 2, "source": "coordinator"}
    overridden = await registry.ok("GET", f"/demand?territory={MORTAGNE}&overridden=true", COORDINATOR)
    assert [d["commune"] for d in overridden["items"]] == ["61293"]
    back = await registry.ok("DELETE", "/demand/61293", COORDINATOR)
    assert (back["individual_hours"], back["source"]) == (2.9, "default")
    response = await registry.call(
        "PUT", "/demand/61293", COORDINATOR, json={"individual_hours": -1, "atelier_hours": 0}
    )
    assert (response.status_code, fields(response)) == (422, {"individual_hours"})


# --- structures and lieux -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"capacity": -2}, "capacity"),
        ({"kind": "chateau"}, "kind"),
        ({"latitude": 200}, "latitude"),
        ({"opening_hours": "Mo-Fr 09:00-25:00"}, "opening_hours"),
        ({"opening_hours": "week 1-53/2 Sa 09:00-12:00"}, "opening_hours"),
        ({"commune": "2C004"}, "commune"),
        ({"surprise": True}, "surprise"),
    ],
)
async def test_bad_lieux_get_422_naming_the_field(registry, body, field):
    await registry.ok("PUT", "/territories", json={"code": MORTAGNE})
    base = {
        "name": "Salle des fêtes", "kind": "salle_communale", "commune": "61293", "latitude": 48.52,
        "longitude": 0.55, "capacity": 30, "opening_hours": "Tu 14:00-17:00",
    }  # fmt: skip
    response = await registry.call("POST", "/lieux", json={**base, **body})
    assert response.status_code == 422, response.text
    assert field in fields(response)


async def test_a_town_hall_becomes_a_lieu_in_one_action(registry, mortagne):
    mairie = mortagne["mairie"]
    assert mairie["name"] == "Mairie de Bazoches-sur-Hoëne"
    assert mairie["address"] == "4 rue du Presbytère, 61560 Bazoches-sur-Hoëne"
    assert mairie["opening_hours"] == "Tu-Fr 09:00-12:30; Sa 09:00-12:00"


async def test_lieux_list_by_territory_commune_and_kind_with_pagination(registry, mortagne):
    assert (await registry.ok("GET", f"/lieux?territory={MORTAGNE}"))["total"] == 2
    assert [item["kind"] for item in (await registry.ok("GET", "/lieux?kind=mairie"))["items"]] == ["mairie"]
    assert (await registry.ok("GET", "/lieux?commune=61029"))["items"][0]["name"].startswith("Mairie")
    page = await registry.ok("GET", "/lieux?limit=1&offset=1")
    assert (page["total"], len(page["items"]), page["offset"]) == (2, 1, 1)


async def test_a_stale_update_gets_409_never_a_silent_overwrite(registry, mortagne):
    lieu = mortagne["room"]
    first = await registry.ok("PATCH", f"/lieux/{lieu['id']}", json={"version": 1, "capacity": 20})
    stale = await registry.call("PATCH", f"/lieux/{lieu['id']}", json={"version": 1, "capacity": 8})
    assert stale.status_code == 409
    assert (await registry.ok("GET", f"/lieux/{lieu['id']}"))["capacity"] == first["capacity"] == 20


async def test_concurrent_updates_of_one_record_let_exactly_one_win(registry, mortagne):
    conseiller = mortagne["conseiller"]
    path = f"/conseillers/{conseiller['id']}"
    results = await asyncio.gather(
        *(registry.call("PATCH", path, json={"version": 1, "weekly_hours": h}) for h in (20, 25, 30, 35))
    )
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409]
    assert (await registry.ok("GET", path))["version"] == 2


async def test_null_is_refused_for_required_fields_in_a_patch(registry, mortagne):
    response = await registry.call("PATCH", f"/lieux/{mortagne['room']['id']}", json={"version": 1, "name": None})
    assert (response.status_code, fields(response)) == (422, {"name"})


async def test_a_closed_lieu_leaves_the_listings_but_stays_on_record(registry, mortagne):
    mairie = mortagne["mairie"]
    closed = await registry.ok("DELETE", f"/lieux/{mairie['id']}?version=1")
    assert closed["closed"] is True
    assert (await registry.ok("GET", "/lieux"))["total"] == 1
    assert (await registry.ok("GET", "/lieux?closed=true"))["total"] == 2


# --- conseillers ----------------------------------------------------------------------------


async def test_a_home_lieu_outside_the_conseillers_territories_is_refused(registry, mortagne):
    await registry.ok("PUT", "/territories", json={"code": "custom:le-tampon", "communes": ["97422"]})
    body = conseiller_body(mortagne["epn"]["id"], mortagne["room"]["id"], territories=["custom:le-tampon"])
    response = await registry.call("POST", "/conseillers", json=body)
    assert (response.status_code, fields(response)) == (422, {"home_lieu_id"})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"employer_structure_id": "00000000-0000-4000-8000-000000000000"}, "employer_structure_id"),
        ({"home_lieu_id": "00000000-0000-4000-8000-000000000000"}, "home_lieu_id"),
        ({"territories": ["custom:nowhere"]}, "territories"),
        ({"email": "camille"}, "email"),
        ({"weekly_hours": 60}, "weekly_hours"),
        ({"availability": [{"weekday": 5, "half": "am", "every_weeks": 2}]}, "availability"),
        ({"travel_mode": "jetpack"}, "travel_mode"),
    ],
)
async def test_bad_conseillers_get_422_naming_the_field(registry, mortagne, overrides, field):
    body = conseiller_body(mortagne["epn"]["id"], mortagne["room"]["id"], **overrides)
    response = await registry.call("POST", "/conseillers", json=body)
    assert response.status_code == 422, response.text
    assert field in fields(response)


async def test_every_other_saturday_is_kept(registry, mortagne):
    slot = {"weekday": 5, "half": "am", "every_weeks": 2, "from_date": "2026-12-05"}
    conseiller = mortagne["conseiller"]
    updated = await registry.ok(
        "PATCH", f"/conseillers/{conseiller['id']}", json={"version": 1, "availability": [slot]}
    )
    assert updated["availability"] == [slot]


async def test_overlapping_absences_get_409_and_withdrawing_frees_them(registry, mortagne):
    path = f"/conseillers/{mortagne['conseiller']['id']}/absences"
    week = {"start_date": "2026-12-07", "start_half": "pm", "end_date": "2026-12-09", "end_half": "am"}
    declared = await registry.ok("POST", path, json=week)
    overlapping = {"start_date": "2026-12-09", "start_half": "am", "end_date": "2026-12-10", "end_half": "pm"}
    assert (await registry.call("POST", path, json=overlapping)).status_code == 409
    adjacent = {"start_date": "2026-12-09", "start_half": "pm", "end_date": "2026-12-10", "end_half": "pm"}
    await registry.ok("POST", path, json=adjacent)
    absence_id = declared["absences"][0]["id"]
    withdrawn = await registry.ok("DELETE", f"{path}/{absence_id}")
    assert len(withdrawn["absences"]) == 1
    assert (await registry.call("DELETE", f"{path}/{absence_id}")).status_code == 404
    backwards = {"start_date": "2026-12-09", "start_half": "pm", "end_date": "2026-12-09", "end_half": "am"}
    response = await registry.call("POST", path, json=backwards)
    assert (response.status_code, fields(response)) == (422, {"end_date"})


async def test_an_archived_conseiller_leaves_the_listing(registry, mortagne):
    conseiller = mortagne["conseiller"]
    archived = await registry.ok("DELETE", f"/conseillers/{conseiller['id']}?version=1")
    assert archived["archived"] is True
    assert (await registry.ok("GET", "/conseillers"))["total"] == 0
    assert (await registry.ok("GET", "/conseillers?archived=true"))["total"] == 1


# --- events ---------------------------------------------------------------------------------


async def test_every_change_publishes_a_versioned_event(registry, mortagne, nc):
    conseiller, lieu = mortagne["conseiller"], mortagne["room"]
    await registry.ok("PATCH", f"/conseillers/{conseiller['id']}", json={"version": 1, "weekly_hours": 30})
    declared = await registry.ok(
        "POST", f"/conseillers/{conseiller['id']}/absences", json={"start_date": "2026-12-01", "end_date": "2026-12-01"}
    )
    await registry.ok("DELETE", f"/conseillers/{conseiller['id']}/absences/{declared['absences'][0]['id']}")
    await registry.ok("PATCH", f"/lieux/{lieu['id']}", json={"version": 1, "capacity": 16})
    await registry.ok("DELETE", f"/lieux/{mortagne['mairie']['id']}?version=1")
    await registry.ok("PUT", "/demand/61293", json={"individual_hours": 5, "atelier_hours": 1})
    await registry.ok("PATCH", f"/structures/{mortagne['epn']['id']}", json={"version": 1, "name": "EPN du Perche"})

    expected = [
        "registry.territory.defined.v1", *["registry.demand.changed.v1"] * 33, "registry.structure.registered.v1",
        "registry.lieu.opened.v1", "registry.lieu.opened.v1", "registry.conseiller.registered.v1",
        "registry.conseiller.updated.v1", "registry.conseiller.absence_declared.v1",
        "registry.conseiller.absence_withdrawn.v1", "registry.lieu.changed.v1", "registry.lieu.closed.v1",
        "registry.demand.changed.v1", "registry.structure.updated.v1",
    ]  # fmt: skip
    async with registry.service.runtime.engine.connect() as conn:
        subjects = (await conn.execute(select(orm.outbox.c.subject).order_by(orm.outbox.c.id))).scalars().all()
    assert subjects == expected

    js = nc.jetstream()

    async def all_published():
        return (await js.stream_info("REGISTRY")).state.messages == len(expected)

    await eventually(all_published)
    last = await js.get_last_msg("REGISTRY", "registry.structure.updated.v1")
    assert json.loads(last.data)["data"]["name"] == "EPN du Perche"
    updated = await js.get_last_msg("REGISTRY", "registry.conseiller.updated.v1")
    assert "epn-mortagne.example" not in updated.data.decode()  # no personal contact leaves the registry
