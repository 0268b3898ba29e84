"""The SMS texts sent to usagers: plain French, always one GSM-7 segment."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifications.domain.gsm7 import is_single_segment, to_gsm7
from services.notifications.domain.sms import (
    NOTHING_TO_CANCEL_TEXT,
    booking_confirmation_text,
    cancellation_ack_text,
    cancelled_text,
    format_when,
    moved_text,
    reminder_text,
)
from services.registry.adapters.communes import read_communes

TEXTS = (booking_confirmation_text, reminder_text, moved_text, cancelled_text)
TUESDAY_MORNING = dt.datetime(2026, 12, 8, 9, 30)
PHONE = "02 33 25 10 10"
REPLY = "Pour annuler, répondez ANNULER."
CALL = f"Pour annuler, appelez le {PHONE}."


def _longest_start() -> dt.datetime:
    days = (dt.datetime(2027, 1, 1, 23, 59) + dt.timedelta(days=n) for n in range(365))
    return max(days, key=lambda day: len(to_gsm7(format_when(day))))


LONGEST_START = _longest_start()


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (dt.datetime(2026, 12, 7, 14, 30), "lun. 7 déc. à 14h30"),
        (dt.datetime(2027, 2, 1, 9, 0), "lun. 1er févr. à 9h"),
        (dt.datetime(2027, 8, 15, 0, 5, tzinfo=dt.UTC), "dim. 15 août à 0h05"),
        (dt.datetime(2027, 9, 29, 23, 59), "mer. 29 sept. à 23h59"),
    ],
)
def test_the_date_is_short_french_24h_without_year(start, expected):
    assert format_when(start) == expected


def test_a_reminder_reads_as_plain_french():
    text = reminder_text(
        kind="permanence", lieu="Mairie de Bazoches-sur-Hoëne", commune="Bazoches-sur-Hoëne", start=TUESDAY_MORNING
    )
    assert text == (
        "Rappel : permanence numérique mar. 8 déc. à 9h30, Mairie de Bazoches-sur-Hoene. "
        "Pour annuler, répondez ANNULER."
    )


def test_each_text_says_what_happened_and_how_to_cancel():
    visit: dict[str, Any] = {
        "kind": "atelier",
        "lieu": "Médiathèque",
        "commune": "Mortagne-au-Perche",
        "start": TUESDAY_MORNING,
    }
    assert booking_confirmation_text(**visit, cancel_phone=PHONE) == (
        f"Inscription confirmée : atelier numérique mar. 8 déc. à 9h30, Médiathèque, Mortagne-au-Perche. {CALL}"
    )
    assert moved_text(**visit) == (
        f"Changement : votre atelier numérique aura lieu mar. 8 déc. à 9h30, Médiathèque, Mortagne-au-Perche. {REPLY}"
    )
    assert cancelled_text(**visit) == (
        "Annulation : votre atelier numérique du mar. 8 déc. à 9h30, Médiathèque, Mortagne-au-Perche, "
        "n'aura pas lieu. Veuillez nous excuser."
    )
    assert cancelled_text(**visit, cancel_phone=PHONE).endswith(f"Veuillez nous excuser. Tél. {PHONE}.")


def test_a_long_place_is_abbreviated_before_it_is_cut():
    lieu = "Salle des fêtes, avenue de la Libération"
    commune = "Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson"
    text = reminder_text(kind="permanence", lieu=lieu, commune=commune, start=TUESDAY_MORNING)
    assert "9h30, Salle fetes, av. de la Libération, St-Remy-en-Bouzemont-St-Genest-et-Isson. Pour" in text
    assert is_single_segment(text)
    text = moved_text(kind="permanence", lieu=lieu, commune=commune, start=LONGEST_START)
    assert "23h59, Salle fetes, av., St-Remy-en-Bouzemont-St-Genest. Pour annuler" in text
    assert is_single_segment(text)


def test_saintes_the_commune_is_no_abbreviation():
    lieu = "Centre communal d'action sociale de Saintes, salle polyvalente du 3e étage, " * 2
    text = reminder_text(kind="permanence", lieu=lieu, commune="Saintes", start=TUESDAY_MORNING)
    assert text.startswith("Rappel : permanence numérique mar. 8 déc. à 9h30, CCAS de Saintes, salle polyv. du 3e")
    assert text.endswith(f". {REPLY}")
    assert is_single_segment(text)


def test_a_phone_number_must_be_short():
    with pytest.raises(ValueError, match="short phone"):
        reminder_text(kind="atelier", lieu="x", commune="y", start=TUESDAY_MORNING, cancel_phone="0" * 21)
    with pytest.raises(ValueError, match="kind"):
        reminder_text(kind="visite", lieu="x", commune="y", start=TUESDAY_MORNING)  # type: ignore[arg-type]


_LEADING = re.compile(r"^((?:(?:Le|La|Les|L'|Saint|Sainte|Saints|Saintes)[ '-])*)([^ '-]+)")


def _recognisable_start(name: str) -> str:
    """The name up to its first word that is neither an article nor Saint, Saint as St."""
    match = _LEADING.match(name)
    assert match, name
    return re.sub(r"\bSaint", "St", match.group(1)) + match.group(2)


def test_every_commune_of_france_gets_four_single_segment_texts_at_its_mairie():
    """ "permanence numérique" is the longer kind; the longest date; replying or calling to cancel."""
    names = [to_gsm7(row["name"]) for row in read_communes()]
    assert len(names) > 34_000
    when = to_gsm7(format_when(LONGEST_START))
    shortened = 0
    for name in names:
        full, recognisable = f"Mairie de {name}", f"Mairie de {_recognisable_start(name)}"
        for phone, instruction in ((None, REPLY), (PHONE, CALL)):
            for text_for in TEXTS:
                text = text_for(kind="permanence", lieu=full, commune=name, start=LONGEST_START, cancel_phone=phone)
                assert is_single_segment(text), text
                assert when in text, text
                if text_for is cancelled_text:
                    assert phone is None or f"Tél. {phone}." in text, text
                else:
                    assert text.endswith(instruction), text
                if full not in text:
                    shortened += 1
                    assert recognisable in text, text
    assert shortened > 0


def test_every_commune_of_france_gets_a_single_segment_answer_to_annuler():
    when = to_gsm7(format_when(LONGEST_START))
    for row in read_communes():
        name = to_gsm7(row["name"])
        text = cancellation_ack_text(kind="permanence", lieu=f"Mairie de {name}", commune=name, start=LONGEST_START)
        assert is_single_segment(text), text
        assert text.startswith(f"Annulation enregistrée : votre permanence numérique du {when}, Mairie de "), text
        assert text.endswith("Merci de nous avoir prévenus."), text
    assert is_single_segment(NOTHING_TO_CANCEL_TEXT)


_ANY_CHARACTER = st.one_of(st.characters(), st.sampled_from("€[]{}^~|\\\f\n…œ’ç"))


@given(
    lieu=st.text(_ANY_CHARACTER, max_size=200),
    commune=st.text(_ANY_CHARACTER, max_size=200),
    kind=st.sampled_from(["permanence", "atelier"]),
    start=st.datetimes(),
    phone=st.none() | st.text("0123456789 +.", max_size=20).filter(str.strip),
)
def test_any_lieu_gives_single_segment_texts(lieu, commune, kind, start, phone):
    when = to_gsm7(format_when(start))
    for text_for in TEXTS:
        text = text_for(kind=kind, lieu=lieu, commune=commune, start=start, cancel_phone=phone)
        assert is_single_segment(text), text
        assert when in text
