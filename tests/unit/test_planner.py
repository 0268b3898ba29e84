"""The planner on small hand-made instances: each rule and each objective term, one at a time."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from typing import Any

import pytest

from services.scheduling.planner import checker, cpsat, scenario
from services.scheduling.planner.result import PlanResult

MONDAY = "2026-11-30"
MORNINGS_AND_AFTERNOONS = {
    "mo": [["08:30", "12:30"], ["13:30", "17:30"]],
    "tu": [["08:30", "12:30"], ["13:30", "17:30"]],
}


def lieu(id: str, lat: float, lon: float, **overrides: Any) -> dict[str, Any]:
    return {
        "id": id,
        "insee": "61293",
        "lat": lat,
        "lon": lon,
        "capacity": 10,
        "opening": MORNINGS_AND_AFTERNOONS,
        **overrides,
    }


def base(**overrides: Any) -> dict[str, Any]:
    """Home at Mortagne; a village 20 km east with demand no home permanence reaches."""
    raw: dict[str, Any] = {
        "timezone": "Europe/Paris",
        "start": MONDAY,
        "days": 2,
        "holidays": [],
        "communes": [
            {"insee": "61293", "lat": 48.52, "lon": 0.547, "population": 3818, "demand_hours": 7},
            {"insee": "61029", "lat": 48.52, "lon": 0.82, "population": 861, "demand_hours": 7},
        ],
        "lieux": [lieu("home", 48.52, 0.547), lieu("village", 48.52, 0.82)],
        "conseillers": [
            {
                "id": "c1", "home_lieu": "home", "weekly_hours_min": 0, "weekly_hours_max": 35,
                "availability": {"mo": ["am", "pm"], "tu": ["am", "pm"]},
            }
        ],
    }  # fmt: skip
    raw.update(overrides)
    return raw


def solve(raw: dict[str, Any], **kwargs: Any) -> PlanResult:
    return cpsat.solve(scenario.parse(raw), time_limit_s=10, **kwargs)


def where(result: PlanResult) -> dict[tuple[str, str], str]:
    return {(p.date.isoformat(), p.half): p.lieu for p in result.permanences}


def test_the_conseiller_goes_out_when_demand_is_worth_the_trip():
    # 21 h a week: 6 h over the two days, worth more (360) than a round trip's ~63 min + the longest day's.
    village = {"insee": "61029", "lat": 48.52, "lon": 0.82, "population": 861, "demand_hours": 21}
    result = solve(base(communes=[base()["communes"][0], village]))
    assert result.status == "OPTIMAL"
    assert result.gap == 0
    assert "village" in where(result).values()
    assert "home" in where(result).values()
    assert result.figures.uncovered_demand_hours == pytest.approx(0)


def test_a_trip_not_worth_its_demand_is_not_made():
    result = solve(base())  # 2 h of demand (120) do not pay for a trip of ~63 min and the longest day's 63
    assert set(where(result).values()) == {"home"}
    assert result.figures.uncovered_demand_hours > 0


def test_morning_and_afternoon_at_the_same_far_lieu_cost_one_round_trip():
    raw = base(communes=[{"insee": "61029", "lat": 48.52, "lon": 0.82, "population": 861, "demand_hours": 21}])
    result = solve(raw)
    out = {p.date for p in result.permanences if p.lieu == "village"}
    assert len(out) == 1  # 6 h of demand: one day out, the whole day there
    day = [p for p in result.permanences if p.date in out]
    assert {(p.half, p.lieu) for p in day} == {("am", "village"), ("pm", "village")}
    one_round_trip = 2 * 20.1 * 1.3  # 20.1 km as the crow flies, × detour, there and back
    assert result.figures.travel_km_by_conseiller["c1"] == pytest.approx(one_round_trip, rel=0.02)


def test_absences_holidays_and_closed_dates_leave_their_half_days_empty():
    raw = base(
        holidays=["2026-12-01"],
        conseillers=[
            {**base()["conseillers"][0], "absences": [{"start": "2026-11-30T08:00", "end": "2026-11-30T12:45"}]}
        ],
    )
    assert set(where(solve(raw))) == {("2026-11-30", "pm")}
    raw = base(lieux=[lieu("home", 48.52, 0.547, closed_dates=["2026-11-30"]), lieu("village", 48.52, 0.82)])
    assert ("2026-11-30", "am") not in {k for k, v in where(solve(raw)).items() if v == "home"}


def test_opening_hours_shorter_than_two_hours_hold_no_permanence():
    raw = base(lieux=[lieu("home", 48.52, 0.547, opening={"mo": [["09:00", "10:30"]]})])
    assert solve(raw).permanences == ()


def test_weekly_hours_stay_between_the_contract_bounds():
    raw = base(conseillers=[{**base()["conseillers"][0], "weekly_hours_min": 12, "weekly_hours_max": 8}])
    with pytest.raises(scenario.ScenarioError, match="above"):
        scenario.parse(raw)
    raw = base(conseillers=[{**base()["conseillers"][0], "weekly_hours_max": 8}])
    assert sum(p.hours for p in solve(raw).permanences) <= 8
    raw = base(
        weights={"uncovered_per_hour": 0},
        conseillers=[{**base()["conseillers"][0], "weekly_hours_min": 16}],
    )
    result = solve(raw)  # nothing to gain from working: only the contract's minimum makes them work
    assert sum(p.hours for p in result.permanences) >= 16


def test_every_other_saturday_is_planned_only_on_its_weeks():
    raw = base(
        days=14,
        lieux=[lieu("home", 48.52, 0.547, opening={"sa": [["08:30", "12:30"]]})],
        conseillers=[
            {
                "id": "c1", "home_lieu": "home", "weekly_hours_min": 0, "weekly_hours_max": 35,
                "availability": {"sa": ["am"]}, "every_other_week": {"sa": "2026-12-05"},
            }
        ],
    )  # fmt: skip
    assert [p.date.isoformat() for p in solve(raw).permanences] == ["2026-12-05"]


def test_a_room_holds_one_conseiller_at_a_time_unless_it_has_more():
    # Both work Monday mornings only; home needs far more than one morning (16 h over the two days).
    town = {"insee": "61293", "lat": 48.52, "lon": 0.547, "population": 3818, "demand_hours": 56}
    first = {**base()["conseillers"][0], "availability": {"mo": ["am"]}}
    second = {**first, "id": "c2"}
    raw = base(communes=[town], conseillers=[first, second], weights={"uncovered_per_hour": 600})
    result = solve(raw)
    held = [(p.lieu, p.date, p.half) for p in result.permanences]
    assert len(held) == len(set(held))
    raw["lieux"] = [lieu("home", 48.52, 0.547, rooms=2), lieu("village", 48.52, 0.82)]
    held = [(p.lieu, p.date, p.half) for p in solve(raw).permanences]
    assert len(held) > len(set(held))


def test_a_pin_is_kept_and_an_impossible_pin_is_refused_with_a_reason():
    pin = {"conseiller": "c1", "lieu": "village", "date": "2026-12-01", "half": "am"}
    result = solve(base(weights={"uncovered_per_hour": 0}, pins=[pin]))
    assert where(result)[("2026-12-01", "am")] == "village"
    impossible = {**pin, "date": "2026-12-02"}  # not in the horizon's working days
    result = solve(base(days=3, pins=[impossible]))
    assert result.status == "INFEASIBLE"
    assert "pin c1 at village on 2026-12-02 am" in result.notes[0]


def test_a_replan_keeps_what_it_can_and_counts_the_moves():
    first = solve(base())
    previous = [
        {"conseiller": p.conseiller, "lieu": p.lieu, "date": p.date.isoformat(), "start": p.start.strftime("%H:%M"),
         "end": p.end.strftime("%H:%M")}
        for p in first.permanences
    ]  # fmt: skip
    unchanged = solve(base(previous_plan=previous))
    assert unchanged.moved == 0
    assert set(where(unchanged).items()) == set(where(first).items())
    away = {**base()["conseillers"][0], "absences": [{"start": "2026-11-30T13:00", "end": "2026-11-30T18:00"}]}
    replanned = solve(base(previous_plan=previous, conseillers=[away]))
    lost = 1 if ("2026-11-30", "pm") in where(first) else 0
    assert replanned.moved == lost


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "Europe/Atlantis"}, "unknown time zone"),
        ({"days": 0}, "days"),
        ({"lieux": [lieu("home", 48.52, 0.547, opening={"xx": [["09:00", "12:00"]]})]}, "unknown weekday"),
        ({"lieux": [lieu("home", 48.52, 0.547, opening={"mo": [["12:00", "09:00"]]})]}, "closes before it opens"),
        ({"communes": [{"insee": "6129", "lat": 0, "lon": 0, "population": 1, "demand_hours": 1}]}, "insee"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_bad_scenario_is_refused_with_where_and_why(change, message):
    with pytest.raises(scenario.ScenarioError, match=message):
        scenario.parse(base(**change))


def test_an_unknown_home_lieu_is_refused():
    raw = base(conseillers=[{**base()["conseillers"][0], "home_lieu": "nowhere"}])
    with pytest.raises(scenario.ScenarioError, match="home_lieu"):
        scenario.parse(raw)


def test_holidays_come_from_the_territory_calendar():
    raw = base(start="2026-12-24", days=3)
    del raw["holidays"]
    assert scenario.parse(raw).holidays == {dt.date(2026, 12, 25)}
    raw["holiday_calendar"] = "FR-57"  # Moselle keeps St Stephen's day
    assert scenario.parse(raw).holidays == {dt.date(2026, 12, 25), dt.date(2026, 12, 26)}


def test_tournees_plan_prints_the_plan_as_json(tmp_path):
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(base()), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "tournees.cli", "plan", str(path), "--time-limit", "5"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert {"status", "objective", "bound", "gap", "solve_seconds", "travel_km", "uncovered_demand_hours"} <= set(plan)
    assert plan["status"] == "OPTIMAL"
    assert {"conseiller", "lieu", "date", "start", "end", "kind"} == set(plan["permanences"][0])
    path.write_text("{}", encoding="utf-8")
    bad = subprocess.run(
        [sys.executable, "-m", "tournees.cli", "plan", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert "tournees plan: timezone: Field required" in bad.stderr


def test_a_replan_pin_is_kept_when_it_can_hold_and_dropped_with_a_note_when_not():
    from dataclasses import replace

    from services.scheduling.planner.instance import Pin

    instance = scenario.parse(base(weights={"uncovered_per_hour": 0}))
    kept = replace(instance, pins=(Pin("c1", "village", dt.date(2026, 12, 1), "am", unless_impossible=True),))
    result = cpsat.solve(kept, time_limit_s=10)
    assert where(result)[("2026-12-01", "am")] == "village"
    impossible = replace(instance, pins=(Pin("c1", "village", dt.date(2026, 12, 6), "am", unless_impossible=True),))
    result = cpsat.solve(impossible, time_limit_s=10)
    assert result.status == "OPTIMAL"
    assert result.notes == ("pin c1 at village on 2026-12-06 am dropped: it can no longer hold",)


def test_a_scenario_needs_at_least_one_town_hall_with_hours():
    from tournees.scenarios import build

    with pytest.raises(LookupError, match="no town hall there publishes opening hours"):
        build(departement="75")
    assert build(epci="200036069", conseillers=1)["lieux"]


def test_a_solve_reports_its_progress_as_it_finds_better_plans():
    seen: list[cpsat.Progress] = []
    result = cpsat.solve(scenario.parse(base()), time_limit_s=5, on_progress=seen.append)
    assert result.status == "OPTIMAL"
    solutions = [p for p in seen if p.solutions]
    assert solutions, "no progress reported"
    assert [p.solutions for p in solutions] == sorted(p.solutions for p in solutions)
    assert solutions[-1].objective == pytest.approx(result.objective)
    assert all(p.bound is None or p.objective is None or p.bound <= p.objective + 1e-6 for p in seen)


def test_two_conseillers_for_one_room_fall_short_of_their_minimum_instead_of_no_plan():
    # One single-room lieu, open 16 h over the two days; each conseiller's minimum is 12 h.
    first = {**base()["conseillers"][0], "weekly_hours_min": 12}
    second = {**first, "id": "c2"}
    result = solve(base(lieux=[lieu("home", 48.52, 0.547)], conseillers=[first, second]))
    assert result.status == "OPTIMAL"
    assert sum(p.hours for p in result.permanences) == 16
    short = result.figures.short_hours_by_conseiller
    assert sum(short.values()) == pytest.approx(8)  # 24 h due, 16 h to share
    assert result.to_json()["short_hours_by_conseiller"] == short
    assert {note.split()[0] for note in result.notes} == set(short)
    assert all("short of their weekly minimum" in note for note in result.notes)


def test_with_equal_demand_two_identical_conseillers_get_equal_hours():
    # 16 h of demand at home over the two days (4 half-day blocks), two rooms: no travel either way,
    # so only the fairness of hours tells 2 + 2 from 3 + 1 or 4 + 0.
    town = {"insee": "61293", "lat": 48.52, "lon": 0.547, "population": 3818, "demand_hours": 56}
    second = {**base()["conseillers"][0], "id": "c2"}
    raw = base(
        communes=[town], lieux=[lieu("home", 48.52, 0.547, rooms=2)], conseillers=[*base()["conseillers"], second]
    )
    result = solve(raw)
    assert result.figures.uncovered_demand_hours == pytest.approx(0)
    assert result.figures.hours_by_conseiller == {"c1": 8, "c2": 8}
    assert result.to_json()["hours_share_spread"] == 0


def with_ateliers(hours: float, **lieu_overrides: Any) -> dict[str, Any]:
    """Home asks for ateliers and for no individual help; one conseiller working at most 8 h, no other lieu."""
    town = {"insee": "61293", "lat": 48.52, "lon": 0.547, "population": 3818, "demand_hours": 0, "atelier_hours": hours}
    eight_hours = {**base()["conseillers"][0], "weekly_hours_max": 8}
    return base(communes=[town], lieux=[lieu("home", 48.52, 0.547, **lieu_overrides)], conseillers=[eight_hours])


def test_atelier_demand_is_served_by_ateliers_at_a_lieu_with_seats():
    result = solve(with_ateliers(28))  # 8 h over the two days: two half-days
    kinds = sorted(p.kind for p in result.permanences)
    assert kinds.count("atelier") == 2
    assert result.figures.atelier_demand_hours == 8
    assert result.figures.uncovered_atelier_hours == pytest.approx(0)
    assert result.to_json()["covered_atelier_hours_by_commune"] == {"61293": 8}
    assert result.figures.covered_hours_by_commune == {"61293": 0}  # ateliers are not individual help


def test_no_atelier_at_a_lieu_with_too_few_seats():
    result = solve(with_ateliers(28, capacity=5))
    assert all(p.kind == "permanence" for p in result.permanences)
    assert result.to_json()["uncovered_atelier_hours"] == 8


def test_individual_demand_is_served_by_permanences_only():
    town = {"insee": "61293", "lat": 48.52, "lon": 0.547, "population": 3818, "demand_hours": 14, "atelier_hours": 14}
    eight_hours = {**base()["conseillers"][0], "weekly_hours_max": 8}
    result = solve(base(communes=[town], lieux=[lieu("home", 48.52, 0.547)], conseillers=[eight_hours]))
    held = {kind: sum(p.hours for p in result.permanences if p.kind == kind) for kind in ("permanence", "atelier")}
    assert held == {"permanence": 4, "atelier": 4}  # 4 h of each over the two days
    assert result.figures.uncovered_demand_hours == pytest.approx(0)
    assert result.figures.uncovered_atelier_hours == pytest.approx(0)


def test_a_lieu_that_may_host_ateliers_costs_its_travel_to_a_permanence_too():
    # 1.7 h of help and 0.1 h of ateliers over the two days (~110) do not pay for the trip (~124).
    village = {"insee": "61029", "lat": 48.52, "lon": 0.82, "population": 861, "demand_hours": 6, "atelier_hours": 0.5}
    result = solve(base(communes=[base()["communes"][0], village]))
    assert set(where(result).values()) == {"home"}


def test_without_a_plan_of_its_own_in_time_the_solver_answers_the_greedys_plan_against_its_bound():
    instance = scenario.parse(base())
    result = cpsat.solve(instance, time_limit_s=1e-9)
    assert result.status == "FEASIBLE"
    assert result.method.startswith("greedy")
    assert any("CP-SAT found no plan" in note for note in result.notes)
    assert result.permanences, "the greedy's plan"
    assert result.objective is not None
    assert result.bound is not None
    assert result.bound <= result.objective
    assert checker.violations(instance, result.permanences) == []


def test_the_figures_give_each_communes_demand_over_the_days_adding_up_to_the_demand():
    communes = [
        {"insee": "61293", "lat": 48.52, "lon": 0.547, "population": 3818, "demand_hours": 7.3},
        {"insee": "61029", "lat": 48.52, "lon": 0.82, "population": 861, "demand_hours": 1.9},
        {"insee": "61097", "lat": 48.55, "lon": 0.65, "population": 500, "demand_hours": 0},
    ]
    result = solve(base(communes=communes, days=2))
    figures = result.to_json()
    by_commune = figures["demand_hours_by_commune"]
    assert by_commune == {"61029": 0.5, "61097": 0.0, "61293": 2.1}  # weekly hours × 2 days / 7, to the tenth
    assert set(by_commune) == set(figures["covered_hours_by_commune"])
    assert sum(by_commune.values()) == pytest.approx(figures["demand_hours"], abs=0.05)
    assert sum(by_commune.values()) - sum(figures["covered_hours_by_commune"].values()) == pytest.approx(
        figures["uncovered_demand_hours"], abs=0.05
    )
    assert all(figures["covered_hours_by_commune"][k] <= v for k, v in by_commune.items())
