"""Bulk actions on queue rows. Each ticket goes through the same service as its single
action, in its own transaction, so one refusal never undoes the others; the result lists
what was updated and why the rest was refused ("17 updated, 3 refused: reason")."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from accounts.models import Team, User
from changes import permissions as change_permissions
from changes.services import change_assign
from core.exceptions import DomainError, StaleWrite
from incidents import permissions as incident_permissions
from incidents.choices import IncidentStatus, ResolutionCode
from incidents.services import incident_assign, incident_override_priority, incident_transition
from servicerequests import permissions as request_permissions
from servicerequests.choices import TaskStatus
from servicerequests.services import (
    service_request_assign,
    service_request_cancel,
    task_assign,
    task_transition,
)
from tickets.choices import LinkKind, TicketKind, TicketState
from tickets.models import Ticket
from tickets.services import ticket_link, ticket_reply, ticket_set_tags

#: How many tickets one bulk action may touch.
MAX_BULK = 100


@dataclass
class BulkResult:
    updated: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    @property
    def summary(self) -> str:
        text = f"{len(self.updated)} updated"
        if self.refused:
            text += f", {len(self.refused)} refused"
        return text + "."


def _detail(ticket: Ticket) -> Any:
    """The kind's own row (Incident, ServiceRequest, FulfilmentTask, Change)."""
    return getattr(ticket, KIND_DETAIL[ticket.kind])


KIND_DETAIL = {
    TicketKind.INCIDENT: "incident",
    TicketKind.REQUEST: "service_request",
    TicketKind.TASK: "fulfilment_task",
    TicketKind.CHANGE: "change",
}


def take_team(ticket: Ticket, user: User) -> Team | None:
    """The team an agent takes a ticket into ("Assign to me"): the ticket's own team when they
    belong to it, else their first team by name (the ticket's team if they have none)."""
    if ticket.team_id is not None and ticket.team_id in user.team_ids:
        return ticket.team
    return user.teams.order_by("name").first() or ticket.team


def can_work(user: Any, ticket: Ticket) -> bool:
    """The single-action permission predicate of the ticket's kind."""
    detail = _detail(ticket)
    if ticket.kind == TicketKind.INCIDENT:
        return incident_permissions.can_work(user, detail)
    if ticket.kind == TicketKind.REQUEST:
        return request_permissions.can_work(user, detail)
    if ticket.kind == TicketKind.TASK:
        return request_permissions.can_work_task(user, detail)
    return change_permissions.can_work(user, detail)


# ------------------------------------------------------------------ per-ticket actions
def _assign(ticket: Ticket, by: User, version: int, data: dict[str, Any]) -> None:
    team: Team | None = data.get("team")
    assignee: User | None = data.get("assignee")
    if data.get("assignee_me") and assignee == by and team is None:
        team = take_team(ticket, by)  # "Assign to me" as on the ticket page
    detail = _detail(ticket)
    call = {
        TicketKind.INCIDENT: lambda: incident_assign(incident=detail, by=by, **kw),
        TicketKind.REQUEST: lambda: service_request_assign(request=detail, by=by, **kw),
        TicketKind.TASK: lambda: task_assign(task=detail, by=by, **kw),
        TicketKind.CHANGE: lambda: change_assign(change=detail, by=by, **kw),
    }
    kw = {"team": team, "assignee": assignee, "expected_version": version}
    call[TicketKind(ticket.kind)]()


#: Bulk status targets: value → (kind, status value, label).
STATUS_TARGETS: dict[str, tuple[str, str, str]] = {
    **{
        f"incident:{s.value}": ("incident", s.value, f"Incident → {s.label}")
        for s in IncidentStatus
        if s != IncidentStatus.NEW
    },
    **{
        f"task:{s.value}": ("task", s.value, f"Task → {s.label}")
        for s in TaskStatus
        if s not in (TaskStatus.WAITING,)
    },
    "request:cancelled": ("request", "cancelled", "Request → Cancelled"),
}


def _status(ticket: Ticket, by: User, version: int, data: dict[str, Any]) -> None:
    kind, value, _label = STATUS_TARGETS[data["target"]]
    if ticket.kind != kind:
        raise DomainError(f"This action applies to {kind}s only.")
    detail = _detail(ticket)
    note = data.get("note", "")
    if kind == "incident":
        incident_transition(
            incident=detail,
            by=by,
            target=IncidentStatus(value),
            note=note,
            on_hold_reason=data.get("on_hold_reason", ""),
            resolution_code=data.get("resolution_code", ""),
            resolution_notes=data.get("resolution_notes", ""),
            expected_version=version,
        )
    elif kind == "task":
        task_transition(
            task=detail, by=by, target=TaskStatus(value), note=note, expected_version=version
        )
    else:
        service_request_cancel(request=detail, by=by, reason=note, expected_version=version)


def _priority(ticket: Ticket, by: User, version: int, data: dict[str, Any]) -> None:
    if ticket.kind != TicketKind.INCIDENT:
        raise DomainError("Only an incident's priority is set by hand; the others follow rules.")
    incident_override_priority(
        incident=_detail(ticket),
        by=by,
        priority=data["priority"],
        reason=data["reason"],
        expected_version=version,
    )


