"""Opening hours of a lieu: the OSM subset and the scheduler's queries (the mairies' hours: test_mairie_horaires.py)."""

from __future__ import annotations

import random
from datetime import date, time, timedelta

import pytest

from shared.opening_hours import (
    ALL_DAY,
    END_OF_DAY,
    MAX_DATE_RANGE_DAYS,
    InvalidOpeningHours,
    OpeningHours,
)

MO, TU, WE, TH, FR, SA, SU = range(7)
MONDAY = date(2026, 11, 30)
CHRISTMAS = date(2026, 12, 25)  # a Friday


def t(text: str) -> time:
    return END_OF_DAY if text == "24:00" else time.fromisoformat(text)


def spans(text: str) -> tuple[tuple[time, time], ...]:
    return tuple((t(span.split("-")[0]), t(span.split("-")[1])) for span in text.split(",")) if text else ()


OFFICE = spans("08:30-12:00,13:30-17:00")


# parsing each construct


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mo 09:00-12:00", OpeningHours.of({MO: spans("09:00-12:00")})),
        ("Mo-Fr 08:30-12:00,13:30-17:00", OpeningHours.of(dict.fromkeys(range(5), OFFICE))),
        ("Mo,We,Fr 14:00-18:00", OpeningHours.of(dict.fromkeys((MO, WE, FR), spans("14:00-18:00")))),
        ("Mo-We,Fr 14:00-18:00", OpeningHours.of(dict.fromkeys((MO, TU, WE, FR), spans("14:00-18:00")))),
        ("Sa-Mo 10:00-12:00", OpeningHours.of(dict.fromkeys((SA, SU, MO), spans("10:00-12:00")))),
        ("10:00-12:00", OpeningHours.of(dict.fromkeys(range(7), spans("10:00-12:00")))),
        ("Tu", OpeningHours.of({TU: ALL_DAY})),
        ("Mo-Fr 09:00-12:00; Sa off", OpeningHours.of(dict.fromkeys(range(5), spans("09:00-12:00")))),
        ("Mo-Fr 09:00-12:00; We closed", OpeningHours.of(dict.fromkeys((MO, TU, TH, FR), spans("09:00-12:00")))),
        ("off", OpeningHours.closed()),
        ("closed", OpeningHours.closed()),
        ("24/7", OpeningHours.always()),
        ("Mo-Su 00:00-24:00", OpeningHours.always()),
        ("Fr 18:00-24:00", OpeningHours.of({FR: [(time(18), END_OF_DAY)]})),
        ("PH off", OpeningHours(closed_on_public_holidays=True)),
        ("Mo 09:00-12:00; PH closed", OpeningHours.of({MO: spans("09:00-12:00")}, closed_on_public_holidays=True)),
        ("2026 Dec 25 off", OpeningHours.of({}, {CHRISTMAS: []})),
        ("2026 Dec 24 09:00-12:00", OpeningHours.of({}, {date(2026, 12, 24): spans("09:00-12:00")})),
        ("2026 Dec 24", OpeningHours.of({}, {date(2026, 12, 24): ALL_DAY})),
        (
            "2026 Aug 01-2026 Aug 03 off",
            OpeningHours.of({}, {date(2026, 8, day): () for day in (1, 2, 3)}),
        ),
        ("2026 Aug 01-03 off", OpeningHours.of({}, {date(2026, 8, day): () for day in (1, 2, 3)})),
        ("2026 Jan 31-Feb 01 off", OpeningHours.of({}, {date(2026, 1, 31): [], date(2026, 2, 1): []})),
        ("2026 Dec 31-2027 Jan 01 off", OpeningHours.of({}, {date(2026, 12, 31): [], date(2027, 1, 1): []})),
    ],
)
def test_each_construct_of_the_osm_subset_parses(text, expected):
    assert OpeningHours.parse(text) == expected


def test_spaces_around_separators_and_empty_rules_are_tolerated():
    assert OpeningHours.parse(" Mo - Fr  08:30 - 12:00 , 13:30-17:00 ;; Sa 09:00-12:00; ") == OpeningHours.parse(
        "Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00"
    )


def test_overlapping_and_touching_intervals_of_a_day_are_merged():
    assert OpeningHours.parse("Mo 13:00-17:00,08:00-12:00,11:00-12:30").weekly[MO] == spans("08:00-12:30,13:00-17:00")
    assert OpeningHours.parse("Mo 08:00-12:00,12:00-14:00").weekly[MO] == spans("08:00-14:00")
    assert OpeningHours.of({MO: spans("10:00-11:00,09:00-18:00")}).to_osm() == "Mo 09:00-18:00"


