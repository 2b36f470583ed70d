"""Throughput of slas.calendar: python benchmarks/calendar_bench.py [calls].

For a Berlin 09:00-17:00 Monday-Friday calendar (with holidays) and a UTC 24x7 calendar it
times ``add_business_time`` with 30-day (720 h) targets from seeded random starts spread
over a year, and ``business_time_between`` over the same start/end pairs. Prints figures
only; it asserts nothing about time because machines differ.
"""

from __future__ import annotations

import random
import sys
import time as clock
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slas.calendar import Calendar

# Run as a plain script from anywhere: make the repository root importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_CALLS = 100_000
TARGET = timedelta(days=30)
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)


def _random_starts(count: int, seed: int) -> list[datetime]:
    rng = random.Random(seed)
    year_seconds = 365 * 86400
    return [YEAR_START + timedelta(seconds=rng.randrange(year_seconds)) for _ in range(count)]


def _bench(name: str, calendar: Calendar, starts: list[datetime]) -> None:
    from slas.calendar import add_business_time, business_time_between

    began = clock.perf_counter()
    ends = [add_business_time(calendar, start, TARGET) for start in starts]
    add_seconds = clock.perf_counter() - began

    began = clock.perf_counter()
    totals = [business_time_between(calendar, s, e) for s, e in zip(starts, ends, strict=True)]
    between_seconds = clock.perf_counter() - began

    # A cheap self-check so a fast but wrong build is noticed.
    mismatches = sum(total != TARGET for total in totals)
    calls = len(starts)
    print(
        f"{name:<22} add_business_time: {add_seconds:6.2f} s total, "
        f"{add_seconds / calls * 1e6:6.1f} us/call | business_time_between: "
        f"{between_seconds:6.2f} s total, {between_seconds / calls * 1e6:6.1f} us/call | "
        f"round-trip mismatches: {mismatches}"
    )


def main() -> None:
    from slas.calendar import Calendar

    calls = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CALLS
    holidays = [date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 1)]
    holidays += [date(2026, 10, 3), date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)]
    calendars = {
        "Berlin office 9-17": Calendar.office("Europe/Berlin", holidays=holidays),
        "UTC 24x7": Calendar.always("UTC"),
        "Berlin 24x7": Calendar.always("Europe/Berlin"),
    }
    starts = _random_starts(calls, seed=20260101)
    hours = TARGET.total_seconds() / 3600
    print(
        f"{calls} calls each, target {hours:.0f} h of working time, Python {sys.version.split()[0]}"
    )
    for name, calendar in calendars.items():
        _bench(name, calendar, starts)


if __name__ == "__main__":
    main()
