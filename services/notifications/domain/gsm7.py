"""The GSM-7 alphabet of SMS (3GPP TS 23.038) and French-friendly transliteration into it.

An SMS of GSM-7 characters holds 160 septets; one character outside GSM-7 switches the whole
message to UCS-2 and its limit to 70 characters, so every text sent to usagers goes through
``to_gsm7`` first. Characters of the extension table (``^ { } \\ [ ~ ] | €`` and form feed)
are sent as an escape and the character: two septets each.

Transliteration keeps every character GSM-7 has (é è ù ì ò à Ç É ä ö ü ñ …) and replaces the
others the way a French reader expects: â→a, ê→e, ô→o, ç→c (GSM-7 has only the capital Ç),
œ→oe, È→E, ’→', « »→", – —→-, non-breaking spaces → space, … → ... ; any other character goes
through Unicode NFKD (so ÿ→y, ﬁ→fi) and what is still outside GSM-7 is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

SINGLE_SEGMENT_SEPTETS = 160

# The default alphabet, in code order 0x00-0x7F; 0x1B (the escape to the extension table) is
# not a character and stands here as a space that is then left out.
_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(_BASIC_TABLE) == 128

BASIC: frozenset[str] = frozenset(_BASIC_TABLE) - {"\x1b"}
EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")
GSM7: frozenset[str] = BASIC | EXTENSION

_FRENCH: dict[str, str] = {
    "â": "a",
    "ê": "e",
    "ë": "e",
    "î": "i",
    "ï": "i",
    "ô": "o",
    "û": "u",
    "ç": "c",
    "ÿ": "y",
    "œ": "oe",
    "Œ": "OE",
    "À": "A",
    "Â": "A",
    "È": "E",
    "Ê": "E",
    "Ë": "E",
    "Î": "I",
    "Ï": "I",
    "Ô": "O",
    "Û": "U",
    "Ù": "U",
    "Ÿ": "Y",
    "’": "'",
    "‘": "'",
    "‚": "'",
    "′": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "‹": '"',
    "›": '"',
    "–": "-",
    "—": "-",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\t": " ",
    "…": "...",
    "⁄": "/",
}
assert all(set(v) <= GSM7 for v in _FRENCH.values())


_TWO_SEPTETS = re.compile("[" + re.escape("".join(sorted(EXTENSION))) + "]")


def to_gsm7(text: str) -> str:
    """``text`` with only GSM-7 characters, transliterated for a French reader."""
    if GSM7.issuperset(text):
        return text
    return "".join(map(_transliterate, unicodedata.normalize("NFC", text)))


@lru_cache(maxsize=4096)
def _transliterate(char: str) -> str:
    if char in GSM7:
        return char
    if char in _FRENCH:
        return _FRENCH[char]
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c if c in GSM7 else _FRENCH.get(c, "") for c in decomposed)


def is_gsm7(text: str) -> bool:
    return GSM7.issuperset(text)


def septets(text: str) -> int:
    """Septets ``text`` takes in a GSM-7 SMS; raises ``ValueError`` on a character outside GSM-7."""
    if not GSM7.issuperset(text):
        outside = sorted(set(text) - GSM7)
        raise ValueError(f"not GSM-7: {outside!r}")
    return len(text) + len(_TWO_SEPTETS.findall(text))


def is_single_segment(text: str) -> bool:
    """Whether ``text`` goes as one GSM-7 SMS: GSM-7 characters only, at most 160 septets."""
    return GSM7.issuperset(text) and septets(text) <= SINGLE_SEGMENT_SEPTETS
