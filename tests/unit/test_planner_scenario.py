"""The scenario file's newer fields: ateliers, computers, skills, recurrences, weights, dated hours."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from services.scheduling.planner import scenario
from services.scheduling.planner.instance import Recurrence, Weights
from tests.unit.test_planner import base, lieu

EVERY_OTHER_FRIDAY = {
    "id": "r1", "lieu": "home", "weekday": "vendredi", "start": "16:00", "end": "17:00", "every_weeks": 2,
    "first_date": "2026-12-04", "kind": "atelier", "skill": "seniors", "seats": 8, "needs_computers": True,
}  # fmt: skip


def test_the_newer_fields_are_read():
    raw = base(
        communes=[{**base()["communes"][0], "atelier_hours": 3.5}],
        lieux=[lieu("home", 48.52, 0.547, has_computers=True, dated_opening={"2026-12-24": [["09:00", "12:00"]],
                                                                              "2026-12-25": []})],
        conseillers=[{**base()["conseillers"][0], "skills": ["seniors", "administratif"]}],
        recurrences=[EVERY_OTHER_FRIDAY],
        weights={"short_hours_per_hour": 100, "hours_fairness_per_point": 3, "uncovered_atelier_per_hour": 30},
    )  # fmt: skip
    made = scenario.parse(raw)
    assert made.communes[0].atelier_hours == 3.5
    home = made.lieux[0]
    assert home.has_computers
    assert home.dated_opening == {dt.date(2026, 12, 24): ((dt.time(9), dt.time(12)),), dt.date(2026, 12, 25): ()}
    assert made.conseillers[0].skills == {"seniors", "administratif"}
    assert made.recurrences == (
        Recurrence("r1", "home", 4, dt.time(16), dt.time(17), 2, dt.date(2026, 12, 4), "atelier", "seniors", 8, True),
    )
    assert made.weights == Weights(short_hours_per_hour=100, hours_fairness_per_point=3, uncovered_atelier_per_hour=30)


def test_todays_files_stay_valid_with_the_defaults():
    made = scenario.parse(base())
    assert made.recurrences == ()
    assert made.weights == Weights()
    assert not made.lieux[0].has_computers
    assert made.lieux[0].dated_opening == {}
    assert made.conseillers[0].skills == frozenset()


def test_every_weight_can_be_set_in_a_scenario():
    fields = [f.name for f in dataclasses.fields(Weights)]
    assert list(scenario.WeightsIn.model_fields) == fields
    assert scenario.parse(base(weights=dict.fromkeys(fields, 7))).weights == Weights(*[7] * len(fields))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lieu": "nowhere"}, "recurrences.r1.lieu: no lieu 'nowhere'"),
        ({"end": "15:00"}, "recurrences.0: Value error, 16:00-15:00 ends before it starts"),
        ({"end": "16:00"}, "ends before it starts"),
        ({"first_date": None}, "every 2 weeks needs a first_date"),
        ({"weekday": "someday"}, "recurrences.0.weekday"),
        ({"start": "4pm"}, "recurrences.0.start"),
        ({"kind": "cours"}, "recurrences.0.kind"),
        ({"every_weeks": 0}, "recurrences.0.every_weeks"),
        ({"seats": -1}, "recurrences.0.seats"),
    ],
)
def test_a_bad_recurrence_is_refused_with_where_and_why(change: dict[str, Any], message: str):
    with pytest.raises(scenario.ScenarioError, match=message):
        scenario.parse(base(recurrences=[{**EVERY_OTHER_FRIDAY, **change}]))


def test_an_unknown_skill_is_fine():
    made = scenario.parse(base(recurrences=[{**EVERY_OTHER_FRIDAY, "skill": "nobody has it"}]))
    assert made.recurrences[0].skill == "nobody has it"


def test_two_recurrences_with_one_id_are_refused():
    with pytest.raises(scenario.ScenarioError, match="ids of recurrences must be unique"):
        scenario.parse(base(recurrences=[EVERY_OTHER_FRIDAY, EVERY_OTHER_FRIDAY]))


@pytest.mark.parametrize(
    ("dated", "message"),
    [
        ({"2026-12-24": [["12:00", "09:00"]]}, "closes before it opens"),
        ({"24/12/2026": []}, "dated_opening"),
        ({"2026-12-24": [["09:00"]]}, "dated_opening"),
    ],
)
def test_bad_dated_hours_are_refused(dated: dict[str, Any], message: str):
    with pytest.raises(scenario.ScenarioError, match=message):
        scenario.parse(base(lieux=[lieu("home", 48.52, 0.547, dated_opening=dated)]))


def test_the_documented_example_is_a_valid_scenario():
    doc = (Path(__file__).parents[2] / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    example = doc.split("```json\n")[1].split("```")[0]
    made = scenario.parse(json.loads(example))
    assert made.recurrences[0].kind == "atelier"
    assert made.lieux[0].dated_opening[dt.date(2026, 12, 31)] == ()
