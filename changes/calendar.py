"""The change calendar: booked and past change windows plus blackout occurrences in a date
range, as plain entries the desk, the API and the iCalendar feed all render.

A range costs a constant number of queries (changes, their services, blackouts, their
services) however many entries it holds; weekly blackouts are expanded in Python."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch

from catalogue.models import Service

from .choices import CHANGE_COLOURS, RISK_COLOURS, ChangeStatus, Risk
from .conflicts import blackout_candidates, blackout_hits, related_service_ids
from .models import Change
from .workflow import CALENDAR_STATUSES

#: Colour schemes the calendar offers.
COLOUR_BY = ("risk", "state")


@dataclass(frozen=True)
class CalendarEntry:
    """One bar on the calendar: a change window or one blackout occurrence."""

    kind: str  # "change" or "blackout"
    id: int
    title: str
    start: datetime
    end: datetime
    colour: str
    number: str = ""
    status: str = ""
    status_label: str = ""
    risk: str = ""
    risk_label: str = ""
    type: str = ""
    team: str = ""
    services: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_change(self) -> bool:
        return self.kind == "change"


def calendar_changes(
    *,
    user: Any,
    start: datetime,
    end: datetime,
    service: Service | None = None,
    team: Any = None,
) -> Any:
    """Visible changes with a window overlapping [start, end) in a calendar status."""
    queryset = (
        Change.objects.visible_to(user)
        .filter(status__in=CALENDAR_STATUSES)
        .in_window(start, end)
        .select_related("ticket__team")
        .prefetch_related(Prefetch("services", queryset=Service.objects.only("pk", "name")))
        .order_by("planned_start", "pk")
    )
    if service is not None:
        queryset = queryset.filter(
            pk__in=Change.services.through.objects.filter(service=service).values("change_id")
        )
    if team is not None:
        queryset = queryset.filter(ticket__team=team)
    return queryset


def change_entry(change: Change, colour_by: str = "risk") -> CalendarEntry:
    colour = (
        CHANGE_COLOURS.get(change.status, "grey")
        if colour_by == "state"
        else RISK_COLOURS.get(change.risk, "grey")
    )
    return CalendarEntry(
        kind="change",
        id=change.pk,
        title=change.ticket.title,
        start=change.planned_start,
        end=change.planned_end,
        colour=colour,
        number=change.ticket.number,
        status=change.status,
        status_label=str(ChangeStatus(change.status).label),
        risk=change.risk,
        risk_label=str(Risk(change.risk).label),
        type=change.type,
        team=change.ticket.team.name if change.ticket.team_id else "",
        services=tuple(s.name for s in change.services.all()),
    )


def calendar_entries(
    *,
    user: Any,
    start: datetime,
    end: datetime,
    service: Service | None = None,
    team: Any = None,
    colour_by: str = "risk",
    with_blackouts: bool = True,
) -> list[CalendarEntry]:
    """Change windows and blackout occurrences overlapping [start, end), by start time.
    With a service filter, blackouts are those that apply to it (or to every service)."""
    entries = [
        change_entry(change, colour_by)
        for change in calendar_changes(user=user, start=start, end=end, service=service, team=team)
    ]
    if with_blackouts:
        service_ids = None if service is None else related_service_ids([service.pk])
        for hit in blackout_hits(
            start=start,
            end=end,
            service_ids=service_ids,
            windows=blackout_candidates(start=start, end=end),
        ):
            entries.append(
                CalendarEntry(
                    kind="blackout",
                    id=hit.window.pk,
                    title=hit.window.name,
                    start=hit.start,
                    end=hit.end,
                    colour="black",
                    services=tuple(s.name for s in hit.window.services.all()),
                )
            )
    entries.sort(key=lambda e: (e.start, e.kind != "blackout", e.id))
    return entries
