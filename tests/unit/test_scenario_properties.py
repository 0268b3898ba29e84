"""Scenario files as users write them: every valid one reads back as the instance it describes, in any
of the spellings the format allows; anything else is a ``ScenarioError`` naming the field at fault."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.scheduling.planner import scenario
from services.scheduling.planner.blocks import half_of
from services.scheduling.planner.instance import Instance, Interval, Permanence
from tests.unit.test_planner import base
from tests.unit.test_planner_properties import rich_instances

ZONES = ("Europe/Paris", "America/Guadeloupe", "America/Cayenne", "Indian/Reunion", "Indian/Mayotte")
FIELDS = (*scenario.ScenarioIn.model_fields, "scenario")
WHERE = re.compile(r"^(?P<field>\w+)[.:]")
# Drawing a rich instance takes ~50 ms: these counts keep each test to a few seconds.
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- writing an instance as a scenario file, in any allowed spelling ------------------------------


def _weekday(draw: st.DrawFn, day: int) -> str:
    name = draw(st.sampled_from(scenario.WEEKDAY_NAMES[day]))
    return draw(st.sampled_from([name, name.upper(), name.capitalize(), f" {name} "]))


def _clock(draw: st.DrawFn, moment: dt.time) -> str:
    if moment == dt.time.max:
        return "24:00"
    return draw(st.sampled_from([f"{moment:%H:%M}", f"{moment:%H:%M:%S}"]))


def _spans(draw: st.DrawFn, spans: tuple[Interval, ...]) -> list[list[str]]:
    return [[_clock(draw, opens), _clock(draw, closes)] for opens, closes in spans]


def _moment(draw: st.DrawFn, local: dt.datetime, zone: str) -> str:
    """Local wall-clock time, or the same moment with its offset (when the wall clock says it unambiguously)."""
    aware = local.replace(tzinfo=ZoneInfo(zone))
    if draw(st.booleans()) and aware.astimezone(dt.UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None) == local:
        return draw(st.sampled_from([aware, aware.astimezone(dt.UTC)])).isoformat()
    return local.isoformat()


@st.composite
def written(draw: st.DrawFn) -> tuple[dict[str, Any], Instance]:
    """A scenario file's JSON and the instance it describes."""
    instance: Instance = draw(rich_instances())
    zone = draw(st.sampled_from(ZONES))
    previous = tuple(
        Permanence(p.conseiller, p.lieu, p.date, half_of(p.start), p.start, p.end, p.kind)
        for p in draw(st.lists(_previous_permanence(instance), max_size=2))
    )
    instance = dataclasses.replace(instance, time_zone=zone, previous_plan=previous)
    raw: dict[str, Any] = {
        "timezone": zone,
        "start": instance.start.isoformat(),
        "days": instance.days,
        "reach_km": instance.reach_km,
        "communes": [_commune(c) for c in instance.communes],
        "lieux": [_lieu(draw, lieu) for lieu in instance.lieux],
        "conseillers": [_conseiller(draw, c, zone) for c in instance.conseillers],
        "recurrences": [_recurrence(draw, r) for r in instance.recurrences],
        "pins": [
            {"conseiller": p.conseiller, "lieu": p.lieu, "date": str(p.date), "half": p.half} for p in instance.pins
        ],
        "previous_plan": [_previous(draw, p) for p in instance.previous_plan],
        "weights": dataclasses.asdict(instance.weights),
    }
    if draw(st.booleans()):
        raw["holidays"] = [day.isoformat() for day in sorted(instance.holidays)]
    else:  # from the calendar of the territory
        calendar = draw(st.sampled_from(["FR", "FR-57", "FR-974", "FR-971"]))
        raw["holiday_calendar"] = calendar
        instance = dataclasses.replace(instance, holidays=frozenset(scenario.holidays_in(calendar, instance.dates)))
    return raw, instance


@st.composite
def _previous_permanence(draw: st.DrawFn, instance: Instance) -> Permanence:
    conseiller = draw(st.sampled_from(instance.conseillers)).id
    lieu = draw(st.sampled_from(instance.lieux)).id
    date = draw(st.sampled_from(instance.dates))
    start = draw(st.sampled_from([dt.time(8, 30), dt.time(9), dt.time(13, 30), dt.time(14)]))
    end = dt.time(start.hour + 3, start.minute)
    return Permanence(
        conseiller, lieu, date, half_of(start), start, end, draw(st.sampled_from(["permanence", "atelier"]))
    )


