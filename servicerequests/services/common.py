"""Shared by the request services: errors, locking, status moves, SLA sync, who hears
about a request, and the working calendar its delivery is measured on."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from core.exceptions import DomainError
from slas.calendar import Calendar, add_business_time
from slas.models import SlaPolicy
from slas.services import policy_for, sla_clocks_sync
from tickets.choices import TicketKind
from tickets.models import Ticket
from tickets.notifications import notify
from tickets.services import (
    ticket_lock,
    ticket_set_status,
)

from ..choices import RequestStatus
from ..models import FulfilmentTask, ServiceRequest
from ..workflow import (
    REQUEST_WORKFLOW,
)


class NotAllowed(DomainError):
    """The caller may not do this (an interface should have checked the predicate first)."""

    status_code = 403
    title = "Not allowed"


class ApprovalClosed(DomainError):
    """The approval was decided meanwhile, or the request no longer waits for it."""

    status_code = 409
    title = "Approval no longer open"


def _sync(request: ServiceRequest) -> None:
    """Clocks follow every change in the same transaction (no signals: an explicit call)."""
    sla_clocks_sync(ticket=request.ticket, status=request.status)


def _sync_task(task: FulfilmentTask) -> None:
    sla_clocks_sync(ticket=task.ticket, status=task.status)


def _lock(request: ServiceRequest, expected_version: int | None = None) -> ServiceRequest:
    ticket = ticket_lock(ticket_id=request.pk, expected_version=expected_version)
    locked = (
        ServiceRequest.objects.select_for_update(of=("self",))
        .select_related("item__service__owner", "requested_for")
        .get(pk=request.pk)
    )
    locked.ticket = ticket
    return locked


def _set_status(request: ServiceRequest, target: RequestStatus, by: Any, note: str = "") -> None:
    ticket_set_status(
        ticket=request.ticket,
        detail=request,
        workflow=REQUEST_WORKFLOW,
        target=target,
        by=by,
        note=note,
    )


def _people(request: ServiceRequest) -> list[Any]:
    """Who hears about the request's progress: the requester and whom it is for."""
    return [request.ticket.requester, request.requested_for]


def _tell(request: ServiceRequest, *, event: str, subject: str, body: str = "") -> None:
    notify(
        recipients=_people(request),
        ticket=request.ticket,
        event=event,
        subject=subject,
        body=body,
        dedupe_key=f"request-{request.pk}-{event}",
    )


def default_calendar() -> Calendar:
    """Office hours when no SLA policy says otherwise: Monday to Friday, 09:00-17:00."""
    return Calendar.office(settings.TIME_ZONE)


def request_policies() -> list[SlaPolicy]:
    """Active request SLA policies, loaded once for a batch (as the SLA engine orders them)."""
    return list(
        SlaPolicy.objects.filter(active=True, kind=TicketKind.REQUEST)
        .select_related("calendar")
        .prefetch_related("services", "teams", "organizations")
        .order_by("order", "pk")
    )


def request_calendar(
    ticket: Ticket, policies: list[SlaPolicy] | None = None
) -> tuple[Calendar, timedelta | None]:
    """The calendar (and delivery target) of the resolution SLA that applies to the request,
    else the default office calendar."""
    policy, _reason = policy_for(ticket=ticket, metric="resolution", policies=policies)
    if policy is None:
        return default_calendar(), None
    return policy.calendar.calendar, policy.target


def expected_delivery(request: ServiceRequest, *, start: datetime) -> datetime | None:
    """When the request should be delivered if work starts at `start`: the item's expected
    delivery time (else the SLA target) in working time on the SLA's (or office) calendar."""
    calendar, target = request_calendar(request.ticket)
    seconds = request.item_snapshot.get("expected_delivery_seconds")
    delta = timedelta(seconds=seconds) if seconds else target
    if delta is None:
        return None
    return add_business_time(calendar, start, delta)
