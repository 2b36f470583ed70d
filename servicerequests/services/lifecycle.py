"""The rest of a request's life: cancel, close (and auto-close), reassign, reply."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import Team, User
from catalogue import formdef
from core.exceptions import DomainError
from tickets.models import TicketEvent
from tickets.services import (
    ticket_change_fields,
    ticket_lock,
    ticket_reply,
    ticket_set_status,
)

from ..choices import AUTO_CLOSE_DAYS, RequestStatus, TaskStatus
from ..models import ServiceRequest
from ..workflow import (
    OPEN_TASK_STATUSES,
    REQUEST_WORKFLOW,
    REQUESTER_CANCELLABLE,
    TASK_WORKFLOW,
)
from .approving import (
    _cancel_pending_approvals,
)
from .common import (
    NotAllowed,
    _lock,
    _set_status,
    _sync,
    _sync_task,
    _tell,
)

R, K = RequestStatus, TaskStatus


@transaction.atomic
def service_request_cancel(
    *, request: ServiceRequest, by: User, reason: str = "", expected_version: int | None = None
) -> ServiceRequest:
    """Withdraw a request: the requester until fulfilment starts, an agent at any open stage
    with a reason. Pending approvals and unfinished tasks are cancelled with it."""
    reason = reason.strip()
    problem = formdef.storable_text(reason)
    if problem:
        raise DomainError(problem, field="reason")
    locked = _lock(request, expected_version)
    REQUEST_WORKFLOW.check_transition(R(locked.status), R.CANCELLED)
    is_requester = locked.ticket.requester_id == by.pk
    own_early = is_requester and locked.status in REQUESTER_CANCELLABLE
    if not getattr(by, "is_agent", False):
        if not is_requester:
            raise NotAllowed("Only the requester or the service desk can cancel a request.")
        if not own_early:
            raise NotAllowed("Work has started: ask the service desk to cancel it.")
    elif not own_early and not reason:
        raise DomainError("Say why the request is cancelled.", field="reason")
    _cancel_pending_approvals(locked)
    for task in locked.tasks.filter(status__in=OPEN_TASK_STATUSES).order_by("order", "pk"):
        task.ticket = ticket_lock(ticket_id=task.pk)
        ticket_set_status(
            ticket=task.ticket,
            detail=task,
            workflow=TASK_WORKFLOW,
            target=K.CANCELLED,
            by=by,
            note="The request was cancelled.",
        )
        _sync_task(task)
    locked.outcome_reason = reason
    locked.save(update_fields=["outcome_reason"])
    _set_status(locked, R.CANCELLED, by, note=reason or "Withdrawn by the requester.")
    if not is_requester:
        _tell(
            locked,
            event="cancelled",
            subject=f"Cancelled: {locked.item_name}",
            body=f"{by} cancelled your request {locked.ticket.number}: {reason}",
        )
    _sync(locked)
    return locked


@transaction.atomic
def service_request_close(
    *, request: ServiceRequest, by: User | None, note: str = "", expected_version: int | None = None
) -> ServiceRequest:
    """Close a fulfilled request (the requester confirms, an agent closes, or auto-close)."""
    locked = _lock(request, expected_version)
    _set_status(locked, R.CLOSED, by, note=note or "Closed.")
    _sync(locked)
    return locked


@transaction.atomic
def service_request_assign(
    *,
    request: ServiceRequest,
    by: User,
    team: Team | None = None,
    assignee: User | None = None,
    expected_version: int | None = None,
) -> ServiceRequest:
    """Change who coordinates the request (its team and assignee); tasks keep theirs."""
    locked = _lock(request, expected_version)
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
    _sync(locked)
    return locked


@transaction.atomic
def service_request_comment(
    *,
    request: ServiceRequest,
    by: User,
    body: str,
    public: bool = True,
    uploads: Iterable[UploadedFile] = (),
    time_spent_minutes: int | None = None,
) -> TicketEvent:
    """A public reply (requester or agent) or an internal work note (agents only). The first
    public agent reply stamps first_responded_at, which stops the response clock."""
    if not public and not by.is_agent:
        raise DomainError("Only agents can write work notes.")
    event = ticket_reply(
        ticket=request.ticket,
        by=by,
        body=body,
        public=public,
        uploads=uploads,
        time_spent_minutes=time_spent_minutes,
    )
    request.refresh_from_db(fields=["status"])
    _sync(request)
    return event


def service_requests_auto_close(*, now: datetime | None = None) -> int:
    """Close requests fulfilled more than AUTO_CLOSE_DAYS ago, each in its own transaction;
    safe to run twice (a closed request is skipped)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=AUTO_CLOSE_DAYS)
    ids = list(
        ServiceRequest.objects.filter(status=R.FULFILLED, ticket__resolved_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    closed = 0
    for pk in ids:
        with transaction.atomic():
            request = (
                ServiceRequest.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=R.FULFILLED)
                .first()
            )
            if request is None:
                continue
            service_request_close(
                request=request,
                by=None,
                note=f"Closed automatically {AUTO_CLOSE_DAYS} days after delivery.",
            )
            closed += 1
    return closed
