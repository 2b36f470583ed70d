"""The change lifecycle with the guards of each target status, and start reminders."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.exceptions import DomainError
from tickets.choices import ApprovalDecision
from tickets.models import Approval
from tickets.notifications import notify
from tickets.services import ticket_set_status

from ..choices import STAGE_CHANGE_MANAGER, Outcome
from ..conflicts import conflicts_of
from ..models import Change
from ._common import (
    CLOCK_SKEW,
    PLAN_FIELDS,
    PLAN_LABELS,
    S,
    _booking_lock,
    _cancel_pending,
    _change_managers,
    _lock,
    _note,
    _require_clear_or_override,
    _stamp,
    _sync_slas,
    is_change_manager,
)
from .cab import _send_to_cab


@dataclass
class _Step:
    """What a transition brings with it (only what its target needs is used)."""

    note: str = ""
    override_reason: str = ""
    emergency_reason: str = ""
    outcome: str = ""
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    review_notes: str = ""
    approvers: Sequence[User] | None = None


def _before_assess(locked: Change, by: User, step: _Step) -> list[str]:
    if locked.needs_cab and not locked.justification.strip():
        raise DomainError(
            "Say why the change is needed before it is assessed.", field="justification"
        )
    return []


def _before_draft(locked: Change, by: User, step: _Step) -> list[str]:
    if not is_change_manager(by):
        raise DomainError("Only a change manager sends a change back to draft.")
    if not step.note.strip():
        raise DomainError("Say what the requester should rework.", field="note")
    return []


def _before_scheduled(locked: Change, by: User, step: _Step) -> list[str]:
    missing = [] if locked.has_window else ["planned start and end"]
    missing += [PLAN_LABELS[f] for f in PLAN_FIELDS if not getattr(locked, f).strip()]
    if missing:
        raise DomainError(f"To schedule, fill in: {', '.join(missing)}.")
    if locked.planned_end <= timezone.now():
        raise DomainError("The planned window is already over.", field="planned_end")
    if locked.needs_cab and locked.authorised_at is None:
        raise DomainError("The CAB has not authorised this change yet.")
    _booking_lock()
    _require_clear_or_override(
        change=locked, by=by, conflicts=conflicts_of(locked), override_reason=step.override_reason
    )
    return []


def _before_implement(locked: Change, by: User, step: _Step) -> list[str]:
    fields = []
    if locked.status == S.AUTHORIZE and locked.authorised_at is None:
        # Emergency only (the table allows authorize → implement for emergencies alone).
        reason = step.emergency_reason.strip()
        if not reason:
            raise DomainError(
                "Say why implementation cannot wait for the emergency CAB.",
                field="emergency_reason",
            )
        if not is_change_manager(by):
            raise DomainError("Only a change manager starts an emergency change before approval.")
        locked.emergency_reason = reason
        fields.append("emergency_reason")
        _note(
            locked.ticket,
            actor=by,
            code="implemented_before_approval",
            body=f"{by} started implementation before the emergency CAB decided: {reason}",
        )
    if locked.actual_start is None:
        locked.actual_start = step.actual_start or timezone.now()
        fields.append("actual_start")
    return fields


def _before_review(locked: Change, by: User, step: _Step) -> list[str]:
    start = step.actual_start or locked.actual_start
    end = step.actual_end or locked.actual_end
    outcome = step.outcome or locked.outcome
    if start is None or end is None:
        raise DomainError(
            "Record when implementation really started and ended.", field="actual_end"
        )
    if end < start:
        raise DomainError("The actual end must not be before the actual start.", field="actual_end")
    if end > timezone.now() + CLOCK_SKEW:
        raise DomainError("The actual end cannot be in the future.", field="actual_end")
    if outcome not in Outcome.values:
        raise DomainError("Record the outcome of the change.", field="outcome")
    locked.actual_start, locked.actual_end, locked.outcome = start, end, outcome
    return ["actual_start", "actual_end", "outcome"]


def _before_closed(locked: Change, by: User, step: _Step) -> list[str]:
    notes = step.review_notes.strip() or locked.review_notes
    if locked.needs_cab and not notes.strip():
        raise DomainError("Write the post-implementation review first.", field="review_notes")
    pending = Approval.objects.filter(ticket_id=locked.pk, decision=ApprovalDecision.PENDING)
    if pending.exists():
        raise DomainError("The emergency CAB has not decided yet: it must before closure.")
    locked.review_notes = notes.strip()
    return ["review_notes"]


def _before_rejected(locked: Change, by: User, step: _Step) -> list[str]:
    if not is_change_manager(by):
        raise DomainError("Only a change manager rejects a change (CAB members vote).")
    if not step.note.strip():
        raise DomainError("Say why the change is rejected.", field="note")
    if locked.status == S.ASSESS:
        Approval.objects.create(
            ticket=locked.ticket,
            stage=STAGE_CHANGE_MANAGER,
            approver=by,
            decision=ApprovalDecision.REJECTED,
            comment=step.note.strip(),
            decided_by=by,
            decided_at=timezone.now(),
        )
    _cancel_pending(locked.ticket)
    return []


def _before_cancelled(locked: Change, by: User, step: _Step) -> list[str]:
    if not step.note.strip():
        raise DomainError("Say why the change is cancelled.", field="note")
    _cancel_pending(locked.ticket)
    return []


_GUARDS = {
    S.ASSESS: _before_assess,
    S.DRAFT: _before_draft,
    S.SCHEDULED: _before_scheduled,
    S.IMPLEMENT: _before_implement,
    S.REVIEW: _before_review,
    S.CLOSED: _before_closed,
    S.REJECTED: _before_rejected,
    S.CANCELLED: _before_cancelled,
}


@transaction.atomic
def change_transition(
    *,
    change: Change,
    by: User,
    target: str,
    note: str = "",
    override_reason: str = "",
    emergency_reason: str = "",
    outcome: str = "",
    actual_start: datetime | None = None,
    actual_end: datetime | None = None,
    review_notes: str = "",
    approvers: Sequence[User] | None = None,
    expected_version: int | None = None,
) -> Change:
    """Move a change through its type's lifecycle (workflow.py) with the guards of the target:
    assess needs a justification; authorize is the change manager sending it to the CAB;
    scheduled needs the window, the plans, CAB authorisation and no unresolved conflict;
    review needs the actual times and the outcome; closed needs the review notes (normal and
    emergency) and no pending approval; rejected and cancelled need a reason."""
    target = S(target)
    locked = _lock(change, expected_version)
    step = _Step(
        note=note,
        override_reason=override_reason,
        emergency_reason=emergency_reason,
        outcome=outcome,
        actual_start=actual_start,
        actual_end=actual_end,
        review_notes=review_notes,
        approvers=approvers,
    )
    if target == S.AUTHORIZE:
        _send_to_cab(locked, by, approvers, note)
        _sync_slas(locked)
        return locked
    locked.workflow.check_transition(S(locked.status), target)  # before any guard writes
    guard = _GUARDS.get(target)
    fields = guard(locked, by, step) if guard else []
    ticket_set_status(
        ticket=locked.ticket,
        detail=locked,
        workflow=locked.workflow,
        target=target,
        by=by,
        note=note.strip(),
    )
    if fields:
        locked.save(update_fields=fields)
    _sync_slas(locked)
    if target == S.REVIEW and locked.outcome in (Outcome.FAILED, Outcome.BACKED_OUT):
        notify(
            recipients=_change_managers(),
            ticket=locked.ticket,
            event="change_failed",
            subject=f"{locked.ticket.number} {locked.get_outcome_display().lower()}",
            body=f"{locked.ticket.title}: outcome {locked.get_outcome_display().lower()}.",
            dedupe_key=f"change-failed-{locked.pk}",
        )
    return locked


def changes_remind_upcoming(*, now: datetime | None = None, lead: timedelta | None = None) -> int:
    """Tell the implementer (or the team lead) about scheduled changes starting within `lead`.
    Exactly once per change and window: the notification's dedupe key holds the start."""
    now = now or timezone.now()
    lead = lead or timedelta(hours=1)
    upcoming = (
        Change.objects.filter(status=S.SCHEDULED, planned_start__gt=now)
        .filter(planned_start__lte=now + lead)
        .select_related("ticket__assignee", "ticket__team__lead")
        .order_by("planned_start")[:200]
    )
    sent = 0
    for change in upcoming:
        ticket = change.ticket
        who = ticket.assignee or (ticket.team.lead if ticket.team else None)
        if who is None:
            continue
        with transaction.atomic():
            sent += len(
                notify(
                    recipients=[who],
                    ticket=ticket,
                    event="change_starting",
                    subject=f"{ticket.number} starts at {_stamp(change.planned_start)}",
                    body=f"{ticket.title} is scheduled from {_stamp(change.planned_start)} to "
                    f"{_stamp(change.planned_end)}.",
                    dedupe_key=f"change-start-{change.pk}-{change.planned_start:%Y%m%d%H%M}",
                )
            )
    return sent
