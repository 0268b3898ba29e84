"""Reaching an usager: phone numbers of France and its overseas territories, e-mail, the channel rule."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from services.notifications.domain.contacts import (
    FRENCH_REGIONS,
    InvalidContact,
    InvalidEmail,
    InvalidPhone,
    NoContact,
    PhoneNumber,
    choose_channel,
    parse_email,
    parse_phone,
)

MOBILE = PhoneNumber(e164="+33612345678", region="FR", mobile=True)
LANDLINE = PhoneNumber(e164="+33145678901", region="FR", mobile=False)


@pytest.mark.parametrize(
    "text",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "0033 6 12 34 56 78",
        " 06 12 34 56 78 ",
    ],
)
def test_a_mainland_mobile_is_read_in_every_usual_writing(text):
    assert parse_phone(text) == PhoneNumber(e164="+33612345678", region="FR", mobile=True)


def test_a_mainland_07_mobile_is_a_mobile():
    assert parse_phone("07 51 23 45 67") == PhoneNumber(e164="+33751234567", region="FR", mobile=True)


def test_a_mainland_landline_is_valid_but_not_a_mobile():
    assert parse_phone("01 45 67 89 01") == PhoneNumber(e164="+33145678901", region="FR", mobile=False)


def test_a_voip_number_is_not_a_mobile():
    assert not parse_phone("09 39 12 34 56").mobile


@pytest.mark.parametrize(
    ("text", "e164", "region"),
    [
        ("0690 12 34 56", "+590690123456", "GP"),  # Guadeloupe
        ("0691 22 34 56", "+590691223456", "GP"),  # Guadeloupe, the 0691 22–35 block
        ("0694 12 34 56", "+594694123456", "GF"),  # Guyane
        ("0696 12 34 56", "+596696123456", "MQ"),  # Martinique
        ("0697 12 34 56", "+596697123456", "MQ"),  # Martinique
        ("0692 12 34 56", "+262692123456", "RE"),  # La Réunion
        ("0693 12 34 56", "+262693123456", "RE"),  # La Réunion
        ("0639 01 23 45", "+262639012345", "YT"),  # Mayotte
    ],
)
def test_an_overseas_mobile_written_nationally_belongs_to_its_territory(text, e164, region):
    assert parse_phone(text) == PhoneNumber(e164=e164, region=region, mobile=True)


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("+590 690 12 34 56", "GP"),
        ("+594 694 12 34 56", "GF"),
        ("+596 696 12 34 56", "MQ"),
        ("+262 692 12 34 56", "RE"),
        ("+262 639 01 23 45", "YT"),
        ("00590 690 12 34 56", "GP"),
        ("+508 55 12 34", "PM"),
        ("+687 75 12 34", "NC"),
        ("+689 87 12 34 56", "PF"),
        ("+681 82 12 34", "WF"),
    ],
)
def test_an_overseas_mobile_written_internationally_belongs_to_its_territory(text, region):
    phone = parse_phone(text)
    assert (phone.region, phone.mobile) == (region, True)


def test_the_shared_guadeloupe_mobile_ranges_answer_gp_even_from_saint_martin():
    assert parse_phone("0690 00 12 34", region="MF").region == "GP"


def test_a_saint_barthelemy_landline_keeps_its_region():
    assert parse_phone("0590 27 12 34") == PhoneNumber(e164="+590590271234", region="BL", mobile=False)


def test_a_short_number_is_read_in_the_given_region():
    assert parse_phone("75 12 34", region="NC") == PhoneNumber(e164="+687751234", region="NC", mobile=True)


def test_a_short_number_valid_in_several_territories_is_refused_as_ambiguous():
    with pytest.raises(InvalidPhone, match="several territories"):
        parse_phone("75 12 34")


def test_an_overseas_mobile_behind_the_mainland_prefix_is_refused():
    with pytest.raises(InvalidPhone) as refused:
        parse_phone("+33 690 12 34 56")
    assert refused.value.field == "phone"


def test_plus_269_is_the_comoros_not_mayotte():
    assert parse_phone("+269 321 23 45").region == "KM"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "06 12 34 56",  # too short
        "06 12 34 56 78 90",  # too long
        "07 01 23 45 67",  # 070 is not allocated
        "0639 12 34 56",  # outside Mayotte's allocated 0639 blocks
        "06 12 34 56 7A",  # letters are not read as a keypad
        "06 12 34 56 78 ext 12",
        "+33 690 12 34 56",
        "0033 1",
        "+",
        "++33612345678",
    ],
)
def test_what_is_not_a_phone_number_is_refused_naming_the_field(text):
    with pytest.raises(InvalidPhone) as refused:
        parse_phone(text, field="usager.phone")
    assert refused.value.field == "usager.phone"


REFUSED = [
    "06 12 34 56",
    "06 12 34 56 78 90",
    "07 01 23 45 67",
    "0639 12 34 56",
    "06 12 34 56 7A",
    "+33 690 12 34 56",
    "75 12 34",
    "+1 234",
    "0987654321098765",
]


@pytest.mark.parametrize("text", REFUSED)
def test_no_refusal_repeats_a_digit_of_the_number(text):
    with pytest.raises(InvalidPhone) as refused:
        parse_phone(text)
    digits = {character for character in text if character.isdigit()}
    for said in (str(refused.value), repr(refused.value), refused.value.reason):
        assert not digits & set(said), said


@given(st.text(alphabet="0123456789 +.-", min_size=1, max_size=20))
def test_no_refusal_of_any_input_carries_a_digit(text):
    said = ""
    try:
        parse_phone(text)
    except InvalidPhone as refused:
        said = f"{refused} {refused!r}"
    assert not any(character.isdigit() for character in said)


def test_a_phone_numbers_repr_does_not_show_the_number():
    assert "612345678" not in repr(parse_phone("06 12 34 56 78"))


def test_an_unknown_region_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown region"):
        parse_phone("06 12 34 56 78", region="XX")


# The territories that use the French national plan: a number written with its leading 0,
# as usagers write it, must be recognised from the default region FR.
NATIONAL_PLAN_REGIONS = ("FR", "GP", "GF", "MQ", "RE", "YT", "BL", "MF")
# libphonenumber gives GP for the mobile ranges Guadeloupe shares with Saint-Martin and Saint-Barthélemy.
MOBILE_REGION = {region: region for region in FRENCH_REGIONS} | {"BL": "GP", "MF": "GP"}


@st.composite
def territory_mobiles(draw, regions=FRENCH_REGIONS):
    """A region and a valid mobile of it: the example mobile with its last four digits drawn."""
    region = draw(st.sampled_from(regions))
    example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
    assert example is not None
    national = str(example.national_number)
    subscriber = draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    number = phonenumbers.parse(f"+{example.country_code}{national[:-4]}{subscriber}")
    assume(phonenumbers.is_valid_number(number))
    return region, number


@given(territory_mobiles())
def test_every_territory_mobile_written_internationally_keeps_its_country_code_and_region(drawn):
    region, number = drawn
    phone = parse_phone(phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL))
    assert phone.e164.startswith(f"+{phonenumbers.country_code_for_region(region)}")
    assert (phone.region, phone.mobile) == (MOBILE_REGION[region], True)


@given(territory_mobiles(NATIONAL_PLAN_REGIONS))
def test_every_national_plan_mobile_written_with_its_zero_is_found_from_mainland_france(drawn):
    region, number = drawn
    phone = parse_phone(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    assert phone.e164 == phonenumbers.format_number(number, PhoneNumberFormat.E164)
    assert phone.e164.startswith(f"+{phonenumbers.country_code_for_region(region)}")
    assert (phone.region, phone.mobile) == (MOBILE_REGION[region], True)


@given(territory_mobiles())
def test_every_territory_mobile_written_nationally_is_read_in_its_own_region(drawn):
    region, number = drawn
    phone = parse_phone(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL), region=region)
    assert phone.e164 == phonenumbers.format_number(number, PhoneNumberFormat.E164)
    assert phone.region == MOBILE_REGION[region]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("marie.dupont@laposte.net", "marie.dupont@laposte.net"),
        ("  Jean@Orange.FR ", "Jean@orange.fr"),
        ("a+b@mairie.saint-denis.re", "a+b@mairie.saint-denis.re"),
    ],
)
def test_an_email_address_is_trimmed_and_its_domain_lowered(text, address):
    assert parse_email(text) == address


@pytest.mark.parametrize(
    "text",
    [
        "",
        "marie",
        "marie@",
        "@laposte.net",
        "marie@laposte",
        "marie@@laposte.net",
        "marie@la poste.net",
        "marie@laposte.",
        "marie@.net",
        "marie@laposte..net",
        "a@b@c.fr",
    ],
)
def test_what_is_not_an_email_address_is_refused_naming_the_field(text):
    with pytest.raises(InvalidEmail) as refused:
        parse_email(text)
    assert refused.value.field == "email"
    assert "marie" not in str(refused.value)


def test_email_is_chosen_when_the_usager_has_one_and_chose_it():
    assert choose_channel(MOBILE, "marie@laposte.net", "email") == "email"


def test_sms_is_chosen_when_the_usager_chose_it_even_with_an_email():
    assert choose_channel(MOBILE, "marie@laposte.net", "sms") == "sms"


def test_sms_is_used_when_the_usager_chose_email_but_has_none():
    assert choose_channel(MOBILE, None, "email") == "sms"


def test_email_is_used_when_the_usager_chose_sms_but_has_no_phone():
    assert choose_channel(None, "marie@laposte.net", "sms") == "email"


def test_sms_to_a_landline_is_refused():
    with pytest.raises(InvalidPhone, match="not a mobile: an SMS cannot reach it") as refused:
        choose_channel(LANDLINE, "marie@laposte.net", "sms")
    assert refused.value.field == "phone"


def test_sms_forced_by_no_email_to_a_landline_is_refused():
    with pytest.raises(InvalidPhone, match="not a mobile"):
        choose_channel(LANDLINE, None, "email")


def test_a_landline_does_not_matter_when_the_email_is_chosen():
    assert choose_channel(LANDLINE, "marie@laposte.net", "email") == "email"


def test_an_usager_with_no_contact_cannot_be_reached():
    with pytest.raises(NoContact) as refused:
        choose_channel(None, None, "sms")
    assert isinstance(refused.value, InvalidContact)
    assert "mobile phone number or an e-mail address" in refused.value.reason