# canonical form


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (
            "Sa 09:00-12:00; Mo-Fr 08:30-12:00,13:30-17:00; PH off; 2026 Dec 25 off",
            "Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00; PH off; 2026 Dec 25 off",
        ),
        ("Mo,Tu,We,Fr 09:00-12:00", "Mo-We,Fr 09:00-12:00"),
        ("Mo,Tu 09:00-12:00; Th,Fr,Sa,Su 09:00-12:00", "Mo,Tu,Th-Su 09:00-12:00"),
        ("Su,Mo 9:00-12:00", "Mo,Su 09:00-12:00"),
        ("Mo-Su 00:00-24:00", "24/7"),
        ("Mo-Sa 00:00-24:00", "Mo-Sa 00:00-24:00"),
        ("Mo-Fr 08:00-18:00; We 08:00-12:00", "Mo,Tu,Th,Fr 08:00-18:00; We 08:00-12:00"),
        ("Mo off", "off"),
        ("2026 Aug 03 off; 2026 Aug 01-2026 Aug 02 off", "2026 Aug 01-03 off"),
        ("2026 Aug 30-Sep 02 10:00-12:00", "2026 Aug 30-Sep 02 10:00-12:00"),
        ("2026 Dec 24-2027 Jan 2 off", "2026 Dec 24-2027 Jan 02 off"),
        ("2026 Dec 24 09:00-12:00; 2026 Dec 25 off", "2026 Dec 24 09:00-12:00; 2026 Dec 25 off"),
    ],
)
def test_to_osm_writes_the_canonical_form(text, canonical):
    oh = OpeningHours.parse(text)
    assert oh.to_osm() == canonical
    assert str(oh) == canonical
    assert OpeningHours.parse(canonical) == oh


def test_the_brief_example_is_its_own_canonical_form():
    text = "Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00; PH off; 2026 Dec 25 off"
    assert OpeningHours.parse(text).to_osm() == text
    assert repr(OpeningHours.parse(text)) == f"OpeningHours.parse({text!r})"


def test_end_of_day_is_time_max_and_written_back_as_24_00():
    oh = OpeningHours.parse("Sa 20:00-24:00")
    assert oh.weekly[SA] == ((time(20), time.max),)
    assert oh.to_osm() == "Sa 20:00-24:00"
    assert oh.covers(MONDAY + timedelta(days=SA), time(22), time(23, 59))


# errors


@pytest.mark.parametrize(
    ("text", "message", "part"),
    [
        ("Mo-Fr 25:00-26:00", "invalid time '25:00' in rule 'Mo-Fr 25:00-26:00'", "25:00"),
        ("Mo 09:60-10:00", "invalid time '09:60'", "09:60"),
        ("Mo 24:00-24:00", "invalid time '24:00'", "24:00"),
        ("Xy 09:00-10:00", "unknown weekday 'Xy' in rule 'Xy 09:00-10:00'", "Xy"),
        ("Mo-Xy 09:00-10:00", "unknown weekday 'Xy'", "Xy"),
        ("Mo 12:00-09:00", "time span '12:00-09:00' must end after it starts", "12:00-09:00"),
        ("Mo 22:00-02:00", "not past midnight", "22:00-02:00"),
        ("Mo 09:00-09:00", "must end after it starts", "09:00-09:00"),
        ("week 1-53/2 Sa 09:00-12:00", "unsupported selector 'week 1-53/2 Sa'", "week 1-53/2 Sa"),
        ("Jan-Mar Mo 09:00-12:00", "unsupported selector 'Jan-Mar Mo'", "Jan-Mar Mo"),
        ("Dec 25 off", "unsupported selector 'Dec 25'", "Dec 25"),
        ("Mo[1] 09:00-12:00", "unsupported selector 'Mo[1]'", "Mo[1]"),
        ("SH off", "unsupported selector 'SH'", "SH"),
        ("Mo-Fr,PH off", "unsupported selector 'Mo-Fr,PH'", "Mo-Fr,PH"),
        ("Mo-We-Fr 09:00-12:00", "unsupported selector 'Mo-We-Fr'", "Mo-We-Fr"),
        ("garbage", "unsupported selector 'garbage'", "garbage"),
        ("¯\\_(ツ)_/¯", "unsupported selector", "¯\\_(ツ)_/¯"),
        ("Mo sunrise-sunset", "unsupported rule: expected weekdays, then times or 'off'", "Mo sunrise-sunset"),
        ('Mo 09:00-12:00 "sur rendez-vous"', "unsupported rule", 'Mo 09:00-12:00 "sur rendez-vous"'),
        ("Mo 10:00+", "invalid time span '10:00+'", "10:00+"),
        ("Mo 09:00-12:00,", "invalid time span ''", ""),
        ("Mo 9h-12h", "unsupported rule", "Mo 9h-12h"),
        ("PH 09:00-12:00", "unsupported public holiday rule (only 'PH off' is supported)", "PH 09:00-12:00"),
        ("2026 Feb 30 off", "invalid date '2026 Feb 30'", "2026 Feb 30"),
        ("2026 Foo 01 off", "unknown month 'Foo'", "Foo"),
        ("2026 Aug 15-01 off", "date range ends before it starts", "2026 Aug 15-01 off"),
        (
            "2026 Jan 01-2027 Jan 02 off",
            f"date range longer than {MAX_DATE_RANGE_DAYS} days",
            "2026 Jan 01-2027 Jan 02 off",
        ),
        ("2026 Dec 25 25:00-26:00", "invalid time '25:00'", "25:00"),
        ("", "empty opening hours", ""),
        (" ; ", "empty opening hours", " ; "),
    ],
)
def test_bad_input_is_refused_naming_the_offending_part(text, message, part):
    with pytest.raises(InvalidOpeningHours) as refused:
        OpeningHours.parse(text)
    assert message in str(refused.value)
    assert refused.value.part == part
    assert isinstance(refused.value, ValueError)


