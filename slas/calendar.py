"""Business-hours calendars and exact working-time arithmetic.

A :class:`Calendar` describes when a support team works: weekly wall-clock intervals in
an IANA time zone, minus holidays. The functions in this module answer the questions an
SLA engine asks:

* :func:`add_business_time` - when will ``delta`` of working time have elapsed?
* :func:`business_time_between` - how much working time lies in ``[start, end)``?
* :func:`next_opening` / :func:`is_working` - for "outside working hours" hints in the UI.

Design rules, and why:

* Working hours are *local wall-clock* hours (a team works 09:00-17:00 whatever the UTC
  offset), but elapsed time is *real* time. Every local interval boundary is therefore
  converted to a UTC instant on its own, and all arithmetic happens on UTC instants.
  Python's aware-datetime arithmetic ignores DST when both operands share a tzinfo, so we
  never subtract or add on datetimes in the calendar's zone.
* Ambiguous local times (the repeated hour when clocks go back) resolve to the first
  occurrence (``fold=0``); non-existent local times (the skipped hour when clocks go
  forward) resolve to the first instant that exists after them, i.e. the transition.
  Both rules are monotone, so intervals never turn inside out, they may only shrink
  (a 00:00-06:00 night shift spanning the change lasts 5 or 7 real hours).
* Speed: the working intervals of each local week are computed once per calendar and
  cached together with their exact total. Whole weeks are then skipped by subtracting
  that total, which stays exact across DST changes and holidays because the total is
  measured on real instants rather than assumed from the weekly pattern.

Standard library only, so it is usable from Django models, Celery tasks and scripts alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Calendar",
    "add_business_time",
    "business_time_between",
    "is_working",
    "next_opening",
    "working_intervals",
]

Interval = tuple[time, time]
DayHours = tuple[Interval, ...]

_MIDNIGHT = time(0, 0)
_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)
# Weeks kept per calendar. Far more than SLA computations around "now" touch, yet bounded
# so a long-running worker that is asked about arbitrary dates cannot grow without limit.
_WEEK_CACHE_SIZE = 1024


class _Week(NamedTuple):
    """The working time of one local week (Monday 00:00 to next Monday 00:00)."""

    start: datetime  # UTC instant of local Monday 00:00
    end: datetime  # UTC instant of the following local Monday 00:00
    intervals: tuple[tuple[datetime, datetime], ...]  # sorted, disjoint, non-empty, UTC
    total: timedelta  # real elapsed working time in the week


def _microseconds(moment: time) -> int:
    """Microseconds after midnight of a wall-clock time (integers keep comparisons exact)."""
    return (
        (moment.hour * 60 + moment.minute) * 60 + moment.second
    ) * 1_000_000 + moment.microsecond


def _end_microseconds(end: time) -> int:
    """Like :func:`_microseconds` for an interval end, where 00:00 means 24:00."""
    return 86_400_000_000 if end == _MIDNIGHT else _microseconds(end)


def _normalise_day(weekday: object, intervals: Iterable[Interval]) -> DayHours:
    """Validate one weekday's intervals and return them sorted by start."""
    cleaned: list[Interval] = []
    for interval in intervals:
        try:
            start, end = interval
        except (TypeError, ValueError):
            raise ValueError(
                f"weekday {weekday}: each interval must be a (start, end) pair of times, "
                f"got {interval!r}"
            ) from None
        if not isinstance(start, time) or not isinstance(end, time):
            raise ValueError(f"weekday {weekday}: interval bounds must be datetime.time objects")
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(
                f"weekday {weekday}: interval times must be naive wall-clock times; "
                "the calendar's timezone applies to them"
            )
        # fold=1 on a time would leak into datetime.combine() and pick the *second*
        # occurrence of an ambiguous local time; the rule is fold=0 everywhere.
        start, end = start.replace(fold=0), end.replace(fold=0)
        if _microseconds(start) >= _end_microseconds(end):
            raise ValueError(
                f"weekday {weekday}: interval start {start.isoformat()} must be before "
                f"end {end.isoformat()} (an end of 00:00 means midnight at the end of the day)"
            )
        cleaned.append((start, end))
    cleaned.sort(key=lambda iv: _microseconds(iv[0]))
    for (_, previous_end), (next_start, _) in pairwise(cleaned):
        if _end_microseconds(previous_end) > _microseconds(next_start):
            raise ValueError(
                f"weekday {weekday}: intervals overlap (one ends at {previous_end.isoformat()}, "
                f"the next starts at {next_start.isoformat()})"
            )
    return tuple(cleaned)


def _normalise_hours(weekly_hours: Mapping[int, Iterable[Interval]]) -> tuple[DayHours, ...]:
    if not isinstance(weekly_hours, Mapping):
        raise ValueError(
            "weekly_hours must be a mapping of weekday (0=Monday..6=Sunday) to intervals"
        )
    days: list[DayHours] = [() for _ in range(7)]
    for weekday, intervals in weekly_hours.items():
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValueError(
                f"weekday must be an integer 0 (Monday) to 6 (Sunday), got {weekday!r}"
            )
        days[weekday] = _normalise_day(weekday, intervals)
    return tuple(days)


