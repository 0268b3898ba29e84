"""Quiet hours: no message at night in the usager's territory, shifted rather than dropped."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifications.domain.quiet_hours import QuietHours, is_quiet, next_allowed, reminder_due

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC
NIGHT = QuietHours()  # 20:00 → 09:00
LUNCH = QuietHours(start=dt.time(12, 0), end=dt.time(14, 0))
ZONES = [
    "Europe/Paris",
    "America/Cayenne",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Miquelon",
    "Indian/Reunion",
    "Indian/Mayotte",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "Pacific/Wallis",
]


def paris(year: int, month: int, day: int, hour: int, minute: int = 0, fold: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS, fold=fold)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def instant(moment: dt.datetime) -> dt.datetime:
    """The moment in UTC: same-zone arithmetic is wall-clock, and a moment of a repeated hour equals none of another zone."""
    return moment.astimezone(UTC)


def test_the_default_quiet_hours_are_eight_in_the_evening_to_nine_in_the_morning():
    assert (NIGHT.start, NIGHT.end, NIGHT.wraps_midnight) == (dt.time(20), dt.time(9), True)


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        (dt.time(19, 59), False),
        (dt.time(20), True),
        (dt.time(23, 59), True),
        (dt.time(0), True),
        (dt.time(8, 59), True),
        (dt.time(9), False),
        (dt.time(14), False),
    ],
)
def test_quiet_hours_wrap_midnight_start_included_end_excluded(local, quiet):
    assert is_quiet(paris(2026, 1, 15, local.hour, local.minute), PARIS, NIGHT) is quiet


@pytest.mark.parametrize(("hour", "quiet"), [(11, False), (12, True), (13, True), (14, False), (22, False), (3, False)])
def test_a_window_within_the_day_does_not_wrap(hour, quiet):
    assert is_quiet(paris(2026, 1, 15, hour), PARIS, LUNCH) is quiet


def test_a_moment_outside_quiet_hours_is_allowed_as_it_is():
    assert next_allowed(paris(2026, 1, 15, 14, 30), PARIS, NIGHT) == paris(2026, 1, 15, 14, 30)


def test_an_evening_message_is_shifted_to_nine_the_next_morning():
    assert next_allowed(paris(2026, 1, 15, 21, 0), PARIS, NIGHT) == paris(2026, 1, 16, 9, 0)


def test_an_early_morning_message_is_shifted_to_nine_the_same_morning():
    assert next_allowed(paris(2026, 1, 16, 6, 15), PARIS, NIGHT) == paris(2026, 1, 16, 9, 0)


def test_a_lunch_message_waits_for_the_end_of_lunch():
    assert next_allowed(paris(2026, 1, 16, 12, 40), PARIS, LUNCH) == paris(2026, 1, 16, 14, 0)


def test_the_answer_is_in_the_territory_time_zone_whatever_the_moment_was_given_in():
    allowed = next_allowed(utc(2026, 1, 15, 20, 0), PARIS, NIGHT)
    assert (allowed.tzinfo, allowed.hour, allowed.day) == (PARIS, 9, 16)


def test_the_night_the_clocks_go_forward_the_quiet_period_ends_at_nine_summer_time():
    # 29 March 2026, last Sunday of March: 02:00 CET becomes 03:00 CEST; the night is an hour shorter.
    allowed = next_allowed(paris(2026, 3, 28, 22, 0), PARIS, NIGHT)
    assert instant(allowed) == utc(2026, 3, 29, 7, 0)
    assert (allowed.hour, allowed.utcoffset()) == (9, dt.timedelta(hours=2))
    assert instant(allowed) - instant(paris(2026, 3, 28, 22, 0)) == dt.timedelta(hours=10)


def test_the_night_the_clocks_go_back_the_quiet_period_ends_at_nine_winter_time():
    # 25 October 2026, last Sunday of October: 03:00 CEST becomes 02:00 CET; the night is an hour longer.
    allowed = next_allowed(paris(2026, 10, 24, 22, 0), PARIS, NIGHT)
    assert instant(allowed) == utc(2026, 10, 25, 8, 0)
    assert (allowed.hour, allowed.utcoffset()) == (9, dt.timedelta(hours=1))
    assert instant(allowed) - instant(paris(2026, 10, 24, 22, 0)) == dt.timedelta(hours=12)


@pytest.mark.parametrize("fold", [0, 1])
def test_a_message_in_the_repeated_hour_waits_for_nine(fold):
    assert instant(next_allowed(paris(2026, 10, 25, 2, 30, fold=fold), PARIS, NIGHT)) == utc(2026, 10, 25, 8, 0)


def test_a_quiet_end_the_clocks_jump_over_ends_when_they_jump():
    quiet = QuietHours(start=dt.time(22), end=dt.time(2, 30))  # 02:30 does not exist on 29 March 2026
    allowed = next_allowed(paris(2026, 3, 28, 23, 0), PARIS, quiet)
    assert instant(allowed) == utc(2026, 3, 29, 1, 0)
    assert (allowed.hour, allowed.minute) == (3, 0)


def test_a_quiet_end_that_happens_twice_ends_at_its_first_pass():
    quiet = QuietHours(start=dt.time(22), end=dt.time(2, 30))
    assert instant(next_allowed(paris(2026, 10, 24, 23, 0), PARIS, quiet)) == utc(2026, 10, 25, 0, 30)


def test_in_the_second_pass_of_a_repeated_hour_the_quiet_end_is_the_second_pass():
    quiet = QuietHours(start=dt.time(22), end=dt.time(2, 30))
    second_pass = paris(2026, 10, 25, 2, 10, fold=1)
    assert instant(second_pass) == utc(2026, 10, 25, 1, 10)
    assert instant(next_allowed(second_pass, PARIS, quiet)) == utc(2026, 10, 25, 1, 30)


def test_clocks_set_back_to_before_the_quiet_start_end_the_quiet_period():
    quiet = QuietHours(start=dt.time(2, 30), end=dt.time(6, 0))
    # 02:45 CEST, first pass; at 03:00 CEST the clocks read 02:00 CET, before the quiet hours start.
    allowed = next_allowed(paris(2026, 10, 25, 2, 45), PARIS, quiet)
    assert instant(allowed) == utc(2026, 10, 25, 1, 0)
    assert (allowed.hour, allowed.minute, allowed.fold) == (2, 0, 1)


@pytest.mark.parametrize(
    ("zone", "quiet", "allowed"),
    [
        # 1 June 2026, 19:00 UTC
        ("Europe/Paris", True, utc(2026, 6, 2, 7, 0)),  # 21:00 CEST
        ("America/Cayenne", False, utc(2026, 6, 1, 19, 0)),  # 16:00
        ("America/Guadeloupe", False, utc(2026, 6, 1, 19, 0)),  # 15:00
        ("America/Martinique", False, utc(2026, 6, 1, 19, 0)),  # 15:00
        ("Indian/Reunion", True, utc(2026, 6, 2, 5, 0)),  # 23:00
        ("Indian/Mayotte", True, utc(2026, 6, 2, 6, 0)),  # 22:00
        ("Pacific/Noumea", True, utc(2026, 6, 1, 22, 0)),  # 06:00 the next day
        ("Pacific/Tahiti", False, utc(2026, 6, 1, 19, 0)),  # 09:00
    ],
)
def test_quiet_hours_are_those_of_the_usagers_territory(zone, quiet, allowed):
    moment = utc(2026, 6, 1, 19, 0)
    assert is_quiet(moment, ZoneInfo(zone), NIGHT) is quiet
    assert instant(next_allowed(moment, ZoneInfo(zone), NIGHT)) == allowed


def test_quiet_hours_are_configurable():
    late = QuietHours(start=dt.time(21, 30), end=dt.time(8, 0))
    assert next_allowed(paris(2026, 1, 15, 21, 0), PARIS, late) == paris(2026, 1, 15, 21, 0)
    assert next_allowed(paris(2026, 1, 16, 7, 0), PARIS, late) == paris(2026, 1, 16, 8, 0)


def test_quiet_hours_that_start_and_end_together_are_refused():
    with pytest.raises(ValueError, match="different times"):
        QuietHours(start=dt.time(9), end=dt.time(9))


def test_quiet_hours_with_a_time_zone_are_refused():
    with pytest.raises(ValueError, match="without a time zone"):
        QuietHours(start=dt.time(20, tzinfo=UTC))


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        next_allowed(dt.datetime(2026, 1, 15, 21, 0), PARIS, NIGHT)


def test_a_reminder_the_day_before_goes_at_the_same_hour():
    assert reminder_due(paris(2026, 1, 16, 10, 0), dt.timedelta(days=1), PARIS, NIGHT) == paris(2026, 1, 15, 10, 0)


def test_a_reminder_due_in_the_night_goes_when_the_night_ends():
    assert reminder_due(paris(2026, 1, 16, 10, 0), dt.timedelta(hours=2), PARIS, NIGHT) == paris(2026, 1, 16, 9, 0)


def test_a_reminder_that_would_go_after_the_start_is_not_sent():
    assert reminder_due(paris(2026, 1, 16, 8, 30), dt.timedelta(hours=1), PARIS, NIGHT) is None


def test_a_reminder_that_would_go_at_the_start_is_not_sent():
    assert reminder_due(paris(2026, 1, 16, 9, 0), dt.timedelta(hours=3), PARIS, NIGHT) is None


def test_a_reminder_lead_is_elapsed_time_across_the_clock_change():
    # Sunday 29 March 2026 10:00 CEST is 08:00 UTC; 24 hours earlier is Saturday 09:00 CET.
    due = reminder_due(paris(2026, 3, 29, 10, 0), dt.timedelta(hours=24), PARIS, NIGHT)
    assert due is not None
    assert instant(due) == utc(2026, 3, 28, 8, 0)


def test_a_reminder_is_due_in_the_territory_local_time():
    # A Martinique permanence at 09:30 local (13:30 UTC); 2 hours before is 07:30 there: sent at 09:00.
    martinique = ZoneInfo("America/Martinique")
    due = reminder_due(utc(2026, 6, 2, 13, 30), dt.timedelta(hours=2), martinique, NIGHT)
    assert due is not None
    assert instant(due) == utc(2026, 6, 2, 13, 0)


def test_a_reminder_needs_a_positive_lead():
    with pytest.raises(ValueError, match="positive"):
        reminder_due(paris(2026, 1, 16, 10, 0), dt.timedelta(0), PARIS, NIGHT)


times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
quiet_hours = st.tuples(times, times).filter(lambda pair: pair[0] != pair[1]).map(lambda pair: QuietHours(*pair))
moments = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 12, 31), timezones=st.just(UTC))
zones = st.sampled_from(ZONES).map(ZoneInfo)


# Paris' clock changes (01:00 UTC, last Sundays of March and October), give or take a day and a half.
around_clock_changes = st.tuples(
    st.sampled_from([utc(2026, 3, 29, 1), utc(2026, 10, 25, 1), utc(2027, 3, 28, 1), utc(2027, 10, 31, 1)]),
    st.integers(min_value=-36 * 60, max_value=36 * 60),
).map(lambda pair: pair[0] + dt.timedelta(minutes=pair[1]))


@given(moments, zones, quiet_hours)
def test_the_allowed_moment_is_the_first_moment_outside_quiet_hours(moment, zone, quiet):
    assert_first_allowed(moment, zone, quiet)


@given(around_clock_changes, quiet_hours)
def test_the_allowed_moment_is_the_first_outside_quiet_hours_around_paris_clock_changes(moment, quiet):
    assert_first_allowed(moment, PARIS, quiet)


def assert_first_allowed(moment: dt.datetime, zone: ZoneInfo, quiet: QuietHours) -> None:
    allowed = next_allowed(moment, zone, quiet).astimezone(UTC)
    assert allowed >= moment
    assert not is_quiet(allowed, zone, quiet)
    if allowed != moment:
        assert is_quiet(moment, zone, quiet)
        assert is_quiet(allowed - dt.timedelta(seconds=1), zone, quiet)
        step = dt.timedelta(minutes=7)
        probe = moment
        while probe < allowed:
            assert is_quiet(probe, zone, quiet)
            probe += step
    assert allowed - moment < dt.timedelta(days=2)


@given(moments, st.timedeltas(min_value=dt.timedelta(minutes=1), max_value=dt.timedelta(days=3)), zones, quiet_hours)
def test_a_reminder_is_never_quiet_never_early_and_never_late(start, lead, zone, quiet):
    due = reminder_due(start, lead, zone, quiet)
    if due is None:
        assert next_allowed(start - lead, zone, quiet) >= start
    else:
        assert start - lead <= instant(due) < start
        assert not is_quiet(due, zone, quiet)
