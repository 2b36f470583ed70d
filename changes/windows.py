"""Time-window arithmetic for conflicts, blackouts and the calendar. Pure functions, no ORM.

Windows are half-open [start, end): a change ending at 10:00 and another starting at 10:00
do not overlap. Weekly blackouts repeat in their own time zone's wall-clock time, so "Friday
22:00–02:00 Europe/London" stays at 22:00 local on both sides of a DST change (its UTC
instant moves by an hour)."""

import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEK = timedelta(days=7)


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """True when [a_start, a_end) and [b_start, b_end) share at least one instant."""
    return a_start < b_end and b_start < a_end


def zone(name: str) -> tzinfo:
    """A zoneinfo zone, UTC for an unknown name (a typo must not break conflict checks)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _shift_local(moment: datetime, tz: tzinfo, weeks: int) -> datetime:
    """`moment` moved by whole weeks of wall-clock time in `tz`.

    The local time is kept; fold=0 picks the first of two ambiguous instants, and a local
    time that does not exist (spring-forward gap) resolves forward, as zoneinfo does."""
    local = moment.astimezone(tz).replace(tzinfo=None) + weeks * WEEK
    return local.replace(tzinfo=tz)


def weekly_occurrences(
    *,
    start: datetime,
    end: datetime,
    tz: tzinfo,
    range_start: datetime,
    range_end: datetime,
    until: date | None = None,
) -> Iterator[tuple[datetime, datetime]]:
    """Occurrences of a weekly window (first one [start, end)) overlapping the range.

    Only the weeks that can touch the range are computed: the cost follows the range, not
    the age of the series. `until` is the last local date an occurrence may start on."""
    if range_end <= start:
        return
    span = end - start
    # Local wall-clock time shifts by at most a few hours around DST; a one-week margin
    # on either side is plenty.
    first = max(0, math.floor((range_start - end) / WEEK) - 1)
    last = math.ceil((range_end - start) / WEEK) + 1
    for k in range(first, last + 1):
        occ_start = _shift_local(start, tz, k)
        occ_end = _shift_local(end, tz, k)
        if occ_end <= occ_start:  # a DST gap cannot make a window empty or negative
            occ_end = occ_start + span
        if until is not None and occ_start.astimezone(tz).date() > until:
            return
        if overlaps(occ_start, occ_end, range_start, range_end):
            yield occ_start, occ_end


def day_range(first: date, last: date) -> Iterator[date]:
    """Every date from first to last inclusive."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The instant a local day starts (DST-safe)."""
    return datetime(day.year, day.month, day.day, tzinfo=tz)