def _normalise_holidays(holidays: Iterable[date]) -> frozenset[date]:
    result = frozenset(holidays)
    for holiday in result:
        # datetime subclasses date but never equals one, so it would silently never match.
        if not isinstance(holiday, date) or isinstance(holiday, datetime):
            raise ValueError(f"holidays must be datetime.date objects, got {holiday!r}")
    return result


@dataclass(frozen=True, init=False)
class Calendar:
    """Weekly working hours in a time zone, minus holidays.

    ``Calendar("Europe/Berlin", {0: [(time(9), time(17))]}, holidays=[date(2026, 1, 1)])``

    * ``weekly_hours`` maps weekday (0 = Monday ... 6 = Sunday) to a list of
      ``(start, end)`` local wall-clock times. Several intervals per day are allowed but
      may not overlap; an end of ``time(0, 0)`` means midnight at the end of the day, so
      ``(time(0), time(0))`` is the whole day. Missing weekdays have no working time.
    * ``holidays`` are local dates without any working time.

    Instances are immutable and hashable (hours are stored as a 7-tuple in ``hours``), so
    they can be cached and shared between threads.
    """

    timezone: str
    hours: tuple[DayHours, ...]
    holidays: frozenset[date]
    # Derived state, excluded from equality, hashing and repr.
    _zone: ZoneInfo = field(compare=False, repr=False)
    _weeks: dict[int, _Week] = field(compare=False, repr=False)

    def __init__(
        self,
        timezone: str,
        weekly_hours: Mapping[int, Iterable[Interval]],
        holidays: Iterable[date] = (),
    ) -> None:
        # A custom __init__ lets callers pass a friendly dict while the stored form is a
        # hashable tuple; frozen dataclasses need object.__setattr__ for that.
        object.__setattr__(self, "timezone", timezone)
        object.__setattr__(self, "hours", _normalise_hours(weekly_hours))
        object.__setattr__(self, "holidays", _normalise_holidays(holidays))
        object.__setattr__(self, "_weeks", {})
        self.__post_init__()

    def __post_init__(self) -> None:
        if not isinstance(self.timezone, str) or not self.timezone:
            raise ValueError(f"timezone must be an IANA zone name, got {self.timezone!r}")
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {self.timezone!r}") from None
        object.__setattr__(self, "_zone", zone)

    @classmethod
    def always(cls, timezone: str = "UTC") -> Calendar:
        """A 24x7 calendar: every instant is working time."""
        return cls(timezone, {day: [(_MIDNIGHT, _MIDNIGHT)] for day in range(7)})

    @classmethod
    def office(
        cls,
        timezone: str,
        start: time = time(9),
        end: time = time(17),
        days: Iterable[int] = range(5),
        holidays: Iterable[date] = (),
    ) -> Calendar:
        """Same single interval on each of ``days`` (default Monday to Friday, 09:00-17:00)."""
        return cls(timezone, {day: [(start, end)] for day in days}, holidays)

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return self._zone

    @property
    def has_hours(self) -> bool:
        """Whether any weekday has working hours at all."""
        return any(self.hours)

    def _week(self, monday: int) -> _Week:
        """The (cached) working time of the local week starting on ordinal ``monday``."""
        week = self._weeks.get(monday)
        if week is None:
            week = _build_week(self, monday)
            if len(self._weeks) >= _WEEK_CACHE_SIZE:
                self._weeks.clear()
            self._weeks[monday] = week
        return week


def _local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """UTC instant of naive wall-clock time ``local`` in ``zone``.

    Ambiguous times take the first occurrence (fold=0). Times in a spring-forward gap do
    not exist; they map to the first instant after them that does, the transition itself.
    """
    utc = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == local:
        return utc
    # In a gap, fold=1 applies the post-transition offset and lands before the transition,
    # fold=0 the pre-transition offset and lands after it. The wall clock is monotone in
    # between, so bisect for the first instant whose wall time reaches ``local``.
    low = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = utc
    while high - low > _ONE_MICROSECOND:
        middle = low + (high - low) // 2
        if middle.astimezone(zone).replace(tzinfo=None) >= local:
            high = middle
        else:
            low = middle
    return high


def _build_week(calendar: Calendar, monday: int) -> _Week:
    zone = calendar._zone
    first_day = date.fromordinal(monday)
    intervals: list[tuple[datetime, datetime]] = []
    for offset in range(7):
        day = first_day + timedelta(days=offset)
        if day in calendar.holidays:
            continue
        for start, end in calendar.hours[day.weekday()]:
            start_utc = _local_to_utc(datetime.combine(day, start), zone)
            end_day = day + _ONE_DAY if end == _MIDNIGHT else day
            end_utc = _local_to_utc(datetime.combine(end_day, end), zone)
            if end_utc <= start_utc:
                continue  # the whole interval fell into a DST gap
            if intervals and intervals[-1][1] == start_utc:
                # Merge touching intervals (e.g. 24x7 days) so scans have less to walk.
                intervals[-1] = (intervals[-1][0], end_utc)
            else:
                intervals.append((start_utc, end_utc))
    week_start = _local_to_utc(datetime.combine(first_day, _MIDNIGHT), zone)
    week_end = _local_to_utc(datetime.combine(first_day + timedelta(days=7), _MIDNIGHT), zone)
    total = sum((end - start for start, end in intervals), _ZERO)
    return _Week(week_start, week_end, tuple(intervals), total)