def _commune(c: Any) -> dict[str, Any]:
    return {
        "insee": c.insee, "lat": c.latitude, "lon": c.longitude, "population": c.population,
        "demand_hours": c.demand_hours, "atelier_hours": c.atelier_hours,
    }  # fmt: skip


def _previous(draw: st.DrawFn, p: Permanence) -> dict[str, Any]:
    return {
        "conseiller": p.conseiller, "lieu": p.lieu, "date": str(p.date), "start": _clock(draw, p.start),
        "end": _clock(draw, p.end), "kind": p.kind,
    }  # fmt: skip


def _lieu(draw: st.DrawFn, lieu: Any) -> dict[str, Any]:
    return {
        "id": lieu.id, "insee": lieu.insee, "lat": lieu.latitude, "lon": lieu.longitude, "capacity": lieu.capacity,
        "opening": {_weekday(draw, day): _spans(draw, spans) for day, spans in lieu.opening.items()},
        "rooms": lieu.rooms, "closed_dates": [str(d) for d in sorted(lieu.closed_dates)],
        "has_computers": lieu.has_computers,
        "dated_opening": {str(d): _spans(draw, spans) for d, spans in lieu.dated_opening.items()},
    }  # fmt: skip


def _conseiller(draw: st.DrawFn, c: Any, zone: str) -> dict[str, Any]:
    return {
        "id": c.id, "home_lieu": c.home_lieu, "weekly_hours_min": c.weekly_hours_min,
        "weekly_hours_max": c.weekly_hours_max,
        "availability": {_weekday(draw, day): sorted(halves) for day, halves in c.availability.items()},
        "absences": [{"start": _moment(draw, a.start, zone), "end": _moment(draw, a.end, zone)} for a in c.absences],
        "travel_mode": c.travel_mode, "max_travel_minutes_per_day": c.max_travel_minutes_per_day,
        "every_other_week": {_weekday(draw, day): str(first) for day, first in c.every_other_week.items()},
        "skills": sorted(c.skills),
    }  # fmt: skip


def _recurrence(draw: st.DrawFn, r: Any) -> dict[str, Any]:
    return {
        "id": r.id, "lieu": r.lieu, "weekday": draw(st.sampled_from([r.weekday, _weekday(draw, r.weekday)])),
        "start": _clock(draw, r.start), "end": _clock(draw, r.end), "every_weeks": r.every_weeks,
        "first_date": r.first_date and str(r.first_date), "kind": r.kind, "skill": r.skill, "seats": r.seats,
        "needs_computers": r.needs_computers,
    }  # fmt: skip


# --- valid files ----------------------------------------------------------------------------------


@FAST
@given(written())
def test_a_valid_scenario_reads_as_the_instance_it_describes(drawn):
    raw, instance = drawn
    assert scenario.parse(json.loads(json.dumps(raw))) == instance


@settings(FAST, max_examples=15)
@given(written())
def test_a_scenario_file_reads_the_same_from_disk(tmp_path_factory, drawn):
    raw, instance = drawn
    path = tmp_path_factory.mktemp("scenario") / "scenario.json"
    path.write_text(json.dumps(raw, ensure_ascii=False, indent=2), encoding="utf-8")
    assert scenario.load(path) == instance
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # a byte order mark, as Notepad writes
    assert scenario.load(path) == instance


