"""The SMS sent to usagers, in plain French, each one GSM-7 segment (160 septets).

Four texts: a booking confirmation, a reminder, a permanence moved (its new place and time)
and a permanence cancelled, for a permanence or an atelier::

    Rappel : permanence numérique mar. 8 déc. à 9h30, Mairie de Bazoches-sur-Hoene.
    Pour annuler, répondez ANNULER.

The date is French and short, without year, on a 24 h clock: "lun. 7 déc. à 14h30",
"dim. 1er févr. à 9h". It is the start as given: already in the territory's time zone.

How to cancel: by replying ANNULER (the default) or by calling a short phone number (at most
20 septets, else ``ValueError``). A cancelled permanence has nothing left to cancel: its text
says so and gives the phone number, if any, for information.

Every text goes through ``to_gsm7``. When it would exceed one segment, only the place
(lieu and commune) is shortened, never the date, the time or the cancel instruction:

0. the commune is never repeated when the lieu already names it ("Mairie de Bazoches-sur-Hoëne"
   says where; comparing without case, accents, and with Saint = St);
1. common words are abbreviated, in the lieu and the commune: Saint→St, Sainte→Ste (only
   before a name: "Saint-Remy", "Église Saint Pierre", not the commune of Saintes),
   "Salle des fêtes"→"Salle fêtes", "Salle polyvalente"→"Salle polyv.", "Centre communal
   d'action sociale"→"CCAS", "Communauté de communes"→"Com. de communes", "Avenue"→"av.",
   "Boulevard"→"bd". "Mairie" and the articles (de, du, des) stay: "Mie" or "Mairie Bazoches"
   read badly;
2. the lieu is cut and ends with "." ("Mairie de St-Remy-en-Bouzemont-St-Gen."), not on a
   dangling article or preposition ("av. de." becomes "av."), keeping at least 20 septets of
   it when the commune is shown beside it;
3. if that is still too long, the commune is cut the same way.

Whitespace (line breaks included) in lieu and commune is collapsed to single spaces.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache
from typing import Literal

from services.notifications.domain.gsm7 import SINGLE_SEGMENT_SEPTETS, septets, to_gsm7

Kind = Literal["permanence", "atelier"]

MAX_PHONE_SEPTETS = 20
LIEU_FLOOR = 20

_KIND_LABELS: dict[str, str] = {"permanence": "permanence numérique", "atelier": "atelier numérique"}
_WEEKDAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
_MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
_UPPER = "A-ZÇØÅÄÖÑÜÉÆ"
_ABBREVIATIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, flags), replacement)
    for pattern, flags, replacement in (
        (rf"\bSaint(e?s?)(?=-|\s[{_UPPER}])", re.NOFLAG, r"St\1"),
        (r"\b(Salle) des (f[eê]tes)\b", re.IGNORECASE, r"\1 \2"),
        (r"\b(Salle) (polyv)alente\b", re.IGNORECASE, r"\1 \2."),
        (r"\bCentre communal d'action sociale\b", re.IGNORECASE, "CCAS"),
        (r"\b(Communauté) de (communes)\b", re.IGNORECASE, r"Com. de \2"),
        (r"\bAvenue\b", re.IGNORECASE, "av."),
        (r"\bBoulevard\b", re.IGNORECASE, "bd"),
    )
)
_CUT_STRIP = " -',;:(/&"
_DANGLING = re.compile(r"(?:[ '-](?:de|du|des|d|la|le|les|l|et|en|sur|sous|à|au|aux))+$", re.IGNORECASE)


def format_when(start: dt.datetime) -> str:
    """ "lun. 7 déc. à 14h30", "dim. 1er févr. à 9h": the local start, short, 24 h, no year."""
    day = "1er" if start.day == 1 else str(start.day)
    time = f"{start.hour}h" if start.minute == 0 else f"{start.hour}h{start.minute:02d}"
    return f"{_WEEKDAYS[start.weekday()]} {day} {_MONTHS[start.month - 1]} à {time}"


def booking_confirmation_text(
    *, kind: Kind, lieu: str, commune: str, start: dt.datetime, cancel_phone: str | None = None
) -> str:
    head = f"Inscription confirmée : {_label(kind)} {format_when(start)}"
    return _fit(head, lieu, commune, f". {_cancel_instruction(cancel_phone)}")


def reminder_text(*, kind: Kind, lieu: str, commune: str, start: dt.datetime, cancel_phone: str | None = None) -> str:
    head = f"Rappel : {_label(kind)} {format_when(start)}"
    return _fit(head, lieu, commune, f". {_cancel_instruction(cancel_phone)}")


def moved_text(*, kind: Kind, lieu: str, commune: str, start: dt.datetime, cancel_phone: str | None = None) -> str:
    """The permanence's new place and time."""
    head = f"Changement : votre {_label(kind)} aura lieu {format_when(start)}"
    return _fit(head, lieu, commune, f". {_cancel_instruction(cancel_phone)}")


