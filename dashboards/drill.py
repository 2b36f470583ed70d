"""Drill-down links: every dashboard figure links to the desk queue filtered to exactly the
tickets it counts (tickets.filtersets.TicketFilterSet). Each link names the states it spans,
so sets that include resolved and closed tickets say so."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.urls import reverse

from tickets.choices import OPEN_STATES, TicketState

from .scope import Scope

Params = dict[str, list[str]]

OPEN = [str(s) for s in OPEN_STATES]
ANY_STATE = [s.value for s in TicketState]


def queue_url(params: Mapping[str, Sequence[str]]) -> str:
    return f"{reverse('desk:queue')}?{urlencode(dict(params), doseq=True)}"


def instant(value: datetime, zone: str) -> str:
    """ISO 8601 in the viewer's zone (readable in the address bar, exact as an instant)."""
    return value.astimezone(ZoneInfo(zone)).isoformat()


def base(scope: Scope, *, states: list[str]) -> Params:
    return {**scope.drill_params(), "state": list(states)}


def sla_stopped(
    scope: Scope, *, metric: str, result: str, start: datetime, end: datetime, zone: str
) -> Params:
    """Tickets whose `metric` clock stopped in [start, end) with `result` (met, breached or
    stopped = either)."""
    return base(scope, states=ANY_STATE) | {
        "sla": [f"{metric}_{result}"],
        "sla_after": [instant(start, zone)],
        "sla_before": [instant(end, zone)],
    }


def sla_open(scope: Scope, *, which: str) -> Params:
    """Open tickets with a breached clock (`breached_open`) or past the last warning."""
    return base(scope, states=OPEN) | {"sla": [which]}


def created(scope: Scope, *, start: datetime | None, end: datetime | None, zone: str) -> Params:
    params = base(scope, states=ANY_STATE)
    if start is not None:
        params["created_after"] = [instant(start, zone)]
    if end is not None:
        params["created_before"] = [instant(end, zone)]
    return params


def open_created(
    scope: Scope, *, start: datetime | None, end: datetime | None, zone: str
) -> Params:
    """Open tickets created in [start, end) (the backlog's age buckets)."""
    return created(scope, start=start, end=end, zone=zone) | {"state": OPEN}


def resolved(scope: Scope, *, start: datetime, end: datetime, zone: str) -> Params:
    return base(scope, states=ANY_STATE) | {
        "resolved_after": [instant(start, zone)],
        "resolved_before": [instant(end, zone)],
    }


def ids(ticket_ids: Sequence[int], *, states: list[str] = ANY_STATE) -> Params | None:
    """A fixed list of tickets; None when the list is too long for a link."""
    from tickets.filtersets import MAX_IDS

    if not ticket_ids or len(ticket_ids) > MAX_IDS:
        return None
    return {"state": list(states), "ids": [",".join(str(i) for i in sorted(ticket_ids))]}


def with_dimension(params: Params, dimension: str, value: object) -> Params:
    """Narrow a link to one value of a breakdown dimension (None → the "none" filter)."""
    key = {
        "team_id": "teams",
        "service_id": "service",
        "organization_id": "organization",
        "category_id": "category",
        "priority": "priority",
        "kind": "kind",
        "channel": "channel",
        "assignee_id": "assignee",
    }[dimension]
    none = "unassigned" if key == "assignee" else "null"
    return params | {key: [none if value is None else str(value)]}
