"""Object-level predicates for changes. Row visibility is Change.objects.visible_to(user); these
say what a user who can see a change may do with it. Desk, portal, API and admin call them."""

from typing import Any

from accounts.roles import Role
from tickets.choices import ApprovalDecision
from tickets.models import Approval

from .choices import ChangeStatus, ChangeType
from .models import Change
from .services import decidable_statuses, is_approver, is_change_manager
from .workflow import ASSESSABLE_STATUSES


def can_work(user: Any, change: Change) -> bool:
    """Edit, plan, schedule, implement, review, write work notes: agents."""
    return bool(getattr(user, "is_agent", False))


def can_manage(user: Any, change: Change | None = None) -> bool:
    """Change-manager decisions: send to CAB, reject, send back, override risk and conflicts."""
    return is_change_manager(user)


def can_send_to_cab(user: Any, change: Change) -> bool:
    """The change manager approves (stage 1) and asks the CAB."""
    return can_manage(user, change) and change.can_transition_to(ChangeStatus.AUTHORIZE)


def can_assess_risk(user: Any, change: Change) -> bool:
    """Answer the risk questionnaire: agents, before the CAB."""
    return (
        can_work(user, change)
        and change.type != ChangeType.STANDARD
        and change.status in ASSESSABLE_STATUSES
    )


def can_override_risk(user: Any, change: Change) -> bool:
    return can_manage(user, change) and can_assess_risk(user, change)


def can_decide(user: Any, change: Change, approval: Approval) -> bool:
    """The approver decides a pending approval while the change awaits it."""
    return (
        approval.decision == ApprovalDecision.PENDING
        and approval.ticket_id == change.pk
        and is_approver(user, approval)
        and change.status in decidable_statuses(change)
    )


def can_manage_blackouts(user: Any) -> bool:
    """Blackout windows are the change managers' to define."""
    return is_change_manager(user)


def can_use_calendar(user: Any) -> bool:
    """The change calendar and its feed: agents, change managers and CAB members."""
    return bool(
        getattr(user, "is_agent", False)
        or (getattr(user, "is_authenticated", False) and user.has_role(Role.CAB_MEMBER))
    )
