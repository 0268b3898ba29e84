"""Phone numbers of every French territory, in every form people write them: read to the same E.164
number, of the right territory, stable when read again; anything else refused as ``InvalidPhone``."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from services.notifications.domain.contacts import FRENCH_REGIONS, InvalidPhone, choose_channel, parse_phone

# Region → country code, checked against libphonenumber's metadata below.
COUNTRY_CODES = {
    "FR": 33, "GP": 590, "BL": 590, "MF": 590, "GF": 594, "MQ": 596, "RE": 262, "YT": 262, "PM": 508,
    "WF": 681, "PF": 689, "NC": 687,
}  # fmt: skip
# The territories whose numbers are written nationally with a leading 0 (the others have none).
WITH_TRUNK_ZERO = ("FR", "GP", "BL", "MF", "GF", "MQ", "RE", "YT", "PM")
# libphonenumber answers GP for the mobile ranges Guadeloupe shares with Saint-Martin and Saint-Barthélemy.
MOBILE_REGION = {region: region for region in FRENCH_REGIONS} | {"BL": "GP", "MF": "GP"}
SEPARATORS = st.sampled_from(["", " ", ".", "-", "\u00a0", " - "])
PROPERTY = settings(max_examples=150, deadline=None)  # drawing from the ranges' regexes takes ~20 ms


def test_every_french_territory_is_known_with_its_country_code():
    assert set(FRENCH_REGIONS) == set(COUNTRY_CODES)
    assert {region: phonenumbers.country_code_for_region(region) for region in FRENCH_REGIONS} == COUNTRY_CODES


@st.composite
def numbers(
    draw: st.DrawFn, kind: int, regions: tuple[str, ...] = FRENCH_REGIONS
) -> tuple[str, phonenumbers.PhoneNumber]:
    """A region and a valid number of it of that kind, drawn from the whole of its ranges in the metadata."""
    region = draw(st.sampled_from(regions))
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    assert metadata is not None
    ranges = metadata.mobile if kind == PhoneNumberType.MOBILE else metadata.fixed_line
    assert ranges is not None
    national = draw(st.from_regex(str(ranges.national_number_pattern), fullmatch=True).filter(str.isdigit))
    number = phonenumbers.parse(f"+{COUNTRY_CODES[region]}{national}")
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) != kind:
        # a range's pattern is wider than its possible lengths: take the example instead
        example = phonenumbers.example_number_for_type(region, kind)
        assert example is not None
        number = example
    return region, number


def _grouped(draw: st.DrawFn, digits: str) -> str:
    """Digits in twos (the French way), threes or not at all, with one separator throughout."""
    size = draw(st.sampled_from([2, 3, len(digits) or 1]))
    head = len(digits) % size
    groups = ([digits[:head]] if head else []) + [digits[i : i + size] for i in range(head, len(digits), size)]
    return draw(SEPARATORS).join(groups)


@st.composite
def written(draw: st.DrawFn, number: phonenumbers.PhoneNumber, region: str) -> tuple[str, str]:
    """How someone writes ``number`` (of ``region``), and the region it is read in."""
    national = str(number.national_number)
    code = str(number.country_code)
    forms = [
        (f"+{code} {_grouped(draw, national)}", draw(st.sampled_from(["FR", region]))),
        (f"00{code}{draw(SEPARATORS)}{_grouped(draw, national)}", draw(st.sampled_from(["FR", region]))),
        (phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL), "FR"),
    ]
    if region in WITH_TRUNK_ZERO:
        forms.append((_grouped(draw, f"0{national}"), region))
        forms.append((f"+{code} (0){_grouped(draw, national)}", "FR"))
    else:
        forms.append((_grouped(draw, national), region))
    text, read_in = draw(st.sampled_from(forms))
    return f"{draw(st.sampled_from(['', ' ']))}{text}{draw(st.sampled_from(['', ' ']))}", read_in


@PROPERTY
@given(numbers(PhoneNumberType.MOBILE), st.data())
def test_a_mobile_of_any_territory_is_read_to_its_e164_in_any_writing(drawn, data):
    region, number = drawn
    text, read_in = data.draw(written(number, region))
    phone = parse_phone(text, read_in)
    assert phone.e164 == phonenumbers.format_number(number, PhoneNumberFormat.E164)
    assert phone.e164.startswith(f"+{COUNTRY_CODES[region]}")
    assert (phone.region, phone.mobile) == (MOBILE_REGION[region], True)
    assert phonenumbers.is_valid_number(phonenumbers.parse(phone.e164))


@PROPERTY
@given(numbers(PhoneNumberType.MOBILE, WITH_TRUNK_ZERO), SEPARATORS)
def test_a_mobile_written_with_its_zero_is_found_from_mainland_france(drawn, separator):
    """The usager's territory need not be known for a mobile: no mobile range of one is valid in another."""
    region, number = drawn
    phone = parse_phone(separator.join(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL).split()))
    assert phone.e164 == phonenumbers.format_number(number, PhoneNumberFormat.E164)
    assert (phone.region, phone.mobile) == (MOBILE_REGION[region], True)


@PROPERTY
@given(numbers(PhoneNumberType.MOBILE) | numbers(PhoneNumberType.FIXED_LINE), st.sampled_from(FRENCH_REGIONS))
def test_a_number_read_again_from_its_e164_is_the_same_in_any_region(drawn, read_in):
    region, number = drawn
    phone = parse_phone(phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL), region)
    assert parse_phone(phone.e164) == phone
    assert parse_phone(phone.e164, read_in) == phone


@PROPERTY
@given(numbers(PhoneNumberType.FIXED_LINE), st.data())
def test_a_landline_of_its_territory_is_read_but_cannot_take_an_sms(drawn, data):
    region, number = drawn
    text, read_in = data.draw(written(number, region))
    phone = parse_phone(text, read_in)
    assert phone.e164 == phonenumbers.format_number(number, PhoneNumberFormat.E164)
    assert not phone.mobile
    with pytest.raises(InvalidPhone, match="not a mobile"):
        choose_channel(phone, None, "sms")
    assert choose_channel(phone, "usager@example.fr", "email") == "email"


@PROPERTY
@given(numbers(PhoneNumberType.MOBILE), st.sampled_from(["too long", "too short"]), st.sampled_from(FRENCH_REGIONS))
def test_a_mobile_with_a_digit_too_many_or_too_few_is_refused(drawn, change, read_in):
    _, number = drawn
    national = str(number.national_number)
    digits = national + "7" if change == "too long" else national[:-1]
    for text in (f"+{number.country_code} {digits}", f"00{number.country_code}{digits}"):
        with pytest.raises(InvalidPhone) as refused:
            parse_phone(text, read_in, field="usager.phone")
        assert refused.value.field == "usager.phone"


@settings(max_examples=1000, deadline=None)
@given(
    st.text(alphabet="0123456789 +.-()/\u00a0\u202f", max_size=45) | st.text(max_size=45),
    st.sampled_from(FRENCH_REGIONS),
)
def test_anything_is_a_valid_number_or_refused_as_invalid_phone(text, region):
    try:
        phone = parse_phone(text, region)
    except InvalidPhone:  # any other exception fails the test
        return
    number = phonenumbers.parse(phone.e164)
    assert phonenumbers.is_valid_number(number)
    assert phone.mobile == (phonenumbers.number_type(number) == PhoneNumberType.MOBILE)
    assert parse_phone(phone.e164, region) == phone
