"""The e-mails sent to usagers: plain French for seniors, the date in the territory's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from services.notifications.domain.email import EmailContent, compose_email, format_when_long, place
from services.notifications.domain.messages import MessageKind

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")
TUESDAY_MORNING = dt.datetime(2026, 12, 8, 9, 30, tzinfo=PARIS)
REPLY = "répondez simplement à ce message"


def _compose(kind: MessageKind | str, **overrides: object) -> EmailContent:
    arguments: dict[str, object] = {
        "name": "Jeanne Lefèvre",
        "permanence_kind": "permanence",
        "lieu": "Salle des fêtes",
        "commune": "Bazoches-sur-Hoëne",
        "start": TUESDAY_MORNING,
    }
    arguments.update(overrides)
    return compose_email(kind, **arguments)  # type: ignore[arg-type]


def test_a_confirmation_says_when_where_and_how_to_cancel():
    email = _compose(MessageKind.CONFIRMATION, address="2 rue de l'Église")
    assert email.subject == "Inscription confirmée : permanence numérique le mardi 8 décembre à 9h30"
    assert email.body == (
        "Bonjour Jeanne Lefèvre,\n\n"
        "Votre inscription est bien enregistrée. Nous vous attendons à la permanence numérique :\n\n"
        "    Quand : mardi 8 décembre à 9h30\n"
        "    Où : Salle des fêtes, 2 rue de l'Église, Bazoches-sur-Hoëne\n\n"
        "Si vous ne pouvez pas venir, merci de nous prévenir : répondez simplement à ce message.\n\n"
        "À bientôt,\nVos conseillers numériques\n"
    )


def test_a_reminder_recalls_the_appointment():
    email = _compose("reminder", permanence_kind="atelier")
    assert email.subject == "Rappel : atelier numérique le mardi 8 décembre à 9h30"
    assert "Nous vous rappelons votre rendez-vous à l'atelier numérique :" in email.body
    assert "    Quand : mardi 8 décembre à 9h30\n    Où : Salle des fêtes, Bazoches-sur-Hoëne\n" in email.body
    assert REPLY in email.body


def test_a_moved_permanence_gives_the_new_place_and_time():
    new_start = dt.datetime(2026, 12, 10, 14, 0, tzinfo=PARIS)
    email = _compose("moved", lieu="Médiathèque Jean-Moulin", commune="Mortagne-au-Perche", start=new_start)
    assert email.subject == "Changement : votre permanence numérique aura lieu le jeudi 10 décembre à 14h"
    assert "votre rendez-vous à la permanence numérique change. Il aura lieu désormais :" in email.body
    assert "    Quand : jeudi 10 décembre à 14h\n    Où : Médiathèque Jean-Moulin, Mortagne-au-Perche\n" in email.body
    assert "Votre inscription est conservée" in email.body
    assert REPLY in email.body


def test_a_cancelled_permanence_apologises_and_offers_another_date():
    email = _compose(MessageKind.CANCELLED, permanence_kind="atelier")
    assert email.subject == "Annulation : atelier numérique du mardi 8 décembre à 9h30"
    assert "Nous sommes désolés : votre rendez-vous à l'atelier numérique est annulé, il n'aura pas lieu." in email.body
    assert "Veuillez nous excuser" in email.body
    assert "    Quand : mardi 8 décembre à 9h30\n    Où : Salle des fêtes, Bazoches-sur-Hoëne\n" in email.body
    assert "Si vous ne pouvez pas venir" not in email.body  # nothing left to cancel
    assert REPLY in email.body


@pytest.mark.parametrize("kind", list(MessageKind))
@pytest.mark.parametrize("permanence_kind", ["permanence", "atelier"])
def test_every_email_greets_names_the_kind_and_signs(kind, permanence_kind):
    email = _compose(kind, permanence_kind=permanence_kind)
    label = f"{permanence_kind} numérique"
    assert label in email.subject
    assert "mardi 8 décembre à 9h30" in email.subject
    assert email.body.startswith("Bonjour Jeanne Lefèvre,\n\n")
    assert email.body.endswith("\n\nÀ bientôt,\nVos conseillers numériques\n")
    assert label in email.body
    assert "Salle des fêtes, Bazoches-sur-Hoëne" in email.body
    assert "\n" not in email.subject


def test_the_emails_differ_by_kind():
    subjects = {_compose(kind).subject for kind in MessageKind}
    bodies = {_compose(kind).body for kind in MessageKind}
    assert len(subjects) == len(bodies) == len(MessageKind)


def test_the_date_is_the_given_local_time_not_utc():
    utc = dt.datetime(2026, 12, 8, 5, 30, tzinfo=dt.UTC)
    in_reunion = utc.astimezone(REUNION)  # UTC+4: 9h30 there
    email = _compose("reminder", start=in_reunion)
    assert "mardi 8 décembre à 9h30" in email.subject
    assert "Quand : mardi 8 décembre à 9h30" in email.body
    assert "5h30" not in email.body
    late_evening = dt.datetime(2026, 12, 7, 23, 15, tzinfo=dt.UTC).astimezone(PARIS)  # already the 8th in Paris
    assert "Quand : mardi 8 décembre à 0h15" in _compose("confirmation", start=late_evening).body


def test_a_naive_start_is_refused():
    with pytest.raises(ValueError, match="aware"):
        _compose("reminder", start=dt.datetime(2026, 12, 8, 9, 30))


def test_unknown_kinds_are_refused():
    with pytest.raises(ValueError, match="birthday"):
        _compose("birthday")
    with pytest.raises(ValueError, match="permanence kind"):
        _compose("reminder", permanence_kind="webinaire")


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (dt.datetime(2027, 2, 1, 9, 0, tzinfo=PARIS), "lundi 1er février à 9h"),
        (dt.datetime(2027, 8, 15, 14, 5, tzinfo=PARIS), "dimanche 15 août à 14h05"),
        (dt.datetime(2026, 12, 12, 10, 45, tzinfo=PARIS), "samedi 12 décembre à 10h45"),
    ],
)
def test_dates_are_french_in_full(start, expected):
    assert format_when_long(start) == expected


def test_accents_and_non_ascii_letters_are_kept():
    email = _compose(
        "confirmation",
        name="Hélène Ægir-Çelik",
        lieu="Maison France services « L'Étoile »",
        commune="Saint-Rémy-du-Val",
    )
    assert "Bonjour Hélène Ægir-Çelik," in email.body
    assert "Maison France services « L'Étoile », Saint-Rémy-du-Val" in email.body
    for word in ("numérique", "enregistrée", "prévenir", "répondez", "À bientôt", "décembre"):
        assert word in email.body + email.subject


def test_the_commune_is_not_repeated_when_the_place_names_it():
    assert place("Mairie de Bazoches-sur-Hoëne", "Bazoches-sur-Hoëne") == "Mairie de Bazoches-sur-Hoëne"
    assert place("Mairie", "Bazoches-sur-Hoëne", "1 place, 61560 BAZOCHES SUR HOENE") == (
        "Mairie, 1 place, 61560 BAZOCHES SUR HOENE"
    )
    assert place("Salle Mortagne", "Mortagne-au-Perche") == "Salle Mortagne, Mortagne-au-Perche"
    assert place("Salle Bazochienne", "Bazoches") == "Salle Bazochienne, Bazoches"


def test_whitespace_is_collapsed_and_empty_names_are_left_out():
    email = _compose("reminder", name="  ", lieu="Salle\n des  fêtes", address="  ")
    assert email.body.startswith("Bonjour,\n\n")
    assert "Où : Salle des fêtes, Bazoches-sur-Hoëne\n" in email.body
    assert "Bonjour Jeanne\nMartin" not in _compose("reminder", name="Jeanne\nMartin").body
    assert "Bonjour Jeanne Martin," in _compose("reminder", name="Jeanne\nMartin").body
