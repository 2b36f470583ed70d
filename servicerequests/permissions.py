"""Object-level predicates for service requests, approvals and fulfilment tasks. Row
visibility is `ServiceRequest.objects.visible_to(user)` / `FulfilmentTask.objects.visible_to`;
these say what a user who can see the object may do. Portal, desk and API call them."""

from typing import Any

from catalogue.models import CatalogueItem
from tickets.choices import ApprovalDecision
from tickets.models import Approval

from . import approvals
from .choices import RequestStatus
from .models import FulfilmentTask, ServiceRequest
from .workflow import OPEN_REQUEST_STATUSES, REQUESTER_CANCELLABLE


def can_order(user: Any, item: CatalogueItem) -> bool:
    """Active items of an active category, for everyone, the item's organisations or groups."""
    return item.is_orderable_by(user)


def is_requester(user: Any, request: ServiceRequest) -> bool:
    return request.ticket.requester_id == getattr(user, "pk", None)


def can_work(user: Any, request: ServiceRequest) -> bool:
    """Reply, add work notes, reassign, close: agents."""
    return bool(getattr(user, "is_agent", False))


def can_comment(user: Any, request: ServiceRequest) -> bool:
    """Public replies: agents, and the requester while the request is open."""
    if can_work(user, request):
        return True
    return is_requester(user, request) and request.status in OPEN_REQUEST_STATUSES


def can_cancel(user: Any, request: ServiceRequest) -> bool:
    """The requester until fulfilment starts; agents while the request is open (with a
    reason)."""
    if request.status not in OPEN_REQUEST_STATUSES:
        return False
    if can_work(user, request):
        return True
    return is_requester(user, request) and request.status in REQUESTER_CANCELLABLE


def can_close(user: Any, request: ServiceRequest) -> bool:
    """A fulfilled request is closed by its requester (confirming) or an agent."""
    if request.status != RequestStatus.FULFILLED:
        return False
    return can_work(user, request) or is_requester(user, request)


def can_decide(user: Any, approval: Approval, request: ServiceRequest) -> bool:
    """Approve or reject: the approver, their delegate while the delegation runs, or a member
    of the approving team; never the requester, and only while the stage is under way."""
    if approval.decision != ApprovalDecision.PENDING:
        return False
    if (
        request.status != RequestStatus.AWAITING_APPROVAL
        or approval.stage != request.approval_stage
    ):
        return False
    if is_requester(user, request):
        return False
    return approvals.may_decide(user, approval)


def can_view_approval(user: Any, approval: Approval) -> bool:
    """Who may open an approval's page: whoever may decide it now, and whoever decided it."""
    if approval.decided_by_id is not None and approval.decided_by_id == getattr(user, "pk", None):
        return True
    return approvals.may_decide(user, approval)


def can_work_task(user: Any, task: FulfilmentTask) -> bool:
    """Tasks are worked by agents (visibility already limits them to the right teams)."""
    return bool(getattr(user, "is_agent", False))
