"""The communes' town-hall hours (the Annuaire de l'administration's JSON) as opening hours."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from shared.opening_hours import InvalidOpeningHours, OpeningHours

COMMUNES_CSV = Path(__file__).resolve().parents[2] / "services" / "registry" / "data" / "communes.csv.gz"


def test_mairie_horaires_convert_with_french_days_and_ranges():
    horaires = [
        ["lundi", "mercredi", [["08:30:00", "12:00:00"], ["13:30:00", "17:00:00"]]],
        ["vendredi", "vendredi", [["09:00:00", "12:00:00"]]],
        ["samedi", "", [["09:00:00", "24:00:00"]]],
    ]
    oh = OpeningHours.from_mairie_horaires(json.dumps(horaires))
    assert oh.to_osm() == "Mo-We 08:30-12:00,13:30-17:00; Fr 09:00-12:00; Sa 09:00-24:00"


def test_mairie_entries_naming_the_same_day_add_up():
    horaires = [["lundi", "mardi", [["14:00:00", "16:00:00"]]], ["mardi", "mardi", [["16:00:00", "18:00:00"]]]]
    assert OpeningHours.from_mairie_horaires(json.dumps(horaires)).to_osm() == "Mo 14:00-16:00; Tu 14:00-18:00"


def test_mairie_seconds_are_dropped_and_zero_length_spans_ignored():
    horaires = [["lundi", "lundi", [["09:00:00", "12:30:00"], ["12:30:00", "12:30:00"], ["13:30:30", "17:30:00"]]]]
    assert OpeningHours.from_mairie_horaires(json.dumps(horaires)).to_osm() == "Mo 09:00-12:30,13:30-17:30"


@pytest.mark.parametrize("text", ["", "  ", "[]"])
def test_mairie_without_published_hours_is_closed(text):
    assert OpeningHours.from_mairie_horaires(text) == OpeningHours.closed()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[", "invalid JSON"),
        ('{"lundi": []}', "expected a JSON list"),
        ('[["lundi", "lundi"]]', "unexpected entry"),
        ('[["lundi", "lundi", [["09:00:00"]]]]', "unexpected span"),
        ('[["monday", "monday", [["09:00:00", "12:00:00"]]]]', "unknown day 'monday'"),
        ('[["lundi", "lundi", [["9h", "12:00:00"]]]]', "invalid time '9h'"),
        ('[["lundi", "lundi", [["25:00:00", "26:00:00"]]]]', "invalid time '25:00'"),
        ('[["lundi", "lundi", [["12:00:00", "09:00:00"]]]]', "ends before it starts"),
    ],
)
def test_unreadable_mairie_horaires_are_refused(text, message):
    with pytest.raises(InvalidOpeningHours, match=message):
        OpeningHours.from_mairie_horaires(text)


def test_every_commune_mairie_horaires_converts_and_round_trips():
    # Observed in the shipped data (34,875 communes): none is unreadable; 415 publish no hours ("[]",
    # closed()); 108 name a day in several entries (added up, 152 with overlapping spans); 3 have a
    # zero-length span (12:30-12:30...: ignored); 3 have a time with seconds (13:30:30: dropped).
    with gzip.open(COMMUNES_CSV, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 34_875
    converted: dict[str, OpeningHours] = {}
    refused: dict[str, str] = {}
    for row in rows:
        try:
            converted[row["insee"]] = OpeningHours.from_mairie_horaires(row["mairie_horaires"])
        except InvalidOpeningHours as error:
            refused[row["insee"]] = str(error)
    assert refused == {}
    closed = OpeningHours.closed()
    assert sum(oh == closed for oh in converted.values()) == 415
    for insee, oh in converted.items():
        text = oh.to_osm()
        assert OpeningHours.parse(text) == oh, (insee, text)
    assert str(converted["01001"]) == "Tu 09:00-12:00,14:00-17:00; Fr 09:00-12:00,14:00-18:30"
    assert str(converted["39019"]) == "Mo 14:00-16:00; Tu 14:00-18:00; Th 09:00-12:00"
    assert str(converted["21043"]) == "Mo-Th 09:00-12:00,14:00-17:00; Fr 09:00-12:00"