def test_rules_that_would_reopen_only_some_public_holidays_are_refused():
    # OSM: a later rule overrides 'PH off' on the holidays it selects, which a single flag cannot hold
    with pytest.raises(InvalidOpeningHours, match="'PH off' must come after the weekday rules"):
        OpeningHours.parse("PH off; Mo-Fr 09:00-12:00")
    with pytest.raises(InvalidOpeningHours, match="'PH off' must come before the dated rules that open"):
        OpeningHours.parse("2026 Dec 24 09:00-12:00; PH off")
    assert OpeningHours.parse("2026 Dec 25 off; PH off") == OpeningHours.parse("PH off; 2026 Dec 25 off")


def test_non_text_is_refused_with_the_domain_error():
    with pytest.raises(InvalidOpeningHours, match="must be text"):
        OpeningHours.parse(None)  # type: ignore[arg-type]


def test_random_text_only_ever_parses_or_raises_the_domain_error():
    pieces = ["Mo", "Fr", "Su", "PH", "SH", "off", "24/7", "2026", "Dec", "25", "09:00", "24:00", "-", ",", ";"]
    pieces += [" ", " ", "12:00-14:00", "Xy", "week", "/", "+", ":", "99", "0000", "Feb", "30", "[1]", '"']
    rng = random.Random(20261130)
    parsed = 0
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        try:
            oh = OpeningHours.parse(text)
        except InvalidOpeningHours:
            continue
        parsed += 1
        assert OpeningHours.parse(oh.to_osm()) == oh, text
    assert parsed > 50


# constructing values directly


def test_the_constructor_refuses_what_osm_cannot_say():
    with pytest.raises(InvalidOpeningHours, match="must end after it starts"):
        OpeningHours.of({MO: [(time(12), time(9))]})
    with pytest.raises(InvalidOpeningHours, match="whole minute"):
        OpeningHours.of({MO: [(time(9, 0, 30), time(12))]})
    with pytest.raises(InvalidOpeningHours, match="weekdays are 0"):
        OpeningHours.of({7: [(time(9), time(12))]})
    with pytest.raises(InvalidOpeningHours, match="7 days"):
        OpeningHours(((),) * 6)
    with pytest.raises(InvalidOpeningHours, match="date twice"):
        OpeningHours(exceptions=((CHRISTMAS, ()), (CHRISTMAS, ALL_DAY)))


def test_values_are_hashable_and_compare_by_content():
    assert OpeningHours.parse("Mo-Fr 09:00-12:00") == OpeningHours.of(dict.fromkeys(range(5), spans("09:00-12:00")))
    assert len({OpeningHours.always(), OpeningHours.parse("24/7"), OpeningHours.closed()}) == 2


# override semantics


def test_a_later_rule_overrides_earlier_ones_for_the_days_it_selects():
    oh = OpeningHours.parse("Mo-Fr 08:00-18:00; We 08:00-12:00; Fr off")
    assert oh.weekly[MO] == spans("08:00-18:00")
    assert oh.weekly[WE] == spans("08:00-12:00")
    assert oh.weekly[FR] == ()
    assert OpeningHours.parse("Mo 08:00-10:00; Mo 14:00-16:00").weekly[MO] == spans("14:00-16:00")
    assert OpeningHours.parse("24/7; Su off").weekly == (ALL_DAY,) * 6 + ((),)
    assert OpeningHours.parse("Mo-Fr 09:00-12:00; off") == OpeningHours.closed()


def test_a_later_weekday_rule_overrides_earlier_dated_exceptions_on_its_weekdays():
    oh = OpeningHours.parse("2026 Dec 25 off; 2026 Dec 26 off; Mo-Fr 09:00-12:00")
    assert oh.exceptions == ((date(2026, 12, 26), ()),)  # Christmas is a Friday, the 26th a Saturday
    assert oh.intervals_on(CHRISTMAS) == spans("09:00-12:00")


