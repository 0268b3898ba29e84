"""How an usager is reached: a phone number, an e-mail address, and the channel between them.

Phone numbers are read with `phonenumbers` (Google's libphonenumber metadata). What its
metadata says about France, checked on phonenumbers 9.0.43:

- The overseas departments share the French national plan (a leading 0, ten digits) but
  each has its own country code: Guadeloupe, Saint-Martin and Saint-Barthélemy +590,
  Guyane +594, Martinique +596, La Réunion and Mayotte +262. So "0690 …" read with the
  default region FR becomes +33 690 …, which the FR metadata calls invalid; read with GP
  it is +590 690 …, valid. Hence the order: the given region, then FR, then the overseas
  regions, and the first that finds a valid number wins.
- Mobile prefixes: Guadeloupe/Saint-Martin/Saint-Barthélemy 0690 and 0691 22 to 0691 35,
  Guyane 0694, Martinique 0696 and 0697, La Réunion 0692 and 0693, Mayotte 0639 (not
  every 0639 1…: 0639 10, 11 and 19 only). Mainland mobiles are 06 and 073 to 079; 070 to
  072 are not allocated.
- Guadeloupe, Saint-Martin and Saint-Barthélemy share their mobile ranges:
  `region_code_for_number` answers GP for every +590 mobile; some +590 landlines answer
  BL or MF. La Réunion and Mayotte share +262 but not their ranges (0692/0693 → RE,
  0639 → YT).
- The FR metadata also accepts some national numbers that look overseas: 0596 30 … and
  0269 60 … are valid FR landlines, so they stay +33 here (landlines are refused for SMS
  anyway). "+33 690 …" is not a valid number and is refused: the prefix the usager wrote
  is not second-guessed.
- +269 is the Comoros (KM), not Mayotte.
- Saint-Pierre-et-Miquelon (+508), Nouvelle-Calédonie (+687), Polynésie française (+689)
  and Wallis-et-Futuna (+681) have their own plans of six to nine digits; a short number
  written without its prefix may be valid in several of them ("75 12 34" in NC and PM):
  such a number is refused as ambiguous rather than guessed.

Nothing here puts a phone number or an e-mail address in an exception message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import phonenumbers
from phonenumbers import CountryCodeSource, NumberParseException, PhoneNumberFormat, PhoneNumberType

Channel = Literal["sms", "email"]

OVERSEAS_REGIONS: tuple[str, ...] = ("GP", "GF", "MQ", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF")
FRENCH_REGIONS: tuple[str, ...] = ("FR", *OVERSEAS_REGIONS)

_PHONE_CHARACTERS = re.compile(r"\+?[0-9 .\-()/\u00a0\u202f]+")
_MAX_PHONE_LENGTH = 40
_MAX_EMAIL_LENGTH = 254


class InvalidContact(ValueError):
    """A contact the usager cannot be reached by; answered 422 naming the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidPhone(InvalidContact):
    """A phone number that is not one, or cannot carry the message asked of it."""


class InvalidEmail(InvalidContact):
    """An e-mail address that is not written like one."""


class NoContact(InvalidContact):
    """An usager with neither a phone number nor an e-mail address."""


@dataclass(frozen=True)
class PhoneNumber:
    """A valid phone number: E.164 text, the region it belongs to, whether an SMS can reach it.

    The number itself is left out of the repr, so logging the value object does not leak it.
    """

    e164: str = field(repr=False)
    region: str
    mobile: bool


