"""Window arithmetic: half-open overlap and weekly repeats across DST (no database)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from changes.windows import overlaps, weekly_occurrences

LONDON = ZoneInfo("Europe/London")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_touching_windows_do_not_overlap():
    assert not overlaps(
        utc(2027, 1, 1, 8), utc(2027, 1, 1, 10), utc(2027, 1, 1, 10), utc(2027, 1, 1, 12)
    )
    assert overlaps(
        utc(2027, 1, 1, 8), utc(2027, 1, 1, 10), utc(2027, 1, 1, 9, 59), utc(2027, 1, 1, 12)
    )


def test_weekly_repeat_keeps_local_time_across_the_spring_change():
    # given: Friday 22:00–02:00 London, first on 8 Jan 2027 (GMT, so 22:00 UTC)
    start = datetime(2027, 1, 8, 22, tzinfo=LONDON)
    # when: asking for a range in July (BST)
    occurrences = list(
        weekly_occurrences(
            start=start,
            end=start + timedelta(hours=4),
            tz=LONDON,
            range_start=utc(2027, 7, 1),
            range_end=utc(2027, 7, 15),
        )
    )
    # then: still 22:00 local, which is 21:00 UTC in summer
    assert [o[0] for o in occurrences] == [utc(2027, 7, 2, 21), utc(2027, 7, 9, 21)]
    assert all(end - begin == timedelta(hours=4) for begin, end in occurrences)


def test_weekly_repeat_across_the_night_of_the_autumn_change_keeps_wall_clock_times():
    # Sunday 00:00–06:00 London; on Sunday 31 Oct 2027 the clocks go back at 02:00.
    start = datetime(2027, 10, 3, 0, tzinfo=LONDON)
    [(begin, end)] = weekly_occurrences(
        start=start,
        end=datetime(2027, 10, 3, 6, tzinfo=LONDON),
        tz=LONDON,
        range_start=utc(2027, 10, 30, 12),
        range_end=utc(2027, 11, 1),
    )
    assert begin == utc(2027, 10, 30, 23)  # 00:00 BST
    assert end == utc(2027, 10, 31, 6)  # 06:00 GMT: that night is seven hours long


def test_until_stops_the_series_and_the_cost_follows_the_range():
    start = datetime(2020, 1, 6, 9, tzinfo=LONDON)
    found = list(
        weekly_occurrences(
            start=start,
            end=start + timedelta(hours=1),
            tz=LONDON,
            range_start=utc(2027, 1, 1),
            range_end=utc(2027, 2, 1),
            until=date(2027, 1, 18),
        )
    )
    assert [b.date() for b, _ in found] == [date(2027, 1, 4), date(2027, 1, 11), date(2027, 1, 18)]


def test_no_occurrence_before_the_first_one():
    start = datetime(2027, 6, 4, 22, tzinfo=LONDON)
    assert not list(
        weekly_occurrences(
            start=start,
            end=start + timedelta(hours=2),
            tz=LONDON,
            range_start=utc(2027, 5, 1),
            range_end=utc(2027, 6, 1),
        )
    )
