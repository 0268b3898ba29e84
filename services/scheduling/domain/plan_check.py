"""A plan checked as it stands: each rule it breaks, told to the coordinator in French. Pure Python.

The rules and their codes are the planner's checker's (``planner.findings``): this turns each
finding into a warning that names the conseiller and the lieu, with the days and hours in the
territory's time (the planner's times are local already).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.scheduling.planner.findings import Code, Finding
from services.scheduling.planner.instance import Interval
from services.scheduling.planner.instance import Permanence as Planned

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
HALVES = {"am": "matin", "pm": "après-midi"}


@dataclass(frozen=True)
class PlanWarning:
    code: Code
    permanence_id: uuid.UUID | None
    """The permanence it is about, when it is about one."""
    permanence_ids: tuple[uuid.UUID, ...]
    """Every permanence it is about (several for a crowded room, a long day, a heavy week)."""
    conseiller_id: uuid.UUID | None
    message: str


@dataclass(frozen=True)
class PlanCheck:
    warnings: tuple[PlanWarning, ...]
    figures: dict[str, Any]


@dataclass(frozen=True)
class Names:
    """Names by the planner's ids (conseillers' and lieux' ids as text)."""

    conseillers: Mapping[str, str]
    lieux: Mapping[str, str]

    def conseiller(self, conseiller_id: str | None) -> str:
        return self.conseillers.get(conseiller_id or "", conseiller_id or "?")

    def lieu(self, lieu_id: str | None) -> str:
        return f"« {self.lieux.get(lieu_id or '', lieu_id or '?')} »"


def warnings_of(findings: Iterable[Finding], ids: Mapping[Planned, uuid.UUID], names: Names) -> list[PlanWarning]:
    """A warning for each finding; ``ids`` gives each planned permanence its plan's permanence id."""
    return [warning_of(f, ids, names) for f in findings]


def warning_of(f: Finding, ids: Mapping[Planned, uuid.UUID], names: Names) -> PlanWarning:
    concerned = tuple(ids[p] for p in f.permanences if p in ids)
    return PlanWarning(
        code=f.code,
        permanence_id=concerned[0] if len(concerned) == 1 else None,
        permanence_ids=concerned,
        conseiller_id=_uuid(f.conseiller),
        message=_MESSAGES[f.code](f, names),
    )


def unchecked(territory: str) -> PlanCheck:
    """The answer for a plan whose territory scheduling's copy does not have (a plan made by hand)."""
    message = f"Le territoire {territory} n'est pas dans la copie du registre : le plan ne peut pas être vérifié."
    return PlanCheck((PlanWarning("other", None, (), None, message),), {})


# --- the messages, one per code ----------------------------------------------------------------


def _absence(f: Finding, names: Names) -> str:
    return f"Absence de {names.conseiller(f.conseiller)} le {_when(f)} : {_held(f, names)}."


def _unavailable(f: Finding, names: Names) -> str:
    return f"{names.conseiller(f.conseiller)} ne travaille pas le {_when(f)} : {_held(f, names)}."


def _holiday(f: Finding, names: Names) -> str:
    return f"Le {_day(f.date)} est un jour férié : {_of(f, names, day=False)}."


def _lieu_closed(f: Finding, names: Names) -> str:
    return f"Le lieu {names.lieu(f.lieu)} est fermé le {_day(f.date)} : {_of(f, names, lieu=False, day=False)}."


def _opening_hours(f: Finding, names: Names) -> str:
    return (
        f"Le lieu {names.lieu(f.lieu)} n'est pas ouvert toute la durée de {_of(f, names, lieu=False)} "
        f"(ouvert {_spans(f.intervals)} ce jour-là)."
    )


def _time_window(f: Finding, names: Names) -> str:
    window = f"de l'{HALVES['pm']}" if f.half == "pm" else f"du {HALVES['am']}"
    return f"{_capital(_of(f, names))}, sort du créneau {window} ({_spans(f.intervals)})."


def _too_short(f: Finding, names: Names) -> str:
    return f"{_capital(_of(f, names))}, dure moins de deux heures."


def _half_day_taken(f: Finding, names: Names) -> str:
    where = ", ".join(names.lieu(p.lieu) for p in f.permanences)
    return (
        f"{names.conseiller(f.conseiller)} a {len(f.permanences)} permanences le {_when(f)}, aux lieux {where} : "
        "une seule par demi-journée."
    )


def _daily_travel(f: Finding, names: Names) -> str:
    return (
        f"{names.conseiller(f.conseiller)} se déplace {_number(f.amount)} min le {_day(f.date)}, "
        f"plus que sa limite de {_number(f.limit)} min par jour."
    )


def _weekly_hours(f: Finding, names: Names) -> str:
    return (
        f"{names.conseiller(f.conseiller)} tient {_number(f.amount)} h de permanences la semaine du "
        f"{_day(f.date)}, plus que les {_number(f.limit)} h que permet son contrat."
    )


