"""Reporting periods in the viewer's time zone.

A period is a run of whole local days, first to last inclusive; as instants it is
[local midnight of the first day, local midnight after the last day). "Last 7 days" means the
seven local days ending today (today included, so far). Day boundaries come from zoneinfo, so
a period is exact across daylight-saving changes (a local day may last 23 or 25 hours)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .choices import Granularity, PeriodPreset

#: Longest custom period (a year and a day covers "the same day last year").
MAX_DAYS = 367


def zone_or_utc(name: str) -> str:
    """A valid IANA zone name: the given one, or UTC when it is unknown."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def day_start(day: date, zone: str) -> datetime:
    """The UTC instant the local day begins (its first instant when midnight does not exist)."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def local_date(instant: datetime, zone: str) -> date:
    return instant.astimezone(ZoneInfo(zone)).date()


@dataclass(frozen=True)
class Period:
    """Whole local days [first, last] in `zone`."""

    zone: str
    first: date
    last: date
    preset: str = PeriodPreset.CUSTOM

    @property
    def start(self) -> datetime:
        return day_start(self.first, self.zone)

    @property
    def end(self) -> datetime:
        return day_start(self.last + timedelta(days=1), self.zone)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def label(self) -> str:
        if self.first == self.last:
            return f"{self.first:%d %b %Y}"
        return f"{self.first:%d %b %Y} – {self.last:%d %b %Y}"

    def default_granularity(self) -> str:
        return Granularity.DAY if len(self.days) <= 31 else Granularity.WEEK

    def buckets(self, granularity: str) -> list[tuple[date, date]]:
        """Consecutive [first, last] day ranges: single days, or Monday-based weeks clipped to
        the period."""
        if granularity == Granularity.DAY:
            return [(d, d) for d in self.days]
        result = []
        first = self.first
        while first <= self.last:
            last = min(first + timedelta(days=6 - first.weekday()), self.last)
            result.append((first, last))
            first = last + timedelta(days=1)
        return result


def period_for(
    preset: str,
    *,
    zone: str,
    today: date,
    first: date | None = None,
    last: date | None = None,
) -> Period:
    """The period a preset names, as seen on `today` in `zone`. Custom needs first and last."""
    if preset == PeriodPreset.THIS_WEEK:
        return Period(zone, today - timedelta(days=today.weekday()), today, preset)
    if preset in (PeriodPreset.LAST_7, PeriodPreset.LAST_30, PeriodPreset.LAST_90):
        days = int(preset.split("_")[1])
        return Period(zone, today - timedelta(days=days - 1), today, preset)
    if preset == PeriodPreset.THIS_QUARTER:
        month = 3 * ((today.month - 1) // 3) + 1
        return Period(zone, date(today.year, month, 1), today, preset)
    if first is None or last is None:
        raise ValueError("A custom period needs a first and a last day.")
    return Period(zone, first, last, PeriodPreset.CUSTOM)
