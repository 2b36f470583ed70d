"""CAB: the change manager sends a change to the (emergency) CAB; approvers decide."""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from core.exceptions import DomainError
from tickets import events
from tickets.choices import ApprovalDecision
from tickets.models import Approval
from tickets.notifications import notify
from tickets.services import ticket_save, ticket_set_status

from .. import rules
from ..choices import (
    DEFAULT_CAB_POLICY,
    STAGE_CAB,
    STAGE_CHANGE_MANAGER,
    CabPolicy,
    ChangeType,
    Risk,
)
from ..models import CabPolicyRule, Change, EmergencyCabSeat
from ._common import (
    PLAN_LABELS,
    S,
    _cancel_pending,
    _change_managers,
    _lock,
    _note,
    _people_to_tell,
    _sync_slas,
    is_change_manager,
)


def cab_policy_for(*, change_type: str, risk: str) -> CabPolicy:
    """The admin rule for (type, risk), else the built-in default."""
    rule = CabPolicyRule.objects.filter(change_type=change_type, risk=risk).first()
    if rule is not None:
        return CabPolicy(rule.policy)
    return CabPolicy(DEFAULT_CAB_POLICY[(ChangeType(change_type), Risk(risk))])


def cab_candidates() -> Any:
    """Everyone who may sit on a CAB: CAB members and change managers (active)."""
    return (
        User.objects.filter(is_active=True)
        .filter(groups__name__in=[Role.CAB_MEMBER.value, Role.CHANGE_MANAGER.value])
        .distinct()
        .order_by("display_name", "pk")
    )


def default_approvers(*, change_type: str) -> list[User]:
    """The CAB a change goes to: every CAB member; for emergencies the emergency CAB seats
    (the smaller set), or every CAB member when no seat is defined."""
    cab = User.objects.filter(is_active=True, groups__name=Role.CAB_MEMBER.value)
    if change_type == ChangeType.EMERGENCY:
        seats = User.objects.filter(
            is_active=True, pk__in=EmergencyCabSeat.objects.values("user_id")
        )
        if seats.exists():
            cab = seats
    return list(cab.distinct().order_by("display_name", "pk"))


def _check_ready_for_cab(change: Change) -> None:
    missing = [label for name, label in PLAN_LABELS.items() if not getattr(change, name).strip()]
    if missing:
        raise DomainError(f"Before the CAB sees it, fill in: {', '.join(missing)}.")


def _send_to_cab(locked: Change, by: User, approvers: Sequence[User] | None, comment: str) -> None:
    """Stage 1 is the change manager's own approval (this call); stage 2 is one pending
    approval per CAB member, decided later under the (type, risk) policy."""
    locked.workflow.check_transition(S(locked.status), S.AUTHORIZE)
    if not is_change_manager(by):
        raise DomainError("Only a change manager sends a change to the CAB.")
    _check_ready_for_cab(locked)
    chosen = default_approvers(change_type=locked.type) if approvers is None else approvers
    unique = {a.pk: a for a in chosen if a.is_active}
    allowed = set(cab_candidates().filter(pk__in=unique).values_list("pk", flat=True))
    strangers = [str(a) for pk, a in unique.items() if pk not in allowed]
    if strangers:
        raise DomainError(
            f"Not on the CAB: {', '.join(strangers)}. Give them the CAB member role first.",
            field="approvers",
        )
    if not unique:
        raise DomainError(
            "Nobody to ask: give someone the CAB member role first.", field="approvers"
        )
    now = timezone.now()
    Approval.objects.create(
        ticket=locked.ticket,
        stage=STAGE_CHANGE_MANAGER,
        approver=by,
        decision=ApprovalDecision.APPROVED,
        comment=comment.strip(),
        decided_by=by,
        decided_at=now,
    )
    for approver in unique.values():
        Approval.objects.create(ticket=locked.ticket, stage=STAGE_CAB, approver=approver)
    locked.cab_policy = cab_policy_for(change_type=locked.type, risk=locked.risk)
    locked.save(update_fields=["cab_policy"])
    ticket_set_status(
        ticket=locked.ticket,
        detail=locked,
        workflow=locked.workflow,
        target=S.AUTHORIZE,
        by=by,
        note=comment.strip(),
    )
    board = "emergency CAB" if locked.type == ChangeType.EMERGENCY else "CAB"
    policy = CabPolicy(locked.cab_policy)
    names = ", ".join(str(a) for a in unique.values())
    _note(
        locked.ticket,
        actor=by,
        code="sent_to_cab",
        body=f"{by} approved and sent it to the {board} ({names}); policy: {policy.label}.",
        data={"approvers": list(unique), "policy": policy.value},
    )
    number = locked.ticket.number
    notify(
        recipients=unique.values(),
        ticket=locked.ticket,
        event="change_approval_requested",
        subject=f"{number} awaits your approval: {locked.ticket.title}",
        body=f"The {board} is asked to approve {number} ({locked.get_type_display()} change, "
        f"{locked.get_risk_display().lower()} risk). Policy: {policy.label}.\n"
        # CAB members are often not agents: the portal page works for everyone.
        f"Decide: {settings.SITE_URL}{reverse('portal:change-approval', args=[locked.pk])}",
        dedupe_key=f"change-approval-{locked.pk}",
    )


