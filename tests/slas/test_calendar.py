"""Tests for slas.calendar: pure Python, no Django, no database.

Datetimes are compared as UTC instants on purpose: Python compares two datetimes that share
a tzinfo by wall clock, which is wrong inside a repeated DST hour.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slas.calendar import (
    Calendar,
    add_business_time,
    business_time_between,
    is_working,
    next_opening,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def new_york(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


OFFICE = Calendar.office("Europe/Berlin")
NIGHT_BERLIN = Calendar("Europe/Berlin", {day: [(time(0), time(6))] for day in range(7)})
NIGHT_NEW_YORK = Calendar("America/New_York", {day: [(time(0), time(6))] for day in range(7)})


# --- construction and validation -------------------------------------------------------


def test_calendar_accepts_a_dict_and_is_hashable_and_comparable() -> None:
    # given
    first = Calendar("Europe/Berlin", {0: [(time(13), time(17)), (time(8), time(12))]})
    second = Calendar("Europe/Berlin", {0: [(time(8), time(12)), (time(13), time(17))]})

    # then
    assert first == second
    assert hash(first) == hash(second)
    assert first.hours[0] == ((time(8), time(12)), (time(13), time(17)))
    assert first.hours[1:] == ((),) * 6
    assert len({first, second, OFFICE}) == 2


def test_calendar_normalises_holidays_to_a_frozenset() -> None:
    calendar = Calendar("UTC", {0: [(time(9), time(17))]}, holidays=[date(2026, 1, 1)] * 2)

    assert calendar.holidays == frozenset({date(2026, 1, 1)})


def test_office_defaults_to_nine_to_five_monday_to_friday() -> None:
    assert OFFICE.hours == ((((time(9), time(17))),),) * 5 + ((), ())


def test_always_is_every_whole_day() -> None:
    assert Calendar.always().hours == (((time(0), time(0)),),) * 7
    assert Calendar.always().timezone == "UTC"


@pytest.mark.parametrize(
    ("weekly_hours", "message"),
    [
        ({7: [(time(9), time(17))]}, "weekday must be"),
        ({-1: [(time(9), time(17))]}, "weekday must be"),
        ({0: [(time(17), time(9))]}, "must be before"),
        ({0: [(time(9), time(9))]}, "must be before"),
        ({0: [(time(0), time(0)), (time(9), time(10))]}, "overlap"),
        ({0: [(time(8), time(12)), (time(11), time(17))]}, "overlap"),
        ({0: [(time(9), time(17, tzinfo=UTC))]}, "naive"),
        ({0: [(time(9),)]}, "pair"),
        ({0: [("09:00", "17:00")]}, "datetime.time"),
    ],
)
def test_invalid_weekly_hours_are_rejected(weekly_hours: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Calendar("Europe/Berlin", weekly_hours)


def test_touching_intervals_are_not_an_overlap() -> None:
    calendar = Calendar("UTC", {0: [(time(8), time(12)), (time(12), time(0))]})

    monday = datetime(2026, 3, 2, tzinfo=UTC)

    assert business_time_between(calendar, monday, monday + timedelta(days=1)) == 16 * H


def test_unknown_timezone_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown timezone"):
        Calendar("Mars/Olympus_Mons", {0: [(time(9), time(17))]})


def test_holiday_given_as_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match="holidays"):
        Calendar.office("UTC", holidays=[datetime(2026, 1, 1, tzinfo=UTC)])


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_business_time(OFFICE, datetime(2026, 3, 2, 9), H),  # noqa: DTZ001
        lambda: business_time_between(OFFICE, datetime(2026, 3, 2), berlin(2026, 3, 3)),  # noqa: DTZ001
        lambda: business_time_between(OFFICE, berlin(2026, 3, 2), datetime(2026, 3, 3)),  # noqa: DTZ001
        lambda: next_opening(OFFICE, datetime(2026, 3, 2)),  # noqa: DTZ001
        lambda: is_working(OFFICE, datetime(2026, 3, 2)),  # noqa: DTZ001
    ],
)
def test_naive_datetimes_are_rejected(call) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


def test_negative_delta_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_time(OFFICE, berlin(2026, 3, 2, 10), -H)


def test_calendar_without_working_hours_cannot_add_time_or_open() -> None:
    # given
    empty = Calendar("Europe/Berlin", {})

    # then
    with pytest.raises(ValueError, match="no working hours"):
        add_business_time(empty, berlin(2026, 3, 2), H)
    with pytest.raises(ValueError, match="no working hours"):
        next_opening(empty, berlin(2026, 3, 2))
    assert business_time_between(empty, berlin(2026, 3, 2), berlin(2026, 4, 2)) == timedelta(0)
    assert not is_working(empty, berlin(2026, 3, 2, 12))


# --- add_business_time on an ordinary office calendar -----------------------------------


def test_add_inside_hours_counts_from_start() -> None:
    assert add_business_time(OFFICE, berlin(2026, 3, 10, 10), 2 * H) == berlin(2026, 3, 10, 12)


def test_add_before_opening_counts_from_opening() -> None:
    assert add_business_time(OFFICE, berlin(2026, 3, 10, 7), H) == berlin(2026, 3, 10, 10)


def test_add_after_closing_counts_from_next_opening() -> None:
    assert add_business_time(OFFICE, berlin(2026, 3, 10, 18), H) == berlin(2026, 3, 11, 10)


def test_add_ending_exactly_at_closing_returns_the_closing() -> None:
    assert add_business_time(OFFICE, berlin(2026, 3, 10, 16), H) == berlin(2026, 3, 10, 17)


def test_add_over_a_weekend_skips_saturday_and_sunday() -> None:
    # 2026-03-13 is a Friday.
    assert add_business_time(OFFICE, berlin(2026, 3, 13, 16), 2 * H) == berlin(2026, 3, 16, 10)


def test_add_of_exactly_a_weeks_hours_ends_at_fridays_closing() -> None:
    assert add_business_time(OFFICE, berlin(2026, 3, 9), 40 * H) == berlin(2026, 3, 13, 17)
    assert add_business_time(OFFICE, berlin(2026, 3, 7), 80 * H) == berlin(2026, 3, 20, 17)


def test_zero_delta_returns_start_even_outside_hours() -> None:
    result = add_business_time(OFFICE, datetime(2026, 3, 14, 12, tzinfo=UTC), timedelta(0))

    assert result == berlin(2026, 3, 14, 13)
    assert result.tzinfo == BERLIN


def test_add_with_split_shift_skips_the_lunch_break() -> None:
    # given
    split = Calendar(
        "America/New_York", {day: [(time(8), time(12)), (time(13), time(17))] for day in range(5)}
    )
    start = new_york(2026, 3, 10, 11)

    # when
    result = add_business_time(split, start, 2 * H)

    # then
    assert result == new_york(2026, 3, 10, 14)
    assert business_time_between(split, start, result) == 2 * H
    assert not is_working(split, new_york(2026, 3, 10, 12, 30))
    assert next_opening(split, new_york(2026, 3, 10, 12, 30)) == new_york(2026, 3, 10, 13)


def test_holiday_on_a_monday_has_no_working_time() -> None:
    # given: Easter Monday 2026 is 2026-04-06, Good Friday 2026-04-03 is a working day here
    calendar = Calendar.office("Europe/Berlin", holidays=[date(2026, 4, 6)])

    # when
    result = add_business_time(calendar, berlin(2026, 4, 3, 16), 2 * H)

    # then
    assert result == berlin(2026, 4, 7, 10)
    assert business_time_between(calendar, berlin(2026, 4, 3, 9), berlin(2026, 4, 7, 9)) == 8 * H
    assert not is_working(calendar, berlin(2026, 4, 6, 12))


def test_interval_ending_at_midnight_runs_to_the_end_of_the_day() -> None:
    # given: Fridays 18:00-24:00
    calendar = Calendar("Europe/Berlin", {4: [(time(18), time(0))]})

    # when
    result = add_business_time(calendar, berlin(2026, 3, 13, 23), 2 * H)

    # then
    assert result == berlin(2026, 3, 20, 19)
    assert business_time_between(calendar, berlin(2026, 3, 13), berlin(2026, 3, 14)) == 6 * H
    assert is_working(calendar, berlin(2026, 3, 13, 23, 59))
    assert not is_working(calendar, berlin(2026, 3, 14, 0, 0))


def test_years_of_span_are_supported() -> None:
    # given
    start = berlin(2026, 1, 1)

    # when
    result = add_business_time(OFFICE, start, 2000 * H)

    # then: 2000 h = 250 working days of 8 h
    assert result == berlin(2026, 12, 16, 17)
    assert business_time_between(OFFICE, start, result) == 2000 * H


def test_whole_year_total_matches_counted_working_days() -> None:
    # given: week skipping must stay exact across DST changes and holidays
    holidays = [date(2026, 1, 1), date(2026, 4, 6), date(2026, 10, 26), date(2026, 12, 25)]
    calendar = Calendar.office("Europe/Berlin", holidays=holidays)
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    working_days = sum(day.weekday() < 5 and day not in holidays for day in days)

    # when
    total = business_time_between(calendar, berlin(2026, 1, 1), berlin(2027, 1, 1))

    # then
    assert total == working_days * 8 * H


# --- 24x7 and DST ------------------------------------------------------------------------


def test_always_counts_real_elapsed_time() -> None:
    calendar = Calendar.always()
    start = datetime(2026, 3, 10, 12, 34, tzinfo=UTC)

    assert add_business_time(calendar, start, 36 * H) == start + 36 * H
    assert business_time_between(calendar, start, start + 36 * H) == 36 * H


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/Berlin", date(2026, 3, 29), 23),
        ("Europe/Berlin", date(2026, 10, 25), 25),
        ("America/New_York", date(2026, 3, 8), 23),
        ("America/New_York", date(2026, 11, 1), 25),
    ],
)
def test_always_counts_the_real_length_of_dst_days(zone: str, day: date, hours: int) -> None:
    # given
    calendar = Calendar.always(zone)
    midnight = datetime.combine(day, time(0), ZoneInfo(zone))
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(zone))

    # when
    total = business_time_between(calendar, midnight, next_midnight)
    result = add_business_time(calendar, midnight, hours * H)

    # then
    assert total == hours * H
    assert utc(result) == utc(next_midnight)


def test_always_in_berlin_adds_real_hours_across_spring_forward() -> None:
    result = add_business_time(Calendar.always("Europe/Berlin"), berlin(2026, 3, 28, 12), 24 * H)

    assert result == berlin(2026, 3, 29, 13)


@pytest.mark.parametrize(
    ("calendar", "zone", "day", "hours"),
    [
        (NIGHT_BERLIN, BERLIN, date(2026, 3, 29), 5),
        (NIGHT_BERLIN, BERLIN, date(2026, 10, 25), 7),
        (NIGHT_NEW_YORK, NEW_YORK, date(2026, 3, 8), 5),
        (NIGHT_NEW_YORK, NEW_YORK, date(2026, 11, 1), 7),
    ],
)
def test_night_interval_across_dst_change_counts_real_hours(
    calendar: Calendar, zone: ZoneInfo, day: date, hours: int
) -> None:
    # given
    midnight = datetime.combine(day, time(0), zone)
    six = datetime.combine(day, time(6), zone)

    # when
    total = business_time_between(calendar, midnight, midnight + timedelta(days=1))
    result = add_business_time(calendar, midnight, hours * H)

    # then
    assert total == hours * H
    assert utc(result) == utc(six)
    assert result == six


def test_office_week_with_spring_forward_in_new_york() -> None:
    # given: clocks go forward on Sunday 2026-03-08
    calendar = Calendar.office("America/New_York")

    # when
    result = add_business_time(calendar, new_york(2026, 3, 6, 16), 2 * H)

    # then
    assert result == new_york(2026, 3, 9, 10)
    assert utc(result) == datetime(2026, 3, 9, 14, tzinfo=UTC)
    assert business_time_between(calendar, new_york(2026, 3, 2), new_york(2026, 3, 16)) == 80 * H


def test_office_week_with_fall_back_in_berlin() -> None:
    # given: clocks go back on Sunday 2026-10-25
    start = berlin(2026, 10, 23, 16)

    # when
    result = add_business_time(OFFICE, start, 2 * H)

    # then
    assert result == berlin(2026, 10, 26, 10)
    assert utc(result) == datetime(2026, 10, 26, 9, tzinfo=UTC)


def test_interval_inside_spring_forward_gap_starts_at_the_transition() -> None:
    # given: Sundays 02:30-04:00 and 02:00-02:20 (the latter does not exist on 2026-03-29)
    calendar = Calendar("Europe/Berlin", {6: [(time(2), time(2, 20)), (time(2, 30), time(4))]})

    # when
    total = business_time_between(calendar, berlin(2026, 3, 29), berlin(2026, 3, 30))
    opening = next_opening(calendar, berlin(2026, 3, 29))

    # then: only 03:00-04:00 CEST exists
    assert total == H
    assert utc(opening) == datetime(2026, 3, 29, 1, tzinfo=UTC)


def test_ambiguous_interval_start_uses_the_first_occurrence() -> None:
    # given: Sundays 02:30-04:00; 02:30 happens twice on 2026-10-25
    calendar = Calendar("Europe/Berlin", {6: [(time(2, 30), time(4))]})

    # when
    total = business_time_between(calendar, berlin(2026, 10, 25), berlin(2026, 10, 26))

    # then: 02:30 CEST (00:30 UTC) to 04:00 CET (03:00 UTC)
    assert total == timedelta(hours=2, minutes=30)


def test_results_are_in_the_calendars_zone() -> None:
    # given
    start = datetime(2026, 3, 10, 8, tzinfo=UTC)

    # when
    added = add_business_time(OFFICE, start, H)
    opening = next_opening(OFFICE, datetime(2026, 3, 14, 8, tzinfo=UTC))

    # then
    assert added.tzinfo == BERLIN
    assert added == berlin(2026, 3, 10, 10)
    assert opening.tzinfo == BERLIN
    assert opening == berlin(2026, 3, 16, 9)


# --- business_time_between, is_working, next_opening ------------------------------------


@pytest.mark.parametrize("hours_back", [0, 1, 100])
def test_between_is_zero_when_end_is_not_after_start(hours_back: int) -> None:
    start = berlin(2026, 3, 10, 12)

    assert business_time_between(OFFICE, start, start - hours_back * H) == timedelta(0)


def test_between_accepts_mixed_zones() -> None:
    start = datetime(2026, 3, 10, 8, tzinfo=UTC)  # 09:00 Berlin
    end = new_york(2026, 3, 10, 10)  # 15:00 Berlin (New York is already on EDT)

    assert business_time_between(OFFICE, start, end) == 6 * H


def test_working_hours_are_half_open() -> None:
    assert is_working(OFFICE, berlin(2026, 3, 10, 9))
    assert is_working(OFFICE, berlin(2026, 3, 10, 16, 59, 59))
    assert not is_working(OFFICE, berlin(2026, 3, 10, 17))
    assert not is_working(OFFICE, berlin(2026, 3, 14, 12))


def test_next_opening_is_now_inside_hours_and_the_next_start_outside() -> None:
    assert next_opening(OFFICE, berlin(2026, 3, 10, 12)) == berlin(2026, 3, 10, 12)
    assert next_opening(OFFICE, berlin(2026, 3, 10, 17)) == berlin(2026, 3, 11, 9)
    assert next_opening(OFFICE, berlin(2026, 3, 13, 18)) == berlin(2026, 3, 16, 9)


# --- properties against a minute-by-minute oracle ---------------------------------------

PROPERTY_CALENDARS = {
    "berlin-office-holidays": Calendar.office(
        "Europe/Berlin", holidays=[date(2026, 3, 30), date(2026, 10, 26), date(2026, 12, 25)]
    ),
    "new-york-split-shift": Calendar(
        "America/New_York",
        {day: [(time(8), time(12)), (time(13), time(17))] for day in range(5)}
        | {5: [(time(10), time(14))]},
    ),
    "utc-24x7": Calendar.always(),
    # Boundaries at midnight and 06:00, so the night runs straight through DST changes.
    "berlin-nights": Calendar(
        "Europe/Berlin", {day: [(time(0), time(6)), (time(22), time(0))] for day in range(7)}
    ),
}
calendars = pytest.mark.parametrize(
    "calendar", list(PROPERTY_CALENDARS.values()), ids=list(PROPERTY_CALENDARS)
)

# Whole-minute UTC instants, half of them clustered around DST changes and a holiday.
ANCHORS = [
    datetime(2026, 3, 8, tzinfo=UTC),
    datetime(2026, 3, 29, tzinfo=UTC),
    datetime(2026, 10, 25, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
    datetime(2026, 12, 25, tzinfo=UTC),
]
MINUTE = timedelta(minutes=1)
MICROSECOND = timedelta(microseconds=1)
near_anchor = st.builds(
    lambda anchor, minutes: anchor + minutes * MINUTE,
    st.sampled_from(ANCHORS),
    st.integers(-10 * 1440, 10 * 1440),
)
anywhere = st.integers(0, 3 * 365 * 1440).map(
    lambda m: datetime(2025, 1, 1, tzinfo=UTC) + m * MINUTE
)
minute_instants = st.one_of(near_anchor, anywhere)
# Any aware instant, in any of a few zones, with microseconds; imaginary times included.
instants = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis bounds must be naive
    max_value=datetime(2028, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, BERLIN, NEW_YORK]),
)
deltas = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))

oracle_settings = settings(max_examples=100, deadline=None, database=None)
fast_settings = settings(max_examples=200, deadline=None, database=None)


def oracle_is_working(calendar: Calendar, instant: datetime) -> bool:
    """Wall-clock reading of the calendar definition, independent of the implementation."""
    local = instant.astimezone(calendar.zone)
    if local.date() in calendar.holidays:
        return False
    clock = local.time()
    return any(
        start <= clock and (end == time(0) or clock < end)
        for start, end in calendar.hours[local.weekday()]
    )


def oracle_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """Step minute by minute in UTC; valid because all boundaries fall on whole minutes."""
    minutes = 0
    instant = start
    while instant < end:
        minutes += oracle_is_working(calendar, instant)
        instant += MINUTE
    return minutes * MINUTE


@calendars
@oracle_settings
@given(start=minute_instants, span_minutes=st.integers(0, 10 * 1440))
def test_between_matches_minute_oracle(
    calendar: Calendar, start: datetime, span_minutes: int
) -> None:
    end = start + span_minutes * MINUTE

    assert business_time_between(calendar, start, end) == oracle_between(calendar, start, end)


@calendars
@fast_settings
@given(instant=minute_instants)
def test_is_working_matches_oracle(calendar: Calendar, instant: datetime) -> None:
    assert is_working(calendar, instant) == oracle_is_working(calendar, instant)


@calendars
@fast_settings
@given(start=instants, delta=deltas)
def test_between_inverts_add(calendar: Calendar, start: datetime, delta: timedelta) -> None:
    # when
    end = add_business_time(calendar, start, delta)

    # then
    assert end.tzinfo == calendar.zone
    assert utc(end) >= utc(start)
    assert business_time_between(calendar, start, end) == delta
    if delta:  # and it is the earliest such instant, not a later opening
        assert business_time_between(calendar, start, utc(end) - MICROSECOND) < delta


@calendars
@fast_settings
@given(start=instants, first=deltas, second=deltas)
def test_add_is_monotonic_in_delta(
    calendar: Calendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    small, large = sorted([first, second])

    assert utc(add_business_time(calendar, start, small)) <= utc(
        add_business_time(calendar, start, large)
    )


@calendars
@fast_settings
@given(start=instants, first=deltas, second=deltas)
def test_add_is_additive(
    calendar: Calendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    # Exact for every first, second >= 0: a zero delta returns its start, and a result at a
    # closing resumes counting at the next opening.
    stepwise = add_business_time(calendar, add_business_time(calendar, start, first), second)

    assert utc(stepwise) == utc(add_business_time(calendar, start, first + second))


@calendars
@fast_settings
@given(start=instants, first=deltas, second=deltas)
def test_between_is_additive_over_a_split_point(
    calendar: Calendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    middle = utc(start) + first
    end = middle + second

    assert business_time_between(calendar, start, end) == business_time_between(
        calendar, start, middle
    ) + business_time_between(calendar, middle, end)


@calendars
@fast_settings
@given(instant=instants)
def test_next_opening_is_the_first_working_instant(calendar: Calendar, instant: datetime) -> None:
    # when
    opening = next_opening(calendar, instant)

    # then
    assert opening.tzinfo == calendar.zone
    assert utc(opening) >= utc(instant)
    assert is_working(calendar, opening)
    assert business_time_between(calendar, instant, opening) == timedelta(0)
    assert is_working(calendar, instant) == (utc(opening) == utc(instant))
