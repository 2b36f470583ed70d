"""Fulfilment tasks: created from the item's templates on approval, opened in sequence,
worked in the desk; the request is fulfilled when the last one is finished."""

from collections.abc import Iterable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import AssignmentMethod, Team, User
from core.exceptions import DomainError
from tickets import events
from tickets.assignment import assignee_pick
from tickets.choices import TicketKind
from tickets.models import Ticket, TicketEvent
from tickets.services import (
    ticket_change_fields,
    ticket_create,
    ticket_lock,
    ticket_reply,
    ticket_save,
    ticket_set_status,
)

from ..choices import RequestStatus, TaskStatus
from ..models import FulfilmentTask, ServiceRequest
from ..workflow import (
    FINISHED_TASK_STATUSES,
    OPEN_TASK_STATUSES,
    TASK_WORKFLOW,
)
from .common import (
    _lock,
    _set_status,
    _sync,
    _sync_task,
    _tell,
)

R, K = RequestStatus, TaskStatus


def _tasks_create(request: ServiceRequest) -> None:
    """Tasks from the item's templates (as snapshotted); one generic task when it has none.
    A task is open at once unless it waits for earlier tasks."""
    templates = request.item_snapshot.get("tasks") or [
        {
            "title": f"Fulfil: {request.item_name}",
            "instructions": "Deliver what was ordered (see the request's answers).",
            "team_id": None,
            "order": 10,
            "waits_for_previous": False,
        }
    ]
    lowest = min(t.get("order", 10) for t in templates)
    teams = {t.pk: t for t in Team.objects.filter(pk__in=[t.get("team_id") for t in templates])}
    for template in templates:
        order = template.get("order", 10)
        waits = bool(template.get("waits_for_previous")) and order > lowest
        team = teams.get(template.get("team_id")) or request.ticket.team
        status = K.WAITING if waits else K.OPEN
        ticket = ticket_create(
            kind=TicketKind.TASK,
            title=f"{template['title']} · {request.ticket.number}"[:200],
            description=template.get("instructions", ""),
            requester=request.ticket.requester,
            by=None,
            priority=request.ticket.priority,
            team=team,
            service=request.ticket.service,
            state=TASK_WORKFLOW.state_of(status),
            data={"request": request.ticket.number},
        )
        task = FulfilmentTask.objects.create(
            ticket=ticket, request=request, order=order, waits_for_previous=waits, status=status
        )
        if status == K.OPEN:
            _auto_assign(task)
        _sync_task(task)
    events.system(
        ticket=request.ticket,
        code="tasks_created",
        public=True,
        body=f"{len(templates)} fulfilment task{'s' if len(templates) != 1 else ''} created.",
    )


def _auto_assign(task: FulfilmentTask) -> None:
    team = task.ticket.team
    if team is None or team.assignment_method == AssignmentMethod.OFF or task.ticket.assignee_id:
        return
    locked_team = Team.objects.select_for_update().get(pk=team.pk)
    decision = assignee_pick(team=locked_team, at=timezone.now())
    if decision.assignee is None:
        return
    ticket_change_fields(
        ticket=task.ticket,
        by=None,
        changes={"assignee": decision.assignee},
        reason=f"auto-assigned, {locked_team.get_assignment_method_display().lower()}",
    )
    locked_team.last_assigned = decision.assignee
    locked_team.save(update_fields=["last_assigned"])


def _tasks_progress(request: ServiceRequest, by: Any) -> None:
    """Open the waiting tasks whose earlier tasks are finished; fulfil the request when every
    task is finished and at least one was done."""
    tasks = list(request.tasks.select_related("ticket").order_by("order", "pk"))
    for task in tasks:
        if task.status != K.WAITING:
            continue
        earlier = [t for t in tasks if t.order < task.order]
        if all(t.status in FINISHED_TASK_STATUSES for t in earlier):
            task.ticket = ticket_lock(ticket_id=task.pk)
            ticket_set_status(
                ticket=task.ticket,
                detail=task,
                workflow=TASK_WORKFLOW,
                target=K.OPEN,
                by=None,
                note="The earlier tasks are finished.",
            )
            _auto_assign(task)
            _sync_task(task)
    if request.status != R.IN_FULFILMENT or not tasks:
        return
    if any(t.status in OPEN_TASK_STATUSES for t in tasks):
        return
    if not any(t.status == K.DONE for t in tasks):
        events.system(
            ticket=request.ticket,
            code="tasks_cancelled",
            body="Every task was cancelled: cancel the request or add work to it.",
        )
        return
    _set_status(request, R.FULFILLED, by, note="Every fulfilment task is done.")
    _tell(
        request,
        event="fulfilled",
        subject=f"Delivered: {request.item_name}",
        body=f"Your request {request.ticket.number} is fulfilled. If something is missing, "
        "add a comment to it.",
    )


