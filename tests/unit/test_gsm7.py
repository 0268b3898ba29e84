"""The GSM-7 alphabet and the transliteration of French text into it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifications.domain.gsm7 import (
    BASIC,
    EXTENSION,
    GSM7,
    is_gsm7,
    is_single_segment,
    septets,
    to_gsm7,
)


def test_the_alphabet_has_the_127_characters_and_9_plus_form_feed_extensions():
    assert len(BASIC) == 127
    assert set("^{}\\[~]|€\f") == EXTENSION
    assert set("éèùìòÇØøÅåÄÖÑÜäöñüàÉÆæß¿¡ΔΦΓΛΩΠΨΣΘΞ¤§£¥@\n\r") <= BASIC
    assert not {"ç", "â", "ê", "…", "È", "À", "`"} & GSM7


@pytest.mark.parametrize("char", sorted(GSM7))
def test_every_gsm7_character_is_kept(char):
    assert to_gsm7(char) == char
    assert to_gsm7(f"a{char}b") == f"a{char}b"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hôtel de ville, Bazoches-sur-Hoëne", "Hotel de ville, Bazoches-sur-Hoene"),
        ("Fête à Sainte-Geneviève-des-Bois", "Fete à Sainte-Geneviève-des-Bois"),
        ("Garçon, Ça, ÇA", "Garcon, Ça, ÇA"),
        ("Œuvre, cœur", "OEuvre, coeur"),
        ("ÀÂÈÊÎÔÛ âêëîïôû", "AAEEIOU aeeiiou"),
        ("l’atelier ‘x’ “y” « z »", 'l\'atelier \'x\' "y" " z "'),
        ("9h30 – 12h — fin", "9h30 - 12h - fin"),
        ("14\u00a0h\u202f30", "14 h 30"),
        ("Attendez…", "Attendez..."),
        ("L'Haÿ-les-Roses", "L'Hay-les-Roses"),
        ("ﬁn ½ 😀 漢", "fin 1/2  "),
        ("Ile-de-France avec accent combiné: e\u0301", "Ile-de-France avec accent combiné: é"),
    ],
)
def test_other_characters_are_transliterated_as_a_french_reader_expects(text, expected):
    assert to_gsm7(text) == expected


def test_extension_characters_count_two_septets():
    assert septets("abc") == 3
    assert septets("10 €") == 5
    for char in EXTENSION:
        assert septets(char) == 2
    assert septets("[é]") == 5


def test_septets_refuses_a_character_outside_gsm7():
    with pytest.raises(ValueError, match="ç"):
        septets("ça")


def test_a_single_segment_is_gsm7_and_at_most_160_septets():
    assert is_single_segment("a" * 160)
    assert not is_single_segment("a" * 161)
    assert not is_single_segment("a" * 159 + "€")
    assert not is_single_segment("ça")


@given(st.text())
def test_any_text_becomes_gsm7_only(text):
    converted = to_gsm7(text)
    assert is_gsm7(converted)
    assert to_gsm7(converted) == converted