# --- anything else --------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
# Values chosen to reach the edges of the readers: dates and times at the ends of their range, with
# offsets, weekdays that are not, time zones that are directories or too long for a file name.
EDGES = st.sampled_from(
    [
        "0001-01-01", "9999-12-31", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "24:00", "24:01",
        "10:00+02:00", "T10:00", "23:59:59.999999", "2026-02-30", "mo", "lundi", "someday", "am", "noon", "America",
        "Europe", "a" * 300, "../../etc/passwd", "FR-999", "", " ", "\x00", "\ud800", 1e308, -0.0, 2**63,
    ]
)  # fmt: skip


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*at, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*at, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A valid scenario with one to three fields replaced, removed or added."""
    raw: dict[str, Any] = draw(written())[0]
    for _ in range(draw(st.integers(1, 3))):
        *parent_path, key = draw(st.sampled_from(_paths(raw)[1:]))
        parent: Any = raw
        for step in parent_path:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        if action == "remove":
            del parent[key]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(JSON | EDGES)
        else:
            parent[key] = draw(JSON | EDGES)
        if not raw or not isinstance(raw, dict):
            break
    return raw


def _refusal(read: Any, given: Any) -> str | None:
    """What ``read`` refuses ``given`` with; None when it reads it (any other exception escapes)."""
    try:
        read(given)
    except scenario.ScenarioError as refused:
        return str(refused)
    return None


def _names_a_field(refusal: str | None) -> bool:
    where = WHERE.match(refusal or "scenario:")
    return where is not None and where["field"] in FIELDS


@settings(FAST, max_examples=100)
@given(mutated())
def test_a_mutated_scenario_is_read_or_refused_naming_the_field(raw):
    refusal = _refusal(scenario.parse, raw)
    assert _names_a_field(refusal), refusal


@settings(max_examples=300, deadline=None)
@given(JSON | EDGES | st.dictionaries(st.sampled_from(FIELDS), JSON | EDGES))
def test_any_json_is_read_or_refused_naming_the_field(raw):
    refusal = _refusal(scenario.parse, raw)
    assert _names_a_field(refusal), refusal


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=64) | st.sampled_from([b"\xff\xfe{}", b"[" * 100_000, b"\xef\xbb\xbf[]"]))
def test_any_file_is_read_or_refused_with_its_path(tmp_path, content):
    path = tmp_path / "scenario.json"
    path.write_bytes(content)
    refusal = _refusal(scenario.load, path)
    assert refusal is None or refusal.startswith(f"{path}: ") or _names_a_field(refusal), refusal


# --- what the properties found ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "America"}, r"^timezone: unknown time zone 'America'$"),  # a directory of the tz database
        ({"timezone": "a" * 300}, r"^timezone: unknown time zone"),  # too long for a file name
        ({"start": "9999-12-31"}, r"^start: the planned weeks must end by 9999-12-31$"),
        (
            {"lieux": [base()["lieux"][0] | {"opening": {"mo": [["09:00+02:00", "12:00"]]}}]},
            r"^lieux\.0\.opening\.mo\.0\.0: .*local time",
        ),
        (
            {"recurrences": [{"id": "r", "lieu": "home", "weekday": 0, "start": "16:00Z", "end": "17:00"}]},
            r"^recurrences\.0\.start: ",
        ),
        (
            {
                "conseillers": [
                    base()["conseillers"][0]
                    | {"absences": [{"start": "0001-01-01T00:00:00+14:00", "end": "2026-12-01T00:00:00"}]}
                ]
            },
            r"^conseillers\.c1\.absences: .*outside years 1-9999",
        ),
        (
            {"pins": [{"conseiller": "c9", "lieu": "home", "date": "2026-11-30", "half": "am"}]},
            r"^pins\.0\.conseiller: no conseiller 'c9'$",
        ),
        ({"lieux": [base()["lieux"][0], base()["lieux"][0]]}, r"^lieux\.1\.id: 'home' again"),
    ],
)
def test_what_once_escaped_as_another_error_is_a_scenario_error(change, message):
    with pytest.raises(scenario.ScenarioError, match=message):
        scenario.parse(base(**change))


def test_a_root_that_is_no_object_is_refused_as_the_scenario():
    with pytest.raises(scenario.ScenarioError, match=r"^scenario: "):
        scenario.parse([])


@pytest.mark.parametrize("content", [b"\xff\xfe{}", b"[" * 100_000])
def test_a_file_that_is_not_utf8_json_is_refused_with_its_path(tmp_path: Path, content: bytes):
    path = tmp_path / "scenario.json"
    path.write_bytes(content)
    with pytest.raises(scenario.ScenarioError, match=re.escape(str(path))):
        scenario.load(path)
