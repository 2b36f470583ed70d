"""Template helpers for service requests: the requester's panel on the portal ticket page."""

from typing import Any

from django import template

from tickets.models import Approval

from .. import permissions
from ..models import ServiceRequest
from ..progress import progress_for

register = template.Library()


@register.inclusion_tag("portal/requests/_panel.html", takes_context=True)
def request_panel(context: dict[str, Any], ticket: Any) -> dict[str, Any]:
    """Progress and the requester's actions (cancel, confirm receipt): three queries
    whatever the number of tasks or approvals."""
    user = context["request"].user
    service_request = ServiceRequest.objects.select_related("requested_for").get(pk=ticket.pk)
    service_request.ticket = ticket
    approvals = list(
        Approval.objects.filter(ticket_id=ticket.pk).select_related("approver", "approver_team")
    )
    tasks = list(service_request.tasks.select_related("ticket").order_by("order", "pk"))
    return {
        "sr": service_request,
        "ticket": ticket,
        "progress": progress_for(service_request, approvals=approvals, tasks=tasks),
        "tasks": tasks,
        "can_cancel": permissions.can_cancel(user, service_request),
        "can_close": permissions.can_close(user, service_request),
        "csrf_token": context.get("csrf_token"),
        "request": context["request"],
    }