def _room_taken(f: Finding, names: Names) -> str:
    who = ", ".join(sorted(names.conseiller(p.conseiller) for p in f.permanences))
    rooms = "salle" if f.limit == 1 else "salles"
    return (
        f"Le lieu {names.lieu(f.lieu)} reçoit {_number(f.amount)} conseillers à la fois le {_when(f)} : {who}, "
        f"pour {_number(f.limit)} {rooms}."
    )


def _atelier_seats(f: Finding, names: Names) -> str:
    return (
        f"Le lieu {names.lieu(f.lieu)} n'a que {_number(f.amount)} places, il en faut {_number(f.limit)} "
        f"pour {_of(f, names, lieu=False)}."
    )


def _atelier_demand(f: Finding, names: Names) -> str:
    return (
        f"Aucune commune à moins de {_number(f.limit)} km du lieu {names.lieu(f.lieu)} ne demande d'ateliers : "
        f"{_of(f, names, lieu=False)}."
    )


def _recurrence(f: Finding, names: Names) -> str:
    asked = f"La demande régulière du lieu {names.lieu(f.lieu)} ({_spans(f.intervals)})"
    if f.amount is None:  # a permanence that holds it, not as it asks
        return f"{_capital(_of(f, names))}, ne respecte pas toutes les conditions de la demande régulière du lieu."
    if f.amount < (f.limit or 0):
        return f"{asked} n'est pas tenue le {_day(f.date)}."
    if not f.limit:
        return f"{asked} est tenue le {_day(f.date)} alors que personne ne peut la tenir ce jour-là."
    return f"{asked} est tenue {_number(f.amount)} fois le {_day(f.date)} au lieu d'une."


def _pin_broken(f: Finding, names: Names) -> str:
    return (
        f"La permanence épinglée de {names.conseiller(f.conseiller)} au lieu {names.lieu(f.lieu)} "
        f"le {_when(f)} n'est plus dans le plan."
    )


def _other(f: Finding, names: Names) -> str:
    return f"Règle non respectée : {f.sentence}"


_MESSAGES: dict[Code, Callable[[Finding, Names], str]] = {
    "absence": _absence,
    "unavailable": _unavailable,
    "holiday": _holiday,
    "lieu_closed": _lieu_closed,
    "opening_hours": _opening_hours,
    "time_window": _time_window,
    "too_short": _too_short,
    "half_day_taken": _half_day_taken,
    "daily_travel": _daily_travel,
    "weekly_hours": _weekly_hours,
    "room_taken": _room_taken,
    "atelier_seats": _atelier_seats,
    "atelier_demand": _atelier_demand,
    "recurrence": _recurrence,
    "pin_broken": _pin_broken,
    "other": _other,
}


# --- words ---------------------------------------------------------------------------------------


def _held(f: Finding, names: Names) -> str:
    """ "permanence au lieu « EPN », 14h–17h" (the one permanence the finding is about)."""
    p = _one(f)
    return f"{_kind(p)} au lieu {names.lieu(p.lieu)}, {_span(p.start, p.end)}" if p else "sa permanence"


def _of(f: Finding, names: Names, *, lieu: bool = True, day: bool = True) -> str:
    """ "la permanence de Camille Lefèvre au lieu « EPN » le mardi 1er décembre, 14h–17h" (without the lieu
    or the day when the sentence names them already)."""
    p = _one(f)
    if p is None:
        return f"le {_day(f.date)}"
    where = f" au lieu {names.lieu(p.lieu)}" if lieu else ""
    when = f" le {_day(p.date)}" if day else ""
    article = "l'atelier" if p.kind == "atelier" else "la permanence"
    return f"{article} de {names.conseiller(p.conseiller)}{where}{when}, {_span(p.start, p.end)}"


def _one(f: Finding) -> Planned | None:
    return f.permanences[0] if f.permanences else None


def _kind(p: Planned) -> str:
    return "atelier" if p.kind == "atelier" else "permanence"


def _when(f: Finding) -> str:
    """ "mardi 1er décembre (après-midi)"."""
    return f"{_day(f.date)} ({HALVES[f.half]})" if f.half in HALVES else _day(f.date)


def _day(date: dt.date | None) -> str:
    """ "mardi 1er décembre", "lundi 30 novembre"."""
    if date is None:
        return "?"
    day = "1er" if date.day == 1 else str(date.day)
    return f"{WEEKDAYS[date.weekday()]} {day} {MONTHS[date.month - 1]}"


def _time(moment: dt.time) -> str:
    """ "9h", "13h30"."""
    return f"{moment.hour}h" if moment.minute == 0 else f"{moment.hour}h{moment.minute:02d}"


def _span(start: dt.time, end: dt.time) -> str:
    return f"{_time(start)}–{_time(end)}"


def _spans(intervals: Iterable[Interval]) -> str:
    return ", ".join(_span(start, end) for start, end in intervals) or "fermé"


def _number(value: float | None) -> str:
    """ "29,8", "180": a decimal comma, no trailing zero."""
    return "?" if value is None else f"{round(value, 1):g}".replace(".", ",")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None
