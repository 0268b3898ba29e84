"""The registry's rules, without database or broker."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.registry.domain.conseillers import Conseiller
from services.registry.domain.demand import Demand
from services.registry.domain.errors import Conflict, NotFound, RuleBroken
from services.registry.domain.geography import Commune, Territory, holiday_calendar_for, time_zone_for
from services.registry.domain.places import Lieu, Structure
from shared.events import (
    AbsenceDeclared,
    AbsenceWithdrawn,
    AvailabilitySlot,
    ConseillerRegistered,
    ConseillerUpdated,
    LieuChanged,
    LieuClosed,
    LieuOpened,
    StructureRegistered,
    TerritoryDefined,
)
from shared.opening_hours import OpeningHours


def commune(insee: str = "61293", departement: str = "61", **overrides) -> Commune:
    values = {
        "insee": insee, "name": "Mortagne-au-Perche", "population": 3818, "departement": departement,
        "region": "28", "epci_siren": "200036069", "epci_name": "CC du Pays de Mortagne au Perche",
        "latitude": 48.52, "longitude": 0.55, "mairie_latitude": 48.521, "mairie_longitude": 0.547,
        "mairie_address": "22 place du Général-de-Gaulle, 61400 Mortagne-au-Perche",
        "mairie_opening_hours": '[["lundi","vendredi",[["08:30:00","12:00:00"],["13:30:00","17:00:00"]]]]',
    }  # fmt: skip
    return Commune(**{**values, **overrides})


# --- territories ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("departements", "zone", "calendar"),
    [
        ({"61"}, "Europe/Paris", "FR"),
        ({"974"}, "Indian/Reunion", "FR-974"),
        ({"971"}, "America/Guadeloupe", "FR-971"),
        ({"972"}, "America/Martinique", "FR-972"),
        ({"973"}, "America/Cayenne", "FR-973"),
        ({"976"}, "Indian/Mayotte", "FR-976"),
        ({"57"}, "Europe/Paris", "FR-57"),
        ({"67", "68"}, "Europe/Paris", "FR-6AE"),
        ({"57", "54"}, "Europe/Paris", "FR"),  # a territory across the border of local law
    ],
)
def test_a_territory_gets_its_time_zone_and_holiday_calendar(departements, zone, calendar):
    assert time_zone_for(departements) == zone
    assert holiday_calendar_for(departements) == calendar


def test_a_territory_cannot_span_time_zones():
    with pytest.raises(RuleBroken, match="one time zone"):
        Territory.define("custom:outre-mer", "Mix", [commune(), commune("97422", "974")])


def test_defining_a_territory_records_it_with_its_communes():
    territory = Territory.define("epci:200036069", " CC  du Pays de Mortagne ", [commune("61293"), commune("61029")])
    assert territory.kind == "epci"
    assert territory.name == "CC du Pays de Mortagne"
    assert territory.insee_codes == {"61293", "61029"}
    [event] = territory.events
    assert isinstance(event, TerritoryDefined)
    assert [c.insee for c in event.communes] == ["61029", "61293"]


@pytest.mark.parametrize("code", ["epci:123", "dep:1", "custom:Has Spaces", "region:28", ""])
def test_a_territory_code_must_follow_the_naming(code):
    with pytest.raises(RuleBroken) as refused:
        Territory.define(code, "x", [commune()])
    assert refused.value.field == "code"


def test_a_town_hall_location_is_preferred_to_the_centroid():
    assert commune().location == (48.521, 0.547)
    assert commune(mairie_latitude=None, mairie_longitude=None).location == (48.52, 0.55)
    assert commune(mairie_latitude=None, mairie_longitude=None, latitude=None, longitude=None).location is None


# --- demand ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("population", "individual", "atelier"),
    [(0, 0.5, 0.0), (120, 0.5, 0.0), (999, 0.7, 0.4), (1000, 0.8, 0.4), (3818, 2.9, 1.5), (48_000, 36.0, 19.2)],
)
def test_default_demand_follows_population_with_a_floor(population, individual, atelier):
    demand = Demand.default("61293", population)
    assert (demand.individual_hours, demand.atelier_hours, demand.overridden) == (individual, atelier, False)


def test_a_coordinator_overrides_demand_within_bounds():
    assert Demand.override("61293", 4, 2).overridden
    with pytest.raises(RuleBroken) as refused:
        Demand.override("61293", -1, 2)
    assert refused.value.field == "individual_hours"


# --- structures and lieux -------------------------------------------------------------------


def lieu(**overrides) -> Lieu:
    values = {
        "name": "EPN de Mortagne-au-Perche", "kind": "structure", "structure_id": None, "commune": "61293",
        "address": "", "latitude": 48.52, "longitude": 0.55, "capacity": 12, "has_computers": True,
        "accessible": True, "opening_hours": "Mo-Fr 09:00-12:00,14:00-17:00; PH off",
    }  # fmt: skip
    return Lieu.open(uuid.uuid4(), **{**values, **overrides})


def test_a_structure_is_registered_then_versioned():
    structure = Structure.register(
        uuid.uuid4(), name="EPN", kind="epn", commune="61293", address="", latitude=None, longitude=None
    )
    assert isinstance(structure.events[0], StructureRegistered)
    structure.update(1, name="EPN du Perche")
    assert (structure.name, structure.version) == ("EPN du Perche", 2)
    with pytest.raises(Conflict, match="stale"):
        structure.update(1, name="Lost update")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "castle"}, "kind"),
        ({"commune": "6129"}, "commune"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": 501}, "capacity"),
        ({"latitude": None}, "latitude"),
        ({"latitude": 91.0}, "latitude"),
        ({"name": "  "}, "name"),
        ({"opening_hours": "Mo-Fr 25:00-26:00"}, "opening_hours"),
    ],
)
def test_a_lieu_with_bad_data_is_refused_naming_the_field(overrides, field):
    with pytest.raises(RuleBroken) as refused:
        lieu(**overrides)
    assert refused.value.field == field


def test_a_lieu_opens_changes_and_closes_with_events():
    place = lieu()
    place.change(1, capacity=20, opening_hours="Mo-Fr 09:00-12:00")
    place.change(2, capacity=20)  # nothing changed: no new version, no event
    place.close(2)
    assert [type(e) for e in place.events] == [LieuOpened, LieuChanged, LieuClosed]
    assert place.events[1].opening_hours == "Mo-Fr 09:00-12:00"  # type: ignore[attr-defined]
    assert place.version == 3
    with pytest.raises(Conflict, match="closed"):
        place.change(3, capacity=5)


def test_a_town_hall_becomes_a_lieu_with_its_hours_from_the_data():
    place = Lieu.at_town_hall(uuid.uuid4(), commune())
    assert place.name == "Mairie de Mortagne-au-Perche"
    assert place.kind == "mairie"
    assert (place.latitude, place.longitude) == (48.521, 0.547)
    assert place.opening_hours == OpeningHours.parse("Mo-Fr 08:30-12:00,13:30-17:00")
    assert place.opening_hours.covers(dt.date(2026, 12, 1), dt.time(9), dt.time(12))


def test_a_town_hall_without_any_location_cannot_become_a_lieu():
    nowhere = commune(mairie_latitude=None, mairie_longitude=None, latitude=None, longitude=None)
    with pytest.raises(RuleBroken, match="no known location"):
        Lieu.at_town_hall(uuid.uuid4(), nowhere)


# --- conseillers ----------------------------------------------------------------------------


def conseiller(**overrides) -> Conseiller:
    values = {
        "name": "Camille Lefèvre", "email": "Camille.L@epn-perche.fr", "phone": None,
        "employer_structure_id": uuid.uuid4(), "home_lieu_id": uuid.uuid4(), "weekly_hours": 35,
        "availability": [
            {"weekday": 0, "half": "pm"},
            {"weekday": 5, "half": "am", "every_weeks": 2, "from_date": "2026-12-05"},
        ],
        "skills": ["Smartphone", "demarches-en-ligne"], "travel_mode": "car", "max_travel_minutes_per_day": 120,
        "territories": ["epci:200036069"],
    }  # fmt: skip
    return Conseiller.register(uuid.uuid4(), **{**values, **overrides})


def test_registering_a_conseiller_publishes_no_personal_contact():
    person = conseiller()
    assert person.email == "camille.l@epn-perche.fr"
    assert person.skills == ("demarches-en-ligne", "smartphone")
    [event] = person.events
    assert isinstance(event, ConseillerRegistered)
    dumped = event.model_dump_json()
    assert "epn-perche.fr" not in dumped
    assert event.availability[1] == AvailabilitySlot(
        weekday=5, half="am", every_weeks=2, from_date=dt.date(2026, 12, 5)
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": " "}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"weekly_hours": 0}, "weekly_hours"),
        ({"weekly_hours": 49}, "weekly_hours"),
        ({"travel_mode": "teleport"}, "travel_mode"),
        ({"max_travel_minutes_per_day": 0}, "max_travel_minutes_per_day"),
        ({"skills": ["Démarches en ligne"]}, "skills"),
        ({"territories": []}, "territories"),
        ({"availability": [{"weekday": 5, "half": "am", "every_weeks": 2}]}, "availability"),
        ({"availability": [{"weekday": 5, "half": "am", "every_weeks": 2, "from_date": "2026-12-06"}]}, "availability"),
        ({"availability": [{"weekday": 0, "half": "am"}, {"weekday": 0, "half": "am"}]}, "availability"),
    ],
)
def test_a_conseiller_with_bad_data_is_refused_naming_the_field(overrides, field):
    with pytest.raises(RuleBroken) as refused:
        conseiller(**overrides)
    assert refused.value.field == field


def test_updating_a_conseiller_needs_the_current_version():
    person = conseiller()
    person.update(1, weekly_hours=28)
    assert isinstance(person.events[-1], ConseillerUpdated)
    assert person.version == 2
    with pytest.raises(Conflict):
        person.update(1, weekly_hours=30)


def test_absences_at_half_day_precision_may_not_overlap():
    person = conseiller()
    monday = dt.date(2026, 11, 30)
    person.declare_absence(uuid.uuid4(), (monday, "am"), (monday, "am"), "formation")
    person.declare_absence(uuid.uuid4(), (monday, "pm"), (monday + dt.timedelta(days=1), "am"), "conge")
    with pytest.raises(Conflict, match="overlaps"):
        person.declare_absence(
            uuid.uuid4(), (monday + dt.timedelta(days=1), "am"), (monday + dt.timedelta(days=2), "pm"), "conge"
        )
    with pytest.raises(Conflict, match="overlaps"):
        person.declare_absence(uuid.uuid4(), (monday - dt.timedelta(days=3), "am"), (monday, "am"), "conge")
    assert [type(e) for e in person.events[1:]] == [AbsenceDeclared, AbsenceDeclared]


def test_an_absence_must_end_after_it_starts():
    monday = dt.date(2026, 11, 30)
    with pytest.raises(RuleBroken) as refused:
        conseiller().declare_absence(uuid.uuid4(), (monday, "pm"), (monday, "am"), "conge")
    assert refused.value.field == "end_date"


def test_a_withdrawn_absence_frees_its_half_days():
    person = conseiller()
    monday = dt.date(2026, 11, 30)
    absence = person.declare_absence(uuid.uuid4(), (monday, "am"), (monday, "pm"), "conge")
    person.withdraw_absence(absence.id)
    assert isinstance(person.events[-1], AbsenceWithdrawn)
    person.declare_absence(uuid.uuid4(), (monday, "am"), (monday, "pm"), "conge")
    with pytest.raises(NotFound):
        person.withdraw_absence(absence.id)