def test_a_later_dated_rule_overrides_the_week_and_earlier_dated_rules():
    oh = OpeningHours.parse("Mo-Fr 09:00-12:00; 2026 Dec 21-31 off; 2026 Dec 24 09:00-11:00")
    assert oh.intervals_on(date(2026, 12, 23)) == ()
    assert oh.intervals_on(date(2026, 12, 24)) == spans("09:00-11:00")
    assert oh.to_osm() == "Mo-Fr 09:00-12:00; 2026 Dec 21-23 off; 2026 Dec 24 09:00-11:00; 2026 Dec 25-31 off"


# queries


def test_intervals_on_uses_the_exception_then_public_holidays_then_the_week():
    oh = OpeningHours.parse("Mo-Fr 08:30-12:00,13:30-17:00; PH off; 2026 Dec 24 09:00-12:00; 2026 Dec 28 off")
    assert oh.intervals_on(MONDAY) == tuple(OFFICE)
    assert oh.intervals_on(MONDAY, public_holiday=True) == ()
    assert oh.intervals_on(MONDAY + timedelta(days=SA)) == ()
    assert oh.intervals_on(date(2026, 12, 24)) == spans("09:00-12:00")
    assert oh.intervals_on(date(2026, 12, 24), public_holiday=True) == spans("09:00-12:00")
    assert oh.intervals_on(date(2026, 12, 28)) == ()


def test_without_ph_off_a_public_holiday_follows_the_week():
    oh = OpeningHours.parse("Mo-Fr 09:00-12:00")
    assert oh.intervals_on(CHRISTMAS, public_holiday=True) == spans("09:00-12:00")


def test_covers_needs_the_whole_block_inside_one_open_interval():
    oh = OpeningHours.parse("Mo 08:30-12:00,13:30-17:00; PH off; 2026 Dec 07 14:00-16:00")
    assert oh.covers(MONDAY, time(8, 30), time(12))
    assert oh.covers(MONDAY, time(9), time(11))
    assert oh.covers(MONDAY, time(14), time(17))
    assert not oh.covers(MONDAY, time(8), time(9))
    assert not oh.covers(MONDAY, time(11), time(14))  # straddles the lunch break
    assert not oh.covers(MONDAY, time(16), time(17, 30))
    assert not oh.covers(MONDAY, time(9), time(11), public_holiday=True)
    assert not oh.covers(MONDAY + timedelta(days=1), time(9), time(11))
    assert not oh.covers(date(2026, 12, 7), time(9), time(11))
    assert oh.covers(date(2026, 12, 7), time(14), time(16))


def test_covers_refuses_an_empty_block():
    with pytest.raises(ValueError, match="must be before"):
        OpeningHours.always().covers(MONDAY, time(10), time(10))


def test_always_and_closed():
    assert OpeningHours.always().covers(MONDAY, time(0), time(23, 59), public_holiday=True)
    assert OpeningHours.always().to_osm() == "24/7"
    assert OpeningHours.closed().intervals_on(MONDAY) == ()
    assert OpeningHours.closed().to_osm() == "off"
    assert OpeningHours.closed() == OpeningHours()


# round trip on generated values


def random_day(rng: random.Random) -> tuple[tuple[time, time], ...]:
    bounds = sorted(rng.sample(range(24 * 60 + 1), 2 * rng.randint(0, 3)))
    moments = [END_OF_DAY if m == 24 * 60 else time(m // 60, m % 60) for m in bounds]
    return tuple(zip(moments[::2], moments[1::2], strict=True))


def random_opening_hours(rng: random.Random) -> OpeningHours:
    if rng.random() < 0.05:
        weekly = {day: ALL_DAY for day in range(7)}
    else:
        shapes = [random_day(rng) for _ in range(rng.randint(1, 4))] + [ALL_DAY]
        weekly = {day: rng.choice(shapes) for day in range(7) if rng.random() < 0.8}
    exceptions: dict[date, tuple[tuple[time, time], ...]] = {}
    for _ in range(rng.randint(0, 4)):
        first = date(2026, 1, 1) + timedelta(days=rng.randint(-400, 800))
        intervals = rng.choice([(), random_day(rng), ALL_DAY])
        for offset in range(rng.choice([1, 1, 1, 2, 5, 40, 400])):
            exceptions[first + timedelta(days=offset)] = intervals
    return OpeningHours.of(weekly, exceptions, closed_on_public_holidays=rng.random() < 0.5)


def test_every_generated_value_round_trips_through_its_osm_form():
    rng = random.Random(42)
    for _ in range(2000):
        oh = random_opening_hours(rng)
        text = oh.to_osm()
        assert OpeningHours.parse(text) == oh, text
        assert OpeningHours.parse(text).to_osm() == text