def parse_phone(text: str, region: str = "FR", *, field: str = "phone") -> PhoneNumber:
    """Read a phone number as an usager or a conseiller writes it.

    Spaces, dots, dashes, brackets, "+33 …" and "0033 …" are accepted. A number written
    without its international prefix is tried in `region`, then FR, then the overseas
    regions (see the module's docstring); a number written with it is taken as written.
    Only numbers libphonenumber types as MOBILE count as mobiles (VoIP, landlines, shared
    cost… do not).
    """
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown region {region!r}")
    written = text.strip()
    if not written:
        raise InvalidPhone(field, "must not be blank")
    if len(written) > _MAX_PHONE_LENGTH or not _PHONE_CHARACTERS.fullmatch(written):
        raise InvalidPhone(field, "write it with digits, spaces, dots or dashes, and an optional leading +")
    try:
        first = phonenumbers.parse(written, region, keep_raw_input=True)
    except NumberParseException:
        raise InvalidPhone(field, "not a phone number") from None
    if phonenumbers.is_valid_number(first):
        return _phone(first)
    if first.country_code_source != CountryCodeSource.FROM_DEFAULT_COUNTRY:
        raise InvalidPhone(field, "not a valid number for the international prefix it was given with")
    overseas = tuple(code for code in OVERSEAS_REGIONS if code != region)
    for regions in (("FR",) if region != "FR" else (), overseas):
        found = _valid_readings(written, regions)
        if len(found) == 1:
            return _phone(next(iter(found.values())))
        if len(found) > 1:
            raise InvalidPhone(
                field, "could be a number of several territories: write it with its international prefix"
            )
    raise InvalidPhone(field, "not a valid number in France or its overseas territories")


def _valid_readings(text: str, regions: tuple[str, ...]) -> dict[str, phonenumbers.PhoneNumber]:
    """The valid numbers `text` reads as in `regions`, by E.164 text (GP, BL and MF may agree)."""
    found: dict[str, phonenumbers.PhoneNumber] = {}
    for code in regions:
        try:
            number = phonenumbers.parse(text, code)
        except NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            found.setdefault(phonenumbers.format_number(number, PhoneNumberFormat.E164), number)
    return found


def _phone(number: phonenumbers.PhoneNumber) -> PhoneNumber:
    region = phonenumbers.region_code_for_number(number)
    assert region is not None, "a valid number has a region"
    return PhoneNumber(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        region=region,
        mobile=phonenumbers.number_type(number) == PhoneNumberType.MOBILE,
    )


def parse_email(text: str, *, field: str = "email") -> str:
    """A minimal syntax check: one @, something before it, a dotted domain, no spaces.

    Returns the address trimmed, its domain in lower case. Whether the mailbox exists is the
    sender's business, not this check's.
    """
    address = text.strip()
    if not address:
        raise InvalidEmail(field, "must not be blank")
    if len(address) > _MAX_EMAIL_LENGTH:
        raise InvalidEmail(field, "too long for an e-mail address")
    if any(character.isspace() for character in address):
        raise InvalidEmail(field, "an e-mail address has no spaces")
    if address.count("@") != 1:
        raise InvalidEmail(field, "an e-mail address has exactly one @")
    local, domain = address.split("@")
    if not local:
        raise InvalidEmail(field, "nothing before the @")
    labels = domain.split(".")
    if len(labels) < 2 or not all(labels):
        raise InvalidEmail(field, "the part after the @ must be a domain with a dot, such as laposte.net")
    return f"{local}@{domain.lower()}"


def choose_channel(phone: PhoneNumber | None, email: str | None, preferred: Channel) -> Channel:
    """E-mail when the usager has an address and chose it; otherwise SMS, which needs a mobile.

    An usager who chose SMS but has no phone number, only an address, is written to: being
    told of the permanence matters more than the channel. SMS to a landline or a VoIP number
    is refused rather than sent into the void.
    """
    channel = reachable_by(phone is not None, email is not None, preferred)
    if channel is None:
        raise NoContact("phone", "give a mobile phone number or an e-mail address to reach the usager")
    if channel == "sms" and phone is not None and not phone.mobile:
        raise InvalidPhone("phone", "not a mobile: an SMS cannot reach it")
    return channel


def reachable_by(has_phone: bool, has_email: bool, preferred: Channel) -> Channel | None:
    """``choose_channel``'s choice from which contacts there are (whether the phone is a mobile aside):
    e-mail when there is an address and it was chosen, or no phone; else SMS when there is a phone; else none."""
    if has_email and (preferred == "email" or not has_phone):
        return "email"
    return "sms" if has_phone else None
