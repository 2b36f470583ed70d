"""Who may decide an approval: the approver, their delegate while the delegation runs, or any
member of the approving team (for "any one member" stages). Selection helpers used by the
predicates, the visibility rule and the "My approvals" lists."""

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from tickets.choices import ApprovalDecision, TicketKind
from tickets.models import Approval

from .choices import RequestStatus


def today() -> date:
    return timezone.localdate()


def delegation_window_q(on: date, prefix: str = "") -> Q:
    """Users whose delegation covers `on` (open ends allowed)."""
    return (
        Q(**{f"{prefix}delegate_from__isnull": True}) | Q(**{f"{prefix}delegate_from__lte": on})
    ) & (Q(**{f"{prefix}delegate_until__isnull": True}) | Q(**{f"{prefix}delegate_until__gte": on}))


def delegation_active(user: Any, on: date | None = None) -> bool:
    """Whether `user` has handed their approvals to a delegate on `on` (default today)."""
    if user is None or user.delegate_id is None:
        return False
    on = on or today()
    if user.delegate_from is not None and on < user.delegate_from:
        return False
    return user.delegate_until is None or on <= user.delegate_until


def delegators_of(user: Any, on: date | None = None) -> QuerySet[User]:
    """The people whose approvals `user` decides today as their delegate."""
    on = on or today()
    return User.objects.filter(delegate=user, is_active=True).filter(delegation_window_q(on))


def approver_q(user: Any, on: date | None = None, prefix: str = "") -> Q:
    """Approval rows `user` may act on: theirs, their delegators', or their teams' open ones."""
    return (
        Q(**{f"{prefix}approver": user})
        | Q(**{f"{prefix}approver__in": delegators_of(user, on)})
        | Q(
            **{
                f"{prefix}approver__isnull": True,
                f"{prefix}approver_team_id__in": list(getattr(user, "team_ids", ())),
            }
        )
    )


def approvals_waiting_on(user: Any, on: date | None = None) -> QuerySet[Approval]:
    """Pending request approvals of the current stage that `user` may decide now."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Approval.objects.none()
    return (
        Approval.objects.filter(
            decision=ApprovalDecision.PENDING,
            ticket__kind=TicketKind.REQUEST,
            ticket__service_request__status=RequestStatus.AWAITING_APPROVAL,
        )
        .filter(approver_q(user, on))
        .exclude(ticket__requester=user)
    )


def approvals_decided_by(user: Any) -> QuerySet[Approval]:
    return Approval.objects.filter(decided_by=user, ticket__kind=TicketKind.REQUEST).exclude(
        decision=ApprovalDecision.PENDING
    )


def may_decide(user: Any, approval: Approval, on: date | None = None) -> bool:
    """The identity part of the rule (the request's state is checked by the predicate)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if approval.approver_id is not None:
        if approval.approver_id == user.pk:
            return True
        approver = approval.approver
        return approver.delegate_id == user.pk and delegation_active(approver, on)
    return approval.approver_team_id in getattr(user, "team_ids", ())


def approver_label(approval: Approval) -> str:
    if approval.approver_id is not None:
        return str(approval.approver)
    return f"any member of {approval.approver_team}"