def _to_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _monday_of(calendar: Calendar, instant: datetime) -> int:
    """Ordinal of the local Monday of the week containing UTC ``instant``."""
    local_day = instant.astimezone(calendar._zone).date()
    return local_day.toordinal() - local_day.weekday()


def _require_hours(calendar: Calendar) -> None:
    if not calendar.has_hours:
        raise ValueError("calendar has no working hours; working time would never elapse")


def add_business_time(calendar: Calendar, start: datetime, delta: timedelta) -> datetime:
    """The instant at which ``delta`` of working time has elapsed after ``start``.

    Counting begins at ``start`` if it is inside working hours, otherwise at the next
    opening. When the time runs out exactly at a closing, the closing instant is returned
    (not the next opening). ``delta == 0`` returns ``start`` itself (converted to the
    calendar's zone) even outside working hours, which keeps
    ``business_time_between(start, add_business_time(start, d)) == d`` and
    ``add(add(s, a), b) == add(s, a + b)`` true for every ``a, b >= 0``.

    The result is an aware datetime in the calendar's zone. Compare results as instants
    (e.g. after ``.astimezone(UTC)``): Python compares two datetimes sharing a tzinfo by
    wall clock, which is wrong inside a repeated DST hour.

    Raises ``ValueError`` for a naive ``start``, a negative ``delta`` or a calendar with
    no working hours.
    """
    cursor = _to_utc(start, "start")
    if delta < _ZERO:
        raise ValueError(f"delta must not be negative, got {delta}")
    if not delta:
        return cursor.astimezone(calendar._zone)
    _require_hours(calendar)
    remaining = delta
    monday = _monday_of(calendar, cursor)
    # Holidays are finite and every week has some weekly hours, so this terminates.
    while True:
        week = calendar._week(monday)
        # Only the first week can contain intervals before ``cursor``; later weeks whose
        # total does not cover what remains are skipped whole.
        if week.start >= cursor and week.total < remaining:
            remaining -= week.total
        else:
            for interval_start, interval_end in week.intervals:
                if interval_end <= cursor:
                    continue
                begin = max(interval_start, cursor)
                available = interval_end - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(calendar._zone)
                remaining -= available
        monday += 7


def business_time_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """Working time within ``[start, end)``; zero when ``end <= start``.

    Both datetimes must be aware; they may be in any zone.
    """
    low = _to_utc(start, "start")
    high = _to_utc(end, "end")
    total = _ZERO
    if high <= low:
        return total
    monday = _monday_of(calendar, low)
    while True:
        week = calendar._week(monday)
        if week.start >= high:
            return total
        if week.start >= low and week.end <= high:
            total += week.total
        else:
            for interval_start, interval_end in week.intervals:
                overlap_start = max(interval_start, low)
                overlap_end = min(interval_end, high)
                if overlap_end > overlap_start:
                    total += overlap_end - overlap_start
        monday += 7


def next_opening(calendar: Calendar, at: datetime) -> datetime:
    """The first instant at or after ``at`` that is working time, in the calendar's zone.

    Returns ``at`` itself (converted) when it is inside working hours. Raises
    ``ValueError`` for a naive ``at`` or a calendar with no working hours.
    """
    cursor = _to_utc(at, "at")
    _require_hours(calendar)
    monday = _monday_of(calendar, cursor)
    while True:
        for interval_start, interval_end in calendar._week(monday).intervals:
            if interval_end > cursor:
                return max(interval_start, cursor).astimezone(calendar._zone)
        monday += 7


def is_working(calendar: Calendar, at: datetime) -> bool:
    """Whether the instant ``at`` lies inside working hours (intervals are half-open)."""
    cursor = _to_utc(at, "at")
    for interval_start, interval_end in calendar._week(_monday_of(calendar, cursor)).intervals:
        if interval_start <= cursor < interval_end:
            return True
    return False


def working_intervals(
    calendar: Calendar, start: datetime, end: datetime, *, limit: int = 1000
) -> list[tuple[datetime, datetime]]:
    """The working stretches inside ``[start, end)`` as (start, end) pairs in the calendar's
    zone, in order; what a deadline "is made of". At most ``limit`` pairs."""
    begin, finish = _to_utc(start, "start"), _to_utc(end, "end")
    pieces: list[tuple[datetime, datetime]] = []
    monday = _monday_of(calendar, begin)
    zone = calendar.zone
    while len(pieces) < limit:
        week = calendar._week(monday)
        if week.start >= finish:
            break
        for lo, hi in week.intervals:
            lo, hi = max(lo, begin), min(hi, finish)
            if lo < hi:
                pieces.append((lo.astimezone(zone), hi.astimezone(zone)))
        monday += 7
    return pieces[:limit]
