"""The e-mails sent to usagers, in plain, warm French for seniors. Pure Python, no I/O.

Four e-mails, as for SMS (``domain/sms.py``): a booking confirmation, a reminder, a permanence moved (its new
place and time) and a permanence cancelled, for a permanence or an atelier. Each says, on lines of its own,
when (``mardi 8 décembre à 9h30``: the day in full, 24 h clock, no year) and where (the lieu, its address when
known, the commune unless the lieu or the address names it already), then how to cancel: by replying to the
e-mail. Plain text (the gateway sends it as text/plain UTF-8): accents are kept, nothing is abbreviated.

The start is shown as given: an aware datetime already in the territory's time zone (a naive one is refused,
so that a UTC time is never shown as the local one). The subject names no person and no place, only the
kind of message, the permanence's kind and its date: it is the only part a mail client shows before opening.

::

    Subject: Rappel : permanence numérique le mardi 8 décembre à 9h30

    Bonjour Jeanne Martin,

    Nous vous rappelons votre rendez-vous à la permanence numérique :

        Quand : mardi 8 décembre à 9h30
        Où : Mairie, 2 place de l'Église, Bazoches-sur-Hoëne

    Si vous ne pouvez pas venir, merci de nous prévenir : répondez simplement à ce message.

    À bientôt,
    Vos conseillers numériques
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from services.notifications.domain.messages import MessageKind

PermanenceKind = Literal["permanence", "atelier"]

_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
_LABELS: dict[str, tuple[str, str]] = {
    # (without article, with its article)
    "permanence": ("permanence numérique", "la permanence numérique"),
    "atelier": ("atelier numérique", "l'atelier numérique"),
}
_TO_CANCEL = "Si vous ne pouvez pas venir, merci de nous prévenir : répondez simplement à ce message."
_SIGNATURE = "À bientôt,\nVos conseillers numériques"


@dataclass(frozen=True)
class EmailContent:
    subject: str
    body: str


def format_when_long(start: dt.datetime) -> str:
    """ "mardi 8 décembre à 9h30", "dimanche 1er février à 9h": the local start in full, 24 h, no year."""
    day = "1er" if start.day == 1 else str(start.day)
    time = f"{start.hour}h" if start.minute == 0 else f"{start.hour}h{start.minute:02d}"
    return f"{_WEEKDAYS[start.weekday()]} {day} {_MONTHS[start.month - 1]} à {time}"


def compose_email(
    kind: MessageKind | str,
    *,
    name: str,
    permanence_kind: PermanenceKind,
    lieu: str,
    commune: str,
    start: dt.datetime,
    address: str | None = None,
) -> EmailContent:
    """The subject and plain-text body of the ``kind`` message (``MessageKind`` or its value) to ``name``."""
    message_kind = MessageKind(kind)
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be an aware datetime, in the territory's time zone")
    try:
        label, with_article = _LABELS[permanence_kind]
    except KeyError:
        raise ValueError(f"unknown permanence kind {permanence_kind!r}") from None
    when = format_when_long(start)
    details = f"    Quand : {when}\n    Où : {place(lieu, commune, address)}"
    at = f"à {with_article}"  # "à la permanence numérique", "à l'atelier numérique"

    if message_kind is MessageKind.CONFIRMATION:
        subject = f"Inscription confirmée : {label} le {when}"
        paragraphs = [f"Votre inscription est bien enregistrée. Nous vous attendons {at} :", details, _TO_CANCEL]
    elif message_kind is MessageKind.REMINDER:
        subject = f"Rappel : {label} le {when}"
        paragraphs = [f"Nous vous rappelons votre rendez-vous {at} :", details, _TO_CANCEL]
    elif message_kind is MessageKind.MOVED:
        subject = f"Changement : votre {label} aura lieu le {when}"
        paragraphs = [
            f"Attention, votre rendez-vous {at} change. Il aura lieu désormais :",
            details,
            "Votre inscription est conservée, vous n'avez rien d'autre à faire.",
            _TO_CANCEL,
        ]
    else:
        subject = f"Annulation : {label} du {when}"
        paragraphs = [
            f"Nous sommes désolés : votre rendez-vous {at} est annulé, il n'aura pas lieu.",
            details,
            "Veuillez nous excuser pour ce contretemps. Vous n'avez rien à faire. "
            "Pour vous inscrire à une autre date, répondez simplement à ce message.",
        ]
    greeting = f"Bonjour {_clean(name)}," if _clean(name) else "Bonjour,"
    return EmailContent(subject, "\n\n".join([greeting, *paragraphs, _SIGNATURE]) + "\n")


def place(lieu: str, commune: str, address: str | None = None) -> str:
    """ "Salle des fêtes, 2 rue du Moulin, Bazoches-sur-Hoëne": the commune only when not named already."""
    lieu, commune, address = _clean(lieu), _clean(commune), _clean(address or "")
    named = commune and any(_names(commune, text) for text in (lieu, address))
    return ", ".join(part for part in (lieu, address, "" if named else commune) if part)


def _clean(text: str) -> str:
    """Whitespace, line breaks included, collapsed to single spaces."""
    return " ".join(text.split())


def _names(commune: str, text: str) -> bool:
    """Whether ``text`` names ``commune`` as whole words, ignoring case, accents and punctuation."""
    wanted = _comparable(commune)
    return bool(wanted) and f" {wanted} " in f" {_comparable(text)} "


def _comparable(text: str) -> str:
    ascii_only = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.split(r"[\W_]+", ascii_only.casefold())).strip()
