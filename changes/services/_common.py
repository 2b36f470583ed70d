"""Helpers shared by the change services: locking, journal, conflicts override."""

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from core.exceptions import DomainError
from slas.services import sla_clocks_sync
from tickets import events
from tickets.choices import ApprovalDecision, EventType, LinkKind
from tickets.models import Approval, Ticket
from tickets.services import ticket_lock

from ..choices import ChangeImpact, ChangeStatus, ChangeType
from ..conflicts import Conflicts
from ..models import Change

S = ChangeStatus

#: tickets.LinkKind has no "fixes" yet; the value is stored as is until the core adds it.
FIXES = LinkKind.FIXES
#: pg_advisory_xact_lock key that serialises bookings (scheduling and window edits).
BOOKING_LOCK_KEY = 7_031_001
PLAN_FIELDS = ("implementation_plan", "backout_plan", "test_plan")
PLAN_LABELS = {
    "justification": "justification",
    "implementation_plan": "implementation plan",
    "backout_plan": "back-out plan",
    "test_plan": "test plan",
}
#: Fields change_update accepts (editing.py), grouped by where they live.
ENVELOPE_FIELDS = frozenset({"title", "description"})
DETAIL_TEXT_FIELDS = ("configuration_items", "justification", *PLAN_FIELDS)
WINDOW_FIELDS = ("planned_start", "planned_end")
UPDATABLE = frozenset(
    {*ENVELOPE_FIELDS, *DETAIL_TEXT_FIELDS, *WINDOW_FIELDS, "services", "impact", "type"}
)
#: Actual times may run a little ahead of the server clock (a laptop's clock), not more.
CLOCK_SKEW = timedelta(minutes=5)


class ScheduleConflict(DomainError):
    """The window overlaps other booked changes or blackouts and nobody overrode it."""

    status_code = 409
    title = "Schedule conflict"

    def __init__(self, conflicts: Conflicts) -> None:
        super().__init__(
            f"The window conflicts with {conflicts.summary()}. A change manager can override "
            "with a reason.",
            field="override_reason",
        )
        self.conflicts = conflicts


# ------------------------------------------------------------------ helpers
def is_change_manager(user: Any) -> bool:
    return bool(
        user is not None
        and user.is_active
        and (user.is_superuser or user.has_role(Role.CHANGE_MANAGER))
    )


def _sync_slas(change: Change) -> None:
    """Clocks follow every change in the same transaction (explicit, not a signal)."""
    sla_clocks_sync(ticket=change.ticket, status=change.status)


def _lock(change: Change, expected_version: int | None) -> Change:
    ticket = ticket_lock(ticket_id=change.pk, expected_version=expected_version)
    locked = Change.objects.select_for_update().get(pk=change.pk)
    locked.ticket = ticket
    return locked


def _booking_lock() -> None:
    """Serialise bookings for the rest of this transaction (released on commit/rollback)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BOOKING_LOCK_KEY])


def _priority(change_type: str, impact: str) -> int:
    """Envelope priority (queues, SLAs): emergencies are P1, the rest follow the impact."""
    if change_type == ChangeType.EMERGENCY:
        return 1
    return {ChangeImpact.HIGH: 2, ChangeImpact.MEDIUM: 3, ChangeImpact.LOW: 4}[ChangeImpact(impact)]


def _stamp(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else None


def _short(text: str, limit: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_window(start: datetime | None, end: datetime | None) -> None:
    if (start is None) != (end is None):
        raise DomainError(
            "Give both the planned start and end, or neither.",
            field="planned_end" if end is None else "planned_start",
        )
    if start is not None and end is not None and end <= start:
        raise DomainError("The planned end must be after the start.", field="planned_end")


def _require_clear_or_override(
    *, change: Change, by: User, conflicts: Conflicts, override_reason: str
) -> None:
    """Booking into a conflict needs a change manager's override with a reason; the override
    and what it overrode go into the journal."""
    if not conflicts:
        return
    reason = override_reason.strip()
    if not reason:
        raise ScheduleConflict(conflicts)
    if not is_change_manager(by):
        raise DomainError(
            f"The window conflicts with {conflicts.summary()}; only a change manager can "
            "override that.",
            field="override_reason",
        )
    details = conflicts.as_dict()
    change.schedule_override = {
        "by": str(by),
        "by_id": by.pk,
        "reason": reason,
        "at": timezone.now().isoformat(),
        "window": [change.planned_start.isoformat(), change.planned_end.isoformat()],
        **details,
    }
    change.save(update_fields=["schedule_override"])
    _note(
        change.ticket,
        actor=by,
        code="schedule_override",
        body=f"{by} overrode the schedule conflict with {conflicts.summary()}: {reason}",
        data={"reason": reason, "by_id": by.pk, **details},
    )


def _cancel_pending(ticket: Ticket) -> int:
    return Approval.objects.filter(ticket=ticket, decision=ApprovalDecision.PENDING).update(
        decision=ApprovalDecision.CANCELLED, decided_at=timezone.now()
    )


def _people_to_tell(change: Change) -> list[Any]:
    ticket = change.ticket
    return [u for u in (ticket.requester, ticket.assignee) if u is not None]


def _note(
    ticket: Ticket, *, code: str, body: str, actor: Any = None, data: dict | None = None
) -> None:
    """A system journal entry that names who caused it (events.system has no actor)."""
    events.record(
        ticket=ticket,
        type=EventType.SYSTEM,
        actor=actor,
        body=body,
        data={"code": code, **(data or {})},
    )


def _change_managers() -> list[User]:
    return list(User.objects.filter(is_active=True, groups__name=Role.CHANGE_MANAGER.value))
