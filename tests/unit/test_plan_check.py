"""A plan checked as it stands: the checker's findings told to the coordinator in French, naming who and
where, with days and hours as the territory reads them; and a stored plan's permanence that holds a lieu's
standing request found again."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import get_args

import pytest

from services.scheduling.domain.plan_check import Names, PlanWarning, unchecked, warning_of, warnings_of
from services.scheduling.planner.checker import findings
from services.scheduling.planner.findings import Code, Finding
from services.scheduling.planner.instance import Permanence, Recurrence
from services.scheduling.planner.recurrences import as_held
from tests.unit.test_planner_hand_made import MONDAY, TUESDAY, VALID, _base, _p

SATURDAY = dt.date(2026, 12, 5)
CAMILLE, SAMI = str(uuid.uuid4()), str(uuid.uuid4())
EPN, MAIRIE = str(uuid.uuid4()), str(uuid.uuid4())
NAMES = Names(
    {CAMILLE: "Camille Lefèvre", SAMI: "Sami Haddad"}, {EPN: "EPN de Mortagne", MAIRIE: "Mairie de Réveillon"}
)
TUESDAY_PM = Permanence(CAMILLE, EPN, dt.date(2026, 12, 1), "pm", dt.time(14), dt.time(17))
IDS = {TUESDAY_PM: uuid.uuid4()}


def about(code: Code, p: Permanence = TUESDAY_PM, **more: object) -> Finding:
    return Finding(code, "…", (p,), p.conseiller, p.lieu, p.date, p.half, **more)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("finding", "message"),
    [
        (about("absence"), "Absence de Camille Lefèvre le mardi 1er décembre (après-midi) : "
                           "permanence au lieu « EPN de Mortagne », 14h–17h."),
        (about("unavailable"), "Camille Lefèvre ne travaille pas le mardi 1er décembre (après-midi) : "
                               "permanence au lieu « EPN de Mortagne », 14h–17h."),
        (about("holiday"), "Le mardi 1er décembre est un jour férié : "
                           "la permanence de Camille Lefèvre au lieu « EPN de Mortagne », 14h–17h."),
        (about("lieu_closed"), "Le lieu « EPN de Mortagne » est fermé le mardi 1er décembre : "
                               "la permanence de Camille Lefèvre, 14h–17h."),
        (
            about("opening_hours", intervals=((dt.time(9), dt.time(12)), (dt.time(14), dt.time(16, 30)))),
            "Le lieu « EPN de Mortagne » n'est pas ouvert toute la durée de la permanence de Camille Lefèvre le "
            "mardi 1er décembre, 14h–17h (ouvert 9h–12h, 14h–16h30 ce jour-là).",
        ),
        (
            about("time_window", intervals=((dt.time(13, 30), dt.time(17, 30)),)),
            "La permanence de Camille Lefèvre au lieu « EPN de Mortagne » le mardi 1er décembre, 14h–17h, "
            "sort du créneau de l'après-midi (13h30–17h30).",
        ),
        (about("too_short"), "La permanence de Camille Lefèvre au lieu « EPN de Mortagne » le mardi 1er décembre, "
                             "14h–17h, dure moins de deux heures."),
        (
            Finding("daily_travel", "…", (TUESDAY_PM,), CAMILLE, None, TUESDAY_PM.date, amount=190, limit=180),
            "Camille Lefèvre se déplace 190 min le mardi 1er décembre, plus que sa limite de 180 min par jour.",
        ),
        (
            Finding("weekly_hours", "…", (TUESDAY_PM,), CAMILLE, None, dt.date(2026, 11, 30), amount=32.5,
                    limit=29.75),
            "Camille Lefèvre tient 32,5 h de permanences la semaine du lundi 30 novembre, plus que les 29,8 h "
            "que permet son contrat.",
        ),
        (
            Finding("room_taken", "…", (TUESDAY_PM, dataclasses.replace(TUESDAY_PM, conseiller=SAMI)), None, EPN,
                    TUESDAY_PM.date, "pm", amount=2, limit=1),
            "Le lieu « EPN de Mortagne » reçoit 2 conseillers à la fois le mardi 1er décembre (après-midi) : "
            "Camille Lefèvre, Sami Haddad, pour 1 salle.",
        ),
        (
            Finding("half_day_taken", "…", (TUESDAY_PM, dataclasses.replace(TUESDAY_PM, lieu=MAIRIE)), CAMILLE,
                    None, TUESDAY_PM.date, "pm", amount=2, limit=1),
            "Camille Lefèvre a 2 permanences le mardi 1er décembre (après-midi), aux lieux « EPN de Mortagne », "
            "« Mairie de Réveillon » : une seule par demi-journée.",
        ),
        (
            about("atelier_seats", dataclasses.replace(TUESDAY_PM, kind="atelier"), amount=4, limit=6),
            "Le lieu « EPN de Mortagne » n'a que 4 places, il en faut 6 pour l'atelier de Camille Lefèvre le "
            "mardi 1er décembre, 14h–17h.",
        ),
        (
            about("atelier_demand", dataclasses.replace(TUESDAY_PM, kind="atelier"), limit=15),
            "Aucune commune à moins de 15 km du lieu « EPN de Mortagne » ne demande d'ateliers : l'atelier de "
            "Camille Lefèvre le mardi 1er décembre, 14h–17h.",
        ),
        (
            Finding("recurrence", "…", (), None, EPN, dt.date(2026, 12, 4), "pm", amount=0, limit=1,
                    intervals=((dt.time(16), dt.time(17)),)),
            "La demande régulière du lieu « EPN de Mortagne » (16h–17h) n'est pas tenue le vendredi 4 décembre.",
        ),
        (
            Finding("recurrence", "…", (), None, EPN, dt.date(2026, 12, 4), "pm", amount=2, limit=1,
                    intervals=((dt.time(16), dt.time(17)),)),
            "La demande régulière du lieu « EPN de Mortagne » (16h–17h) est tenue 2 fois le vendredi 4 décembre "
            "au lieu d'une.",
        ),
        (
            Finding("pin_broken", "…", (), CAMILLE, EPN, SATURDAY, "am"),
            "La permanence épinglée de Camille Lefèvre au lieu « EPN de Mortagne » le samedi 5 décembre (matin) "
            "n'est plus dans le plan.",
        ),
        (about("other"), "Règle non respectée : …"),
    ],
)  # fmt: skip
def test_each_finding_is_told_in_french_naming_who_and_where(finding: Finding, message: str) -> None:
    assert warning_of(finding, IDS, NAMES).message == message


def test_every_code_has_its_message() -> None:
    for code in get_args(Code):
        assert warning_of(about(code), IDS, NAMES).message


def test_a_warning_names_the_permanence_when_it_is_about_one_and_all_of_them_otherwise() -> None:
    other = dataclasses.replace(TUESDAY_PM, conseiller=SAMI)
    ids = {**IDS, other: uuid.uuid4()}
    assert warning_of(about("absence"), ids, NAMES) == PlanWarning(
        "absence",
        ids[TUESDAY_PM],
        (ids[TUESDAY_PM],),
        uuid.UUID(CAMILLE),
        warning_of(about("absence"), ids, NAMES).message,
    )
    crowded = Finding("room_taken", "…", (TUESDAY_PM, other), None, EPN, TUESDAY_PM.date, "pm", amount=2, limit=1)
    warning = warning_of(crowded, ids, NAMES)
    assert (warning.permanence_id, warning.permanence_ids, warning.conseiller_id) == (
        None, (ids[TUESDAY_PM], ids[other]), None
    )  # fmt: skip


def test_the_checkers_findings_become_warnings_about_the_plans_permanences() -> None:
    absent = _p("c1", "A", dt.date(2025, 3, 6), "pm", "13:30", "17:30")
    ids = {p: uuid.uuid4() for p in (*VALID, absent)}
    names = Names({"c1": "Camille Lefèvre", "c2": "Sami Haddad"}, {"A": "EPN", "B": "Mairie", "C": "Médiathèque"})

    [warning] = warnings_of(findings(_base(), list(ids)), ids, names)

    assert (warning.code, warning.permanence_id) == ("absence", ids[absent])
    assert (
        warning.message
        == "Absence de Camille Lefèvre le jeudi 6 mars (après-midi) : permanence au lieu « EPN », 13h30–17h30."
    )


def test_a_plan_of_a_territory_the_copy_lacks_is_told_unchecked() -> None:
    [warning] = unchecked("custom:atlantis").warnings
    assert (warning.code, warning.permanence_id) == ("other", None)
    assert "custom:atlantis" in warning.message


def test_a_stored_permanence_holds_the_standing_request_it_matches_exactly() -> None:
    friday_atelier = Recurrence("r1", "A", 4, dt.time(16), dt.time(17), kind="atelier")
    instance = dataclasses.replace(_base(), recurrences=(friday_atelier,))
    friday = MONDAY + dt.timedelta(days=4)
    held = Permanence("c1", "A", friday, "pm", dt.time(16), dt.time(17), "atelier")
    assert as_held(instance, held).recurrence == "r1"
    for other in (
        dataclasses.replace(held, kind="permanence"),
        dataclasses.replace(held, end=dt.time(17, 30)),
        dataclasses.replace(held, lieu="B"),
        dataclasses.replace(held, date=TUESDAY),
    ):
        assert as_held(instance, other) == other