def cancelled_text(*, kind: Kind, lieu: str, commune: str, start: dt.datetime, cancel_phone: str | None = None) -> str:
    """The permanence will not take place; the phone number, if any, is given for information."""
    head = f"Annulation : votre {_label(kind)} du {format_when(start)}"
    tail = ", n'aura pas lieu. Veuillez nous excuser."
    if cancel_phone is not None:
        tail += f" Tél. {_phone(cancel_phone)}."
    return _fit(head, lieu, commune, tail)


def cancellation_ack_text(*, kind: Kind, lieu: str, commune: str, start: dt.datetime) -> str:
    """The answer to an usager who replied ANNULER: which booking is cancelled."""
    head = f"Annulation enregistrée : votre {_label(kind)} du {format_when(start)}"
    return _fit(head, lieu, commune, ". Merci de nous avoir prévenus.")


NOTHING_TO_CANCEL_TEXT = "Nous n'avons trouvé aucune inscription à venir à annuler pour ce numéro."


def _label(kind: Kind) -> str:
    try:
        return _KIND_LABELS[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}") from None


def _cancel_instruction(phone: str | None) -> str:
    if phone is None:
        return "Pour annuler, répondez ANNULER."
    return f"Pour annuler, appelez le {_phone(phone)}."


def _phone(phone: str) -> str:
    cleaned = _clean(phone)
    if not cleaned or septets(cleaned) > MAX_PHONE_SEPTETS:
        raise ValueError(f"a short phone number is needed, not {phone!r}")
    return cleaned


def _fit(head: str, lieu: str, commune: str, tail: str) -> str:
    """``head, <place>tail`` in one segment, the place shortened as the module says."""
    head, tail = to_gsm7(head), to_gsm7(tail)
    budget = SINGLE_SEGMENT_SEPTETS - septets(head) - septets(tail) - len(", ")
    place = _place(*_names_to_show(lieu, commune), budget)
    if not place:
        return head + tail
    if place.endswith(".") and tail.startswith("."):
        tail = tail[1:]
    return f"{head}, {place}{tail}"


@lru_cache(maxsize=1024)
def _names_to_show(lieu: str, commune: str) -> tuple[str, str]:
    """Lieu and commune cleaned, the commune left out when the lieu names it already."""
    lieu, commune = _clean(lieu), _clean(commune)
    return lieu, "" if commune and _names(commune, lieu) else commune


def _place(lieu: str, commune: str, budget: int) -> str:
    place = _join(lieu, commune)
    if septets(place) <= budget:
        return place
    lieu, commune = _abbreviate(lieu), _abbreviate(commune)
    place = _join(lieu, commune)
    if septets(place) <= budget or not lieu or not commune:
        return _cut(place, budget)
    room_for_lieu = min(budget, max(budget - septets(commune) - len(", "), min(septets(lieu), LIEU_FLOOR)))
    lieu = _cut(lieu, room_for_lieu)
    return _join(lieu, _cut(commune, budget - septets(lieu) - len(", ")))


def _join(lieu: str, commune: str) -> str:
    return ", ".join(part for part in (lieu, commune) if part)


def _clean(text: str) -> str:
    return " ".join(to_gsm7(text).replace("\f", " ").split())


@lru_cache(maxsize=4096)
def _abbreviate(name: str) -> str:
    for pattern, replacement in _ABBREVIATIONS:
        name = pattern.sub(replacement, name)
    return name


def _cut(text: str, budget: int) -> str:
    """``text`` within ``budget`` septets, cut and ending with "." when too long."""
    if septets(text) <= budget:
        return text
    text = text[: max(budget - 1, 0)]
    while text and septets(text) > budget - 1:
        text = text[:-1]
    text = _DANGLING.sub("", text.rstrip(_CUT_STRIP + ".")).rstrip(_CUT_STRIP + ".")
    return f"{text}." if text else ""


def _names(commune: str, lieu: str) -> bool:
    """Whether ``lieu`` already names ``commune`` (as whole words, ignoring case and accents)."""
    wanted = _comparable(commune)
    return bool(wanted) and f" {wanted} " in f" {_comparable(lieu)} "


@lru_cache(maxsize=4096)
def _comparable(name: str) -> str:
    ascii_only = unicodedata.normalize("NFKD", _abbreviate(name)).encode("ascii", "ignore").decode()
    return " ".join(re.split(r"[\W_]+", ascii_only.casefold())).strip()