def _lock_task(
    task: FulfilmentTask, expected_version: int | None
) -> tuple[ServiceRequest, FulfilmentTask]:
    """Lock the request first, then the task: the same order everywhere avoids deadlocks."""
    request = _lock(ServiceRequest(pk=task.request_id))
    ticket = ticket_lock(ticket_id=task.pk, expected_version=expected_version)
    locked = FulfilmentTask.objects.select_for_update(of=("self",)).get(pk=task.pk)
    locked.ticket = ticket
    return request, locked


def _responded(ticket: Ticket) -> None:
    if ticket.first_responded_at is None:
        ticket.first_responded_at = timezone.now()
        ticket_save(ticket=ticket, fields=["first_responded_at"])


@transaction.atomic
def task_transition(
    *,
    task: FulfilmentTask,
    by: User,
    target: TaskStatus,
    note: str = "",
    expected_version: int | None = None,
) -> FulfilmentTask:
    """Move a task through its lifecycle. Cancelling needs a reason. Finishing a task opens
    the next ones and fulfils the request after the last."""
    target = TaskStatus(target)
    note = note.strip()
    if target == K.CANCELLED and not note:
        raise DomainError("Say why the task is cancelled.", field="note")
    request, locked = _lock_task(task, expected_version)
    ticket_set_status(
        ticket=locked.ticket, detail=locked, workflow=TASK_WORKFLOW, target=target, by=by, note=note
    )
    if target in (K.IN_PROGRESS, K.DONE):
        # Work has started: the request's (and the task's) response clock stops.
        _responded(locked.ticket)
        _responded(request.ticket)
        if locked.ticket.assignee_id is None and getattr(by, "is_agent", False):
            ticket_change_fields(ticket=locked.ticket, by=by, changes={"assignee": by})
    _sync_task(locked)
    if target in FINISHED_TASK_STATUSES:
        _tasks_progress(request, by)
    _sync(request)
    return locked


@transaction.atomic
def task_assign(
    *,
    task: FulfilmentTask,
    by: User,
    team: Team | None = None,
    assignee: User | None = None,
    expected_version: int | None = None,
) -> FulfilmentTask:
    """Give a task to a team and/or an agent of that team."""
    _request, locked = _lock_task(task, expected_version)
    ticket = locked.ticket
    team = team or ticket.team
    if assignee is not None and not assignee.is_agent:
        raise DomainError(f"{assignee} is not an agent.", field="assignee")
    if (
        assignee is not None
        and team is not None
        and not team.members.filter(pk=assignee.pk).exists()
    ):
        raise DomainError(f"{assignee} is not a member of {team}.", field="assignee")
    changes: dict[str, Any] = {"team": team}
    if team != ticket.team and assignee is None:
        changes["assignee"] = None
    if assignee is not None:
        changes["assignee"] = assignee
    ticket_change_fields(ticket=ticket, by=by, changes=changes)
    _sync_task(locked)
    return locked


@transaction.atomic
def task_comment(
    *,
    task: FulfilmentTask,
    by: User,
    body: str,
    public: bool = False,
    uploads: Iterable[UploadedFile] = (),
    time_spent_minutes: int | None = None,
) -> TicketEvent:
    """A work note (default) or a public reply on a task."""
    event = ticket_reply(
        ticket=task.ticket,
        by=by,
        body=body,
        public=public,
        uploads=uploads,
        time_spent_minutes=time_spent_minutes,
    )
    task.refresh_from_db(fields=["status"])
    _sync_task(task)
    return event
