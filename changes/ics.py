"""iCalendar (RFC 5545) rendering of calendar entries, for Outlook and Google calendars.

Times are written in UTC (no VTIMEZONE needed); each weekly blackout occurrence is its own
event, already placed correctly across DST by changes.windows."""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from icalendar import Calendar, Event

from .calendar import CalendarEntry

PRODID = "-//Service Desk//Change calendar//EN"


def _uid(entry: CalendarEntry, domain: str) -> str:
    if entry.is_change:
        return f"change-{entry.id}@{domain}"
    return f"blackout-{entry.id}-{entry.start.astimezone(UTC):%Y%m%dT%H%M%SZ}@{domain}"


def _event(
    entry: CalendarEntry, *, domain: str, url_for: Callable[[CalendarEntry], str], now: datetime
) -> Event:
    event = Event()
    event.add("uid", _uid(entry, domain))
    event.add("dtstamp", now)
    event.add("dtstart", entry.start.astimezone(UTC))
    event.add("dtend", entry.end.astimezone(UTC))
    services = ", ".join(entry.services)
    if entry.is_change:
        event.add("summary", f"{entry.number} {entry.title}")
        lines = [
            f"Status: {entry.status_label}",
            f"Risk: {entry.risk_label}",
            f"Type: {entry.type}",
        ]
        if entry.team:
            lines.append(f"Team: {entry.team}")
        if services:
            lines.append(f"Services: {services}")
        url = url_for(entry)
        lines.append(url)
        event.add("url", url)
        event.add("categories", [f"Risk {entry.risk_label}"])
        event.add("status", "CONFIRMED")
        event.add("description", "\n".join(lines))
    else:
        event.add("summary", f"Blackout: {entry.title}")
        event.add("description", f"No changes{' to ' + services if services else ''}.")
        event.add("transp", "TRANSPARENT")
    return event


def ics_feed(
    *,
    entries: Iterable[CalendarEntry],
    name: str,
    domain: str,
    url_for: Callable[[CalendarEntry], str],
    now: datetime | None = None,
) -> bytes:
    """The whole feed as bytes (text/calendar; charset=utf-8)."""
    now = now or datetime.now(UTC)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-published-ttl", "PT1H")
    for entry in entries:
        calendar.add_component(_event(entry, domain=domain, url_for=url_for, now=now))
    return calendar.to_ical()