def _tag(ticket: Ticket, by: User, version: int, data: dict[str, Any]) -> None:
    ticket_set_tags(
        ticket=ticket, by=by, tags=[*ticket.tags, data["tag"]], expected_version=version
    )


#: Each action's required field and the message when it is missing (UI and API alike).
REQUIRED: dict[str, tuple[str, str]] = {
    "assign": ("assignee", "Choose whom to assign to."),
    "team": ("team", "Choose a team."),
    "status": ("target", "Choose the new status."),
    "priority": ("reason", "Say why the priority changes."),
    "tag": ("tag", "Write the tag to add."),
}


def bulk_problems(action: str, data: dict[str, Any]) -> dict[str, str]:
    """What is missing for `action` (field → message); empty when it can run."""
    problems: dict[str, str] = {}
    name, message = REQUIRED.get(action, ("", ""))
    if name and not data.get(name) and not (action == "assign" and data.get("assignee_me")):
        problems[name] = message
    if action == "priority" and not data.get("priority"):
        problems["priority"] = "Choose a priority."
    return problems


ACTIONS: dict[str, Callable[[Ticket, User, int, dict[str, Any]], None]] = {
    "assign": _assign,
    "team": _assign,
    "status": _status,
    "priority": _priority,
    "tag": _tag,
}


def bulk_apply(
    *, action: str, by: User, selection: Iterable[tuple[int, int]], data: dict[str, Any]
) -> BulkResult:
    """Apply `action` to each selected (ticket id, version the agent saw). Tickets the agent
    cannot see are reported as not found; one changed since the queue was loaded is refused
    (its version moved), never overwritten."""
    run = ACTIONS[action]

    def one(ticket: Ticket, version: int) -> None:
        if not can_work(by, ticket):
            raise DomainError("You may not work on this ticket.")
        run(ticket, by, version, data)

    result = BulkResult()
    return _each(result, _load(by, selection, result), one)


def _each(
    result: BulkResult,
    loaded: list[tuple[Ticket, int]],
    work: Callable[[Ticket, int], None],
) -> BulkResult:
    """`work` on each loaded (ticket, version) in its own transaction; a refusal is reported
    with its reason and the rest go on."""
    for ticket, version in loaded:
        try:
            with transaction.atomic():
                work(ticket, version)
        except StaleWrite:
            result.refused.append((ticket.number, "changed by someone else since you loaded it"))
        except DomainError as exc:
            result.refused.append((ticket.number, exc.message))
        else:
            result.updated.append(ticket.number)
    return result


def _load(
    by: User, selection: Iterable[tuple[int, int]], result: BulkResult
) -> list[tuple[Ticket, int]]:
    versions = dict(list(selection)[:MAX_BULK])
    found = {
        t.pk: t
        for t in Ticket.objects.visible_to(by)
        .filter(pk__in=versions)
        .select_related(*KIND_DETAIL.values())
    }
    loaded = []
    for pk, version in versions.items():
        if pk in found:
            loaded.append((found[pk], version))
        else:
            result.refused.append((f"#{pk}", "not found"))
    return loaded


# ------------------------------------------------------------------ merge
MERGEABLE = {TicketKind.INCIDENT, TicketKind.REQUEST}


def tickets_merge(*, target: Ticket, by: User, selection: Iterable[tuple[int, int]]) -> BulkResult:
    """Merge duplicates into `target`: each one is linked "duplicate of" the target, both
    journals say so, its requester is told in a public reply where to follow, and it is
    resolved (incident, code Duplicate) or cancelled (request). Same kind only; the target
    must be open. Each merge is its own transaction."""
    result = BulkResult()
    if target.kind not in MERGEABLE:
        raise DomainError("Only incidents and service requests can be merged.", field="target")
    if target.state not in (TicketState.OPEN, TicketState.ON_HOLD):
        raise DomainError(f"{target.number} is no longer open.", field="target")
    sources = [(t, v) for t, v in _load(by, selection, result) if t.pk != target.pk]
    return _each(
        result,
        sources,
        lambda source, version: _merge_one(source=source, target=target, by=by, version=version),
    )


def _merge_one(*, source: Ticket, target: Ticket, by: User, version: int) -> None:
    if source.kind != target.kind:
        raise DomainError(f"A {source.get_kind_display().lower()} cannot merge into {target}.")
    if not (can_work(by, source) and can_work(by, target)):
        raise DomainError("You may not work on this ticket.")
    if source.state not in (TicketState.OPEN, TicketState.ON_HOLD):
        raise DomainError("It is no longer open.")
    if source.version != version:
        raise StaleWrite(current_version=source.version)
    ticket_link(source=source, target=target, kind=LinkKind.DUPLICATE_OF, by=by)
    notes = f"Duplicate of {target.number}: {target.title}"
    ticket_reply(
        ticket=source,
        by=by,
        public=True,
        body=(
            f"We are handling this together with {target.number} ({target.title}), which "
            f"reports the same thing. Updates will come on {target.number}."
        ),
    )
    detail = _detail(source)
    if source.kind == TicketKind.INCIDENT:
        incident_transition(
            incident=detail,
            by=by,
            target=IncidentStatus.RESOLVED,
            resolution_code=ResolutionCode.DUPLICATE,
            resolution_notes=notes,
        )
    else:
        service_request_cancel(request=detail, by=by, reason=notes)
