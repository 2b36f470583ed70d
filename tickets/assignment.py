"""Fair auto-assignment inside a team: round-robin or least-loaded, among members who are
available, within their working hours and under their cap. Returns its reasoning so the
ticket page, the journal and the API can explain the choice."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Case, Count, IntegerField, Sum, Value, When

from accounts.models import AssignmentMethod, Team, TeamMembership

from .choices import OPEN_STATES
from .models import Ticket

#: Load weight of one open ticket by priority: a P1 weighs as much as four P4s.
PRIORITY_WEIGHT = {1: 4, 2: 3, 3: 2, 4: 1}


@dataclass
class AssignmentDecision:
    method: str
    assignee: Any = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def explain(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "chosen": None
            if self.assignee is None
            else {"id": self.assignee.pk, "name": str(self.assignee)},
            "candidates": self.candidates,
            "skipped": self.skipped,
        }


def _in_working_hours(membership: TeamMembership, at: datetime) -> bool:
    if membership.work_start is None or membership.work_end is None:
        return True
    try:
        local = at.astimezone(ZoneInfo(membership.user.time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        local = at
    if str(local.weekday()) not in membership.work_days:
        return False
    return membership.work_start <= local.time() < membership.work_end


def _loads(user_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(open tickets, weighted load) per user, in one query."""
    weight = Case(
        *(When(priority=p, then=Value(w)) for p, w in PRIORITY_WEIGHT.items()),
        default=Value(1),
        output_field=IntegerField(),
    )
    rows = (
        Ticket.objects.filter(assignee_id__in=user_ids, state__in=OPEN_STATES)
        .values("assignee_id")
        .annotate(n=Count("pk"), load=Sum(weight))
        .order_by()
    )
    return {row["assignee_id"]: (row["n"], row["load"]) for row in rows}


def assignee_pick(*, team: Team, at: datetime) -> AssignmentDecision:
    """Choose a member of `team` for a new ticket. The team row must be locked by the caller
    when the method is round-robin (the pointer moves)."""
    decision = AssignmentDecision(method=team.assignment_method)
    if team.assignment_method == AssignmentMethod.OFF:
        return decision
    memberships = list(
        TeamMembership.objects.filter(team=team, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    )
    loads = _loads([m.user_id for m in memberships])
    eligible = []
    for m in memberships:
        n, load = loads.get(m.user_id, (0, 0))
        who = {"id": m.user_id, "name": str(m.user), "open": n, "load": load}
        if not m.available:
            decision.skipped.append({**who, "why": "not available"})
        elif not _in_working_hours(m, at):
            decision.skipped.append({**who, "why": "outside working hours"})
        elif m.max_open_tickets is not None and n >= m.max_open_tickets:
            decision.skipped.append({**who, "why": f"at cap ({m.max_open_tickets} open)"})
        else:
            eligible.append((m, n, load))
            decision.candidates.append(who)
    if not eligible:
        return decision
    if team.assignment_method == AssignmentMethod.ROUND_ROBIN:
        after = team.last_assigned_id or 0
        later = [e for e in eligible if e[0].user_id > after]
        chosen = (later or eligible)[0][0]
    else:
        chosen = min(eligible, key=lambda e: (e[2], e[1], e[0].user_id))[0]
    decision.assignee = chosen.user
    return decision