@transaction.atomic
def change_send_to_cab(
    *,
    change: Change,
    by: User,
    approvers: Sequence[User] | None = None,
    comment: str = "",
    expected_version: int | None = None,
) -> Change:
    """The change manager approves the assessed change and asks the CAB (or the emergency CAB).
    `approvers=None` asks the default board."""
    locked = _lock(change, expected_version)
    _send_to_cab(locked, by, approvers, comment)
    _sync_slas(locked)
    return locked


def is_approver(user: Any, approval: Approval) -> bool:
    """The approval is addressed to this user, or to a team they belong to."""
    if approval.approver_id is not None:
        return approval.approver_id == user.pk
    return approval.approver_team_id in getattr(user, "team_ids", frozenset())


def decidable_statuses(change: Change) -> frozenset[S]:
    """An emergency change may be approved after implementation started."""
    if change.type == ChangeType.EMERGENCY:
        return frozenset({S.AUTHORIZE, S.SCHEDULED, S.IMPLEMENT, S.REVIEW})
    return frozenset({S.AUTHORIZE})


@transaction.atomic
def change_decide(
    *,
    change: Change,
    approval: Approval,
    by: User,
    decision: str,
    comment: str = "",
    expected_version: int | None = None,
) -> Change:
    """An approver approves or rejects, with a comment (required to reject). Any rejection
    stops the change; enough approvals under the change's CAB policy authorise it and close
    the remaining seats."""
    if decision not in (ApprovalDecision.APPROVED, ApprovalDecision.REJECTED):
        raise DomainError("Approve or reject.", field="decision")
    if decision == ApprovalDecision.REJECTED and not comment.strip():
        raise DomainError("Say why you reject the change.", field="comment")
    locked = _lock(change, expected_version)
    approval = Approval.objects.select_for_update().get(pk=approval.pk, ticket_id=locked.pk)
    if approval.decision != ApprovalDecision.PENDING:
        raise DomainError("This approval has already been decided.")
    if not is_approver(by, approval):
        raise DomainError("This approval is not yours to decide.")
    if locked.status not in decidable_statuses(locked):
        raise DomainError(f"A change in {locked.get_status_display()} is not awaiting approval.")
    now = timezone.now()
    approval.decision = decision
    approval.comment = comment.strip()
    approval.decided_by = by
    approval.decided_at = now
    approval.save(update_fields=["decision", "comment", "decided_by", "decided_at"])
    verb = "approved" if decision == ApprovalDecision.APPROVED else "rejected"
    _note(
        locked.ticket,
        actor=by,
        code="approval_decided",
        body=f"{by} {verb} the change" + (f": {comment.strip()}" if comment.strip() else "."),
        data={"approval_id": approval.pk, "stage": approval.stage, "decision": decision},
    )
    decisions = list(
        Approval.objects.filter(ticket_id=locked.pk, stage=STAGE_CAB).values_list(
            "decision", flat=True
        )
    )
    outcome = rules.cab_outcome(policy=locked.cab_policy or CabPolicy.ALL, decisions=decisions)
    if outcome == rules.REJECTED:
        _on_rejected(locked, by, comment.strip())
    elif outcome == rules.APPROVED and locked.authorised_at is None:
        _on_authorised(locked)
    else:
        ticket_save(ticket=locked.ticket, fields=[])
    _sync_slas(locked)
    return locked


def _on_rejected(locked: Change, by: User, comment: str) -> None:
    _cancel_pending(locked.ticket)
    number = locked.ticket.number
    if locked.status == S.AUTHORIZE:
        ticket_set_status(
            ticket=locked.ticket,
            detail=locked,
            workflow=locked.workflow,
            target=S.REJECTED,
            by=by,
            note=f"Rejected by {by}: {comment}",
        )
        recipients = _people_to_tell(locked)
    else:
        # An emergency already under way cannot be un-implemented: record it for the review.
        _note(
            locked.ticket,
            actor=by,
            code="retrospective_rejection",
            body=f"{by} rejected this emergency change after implementation started: {comment}",
        )
        ticket_save(ticket=locked.ticket, fields=[])
        recipients = [*_people_to_tell(locked), *_change_managers()]
    notify(
        recipients=recipients,
        ticket=locked.ticket,
        event="change_rejected",
        subject=f"{number} was rejected",
        body=f"{by} rejected {number}: {comment}",
        dedupe_key=f"change-rejected-{locked.pk}",
    )


def _on_authorised(locked: Change) -> None:
    locked.authorised_at = timezone.now()
    locked.save(update_fields=["authorised_at"])
    closed = _cancel_pending(locked.ticket)
    policy = CabPolicy(locked.cab_policy or CabPolicy.ALL)
    events.system(
        ticket=locked.ticket,
        code="authorised",
        body=f"Authorised by the CAB ({policy.label})"
        + (f"; {closed} pending seat(s) closed." if closed else "."),
        data={"policy": policy.value},
    )
    ticket_save(ticket=locked.ticket, fields=[])
    number = locked.ticket.number
    notify(
        recipients=_people_to_tell(locked),
        ticket=locked.ticket,
        event="change_authorised",
        subject=f"{number} is authorised",
        body=f"The CAB authorised {number}."
        + (" It can now be scheduled." if locked.status == S.AUTHORIZE else ""),
        dedupe_key=f"change-authorised-{locked.pk}",
    )
