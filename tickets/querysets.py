"""Selection of tickets. `visible_to` is the one row-level visibility rule: every list,
detail page, API endpoint, attachment download and export starts from it."""

from typing import TYPE_CHECKING, Any, Self

from django.db import models
from django.db.models import Q

from accounts.roles import Role

from .choices import OPEN_STATES, TicketKind

if TYPE_CHECKING:
    from accounts.models import User

VIEW_ALL = "tickets.view_all_tickets"


def visibility_q(user: "User", prefix: str = "") -> Q | None:
    """The visibility rule as a Q on Ticket (with `prefix` for querysets rooted elsewhere).

    None means "everything". A requester sees their own tickets (and their organisation's
    when it shares); an agent also sees the tickets of their teams, the ones assigned to
    them and the unrouted triage pool; change managers see every change; anyone asked to
    approve a ticket (a manager, a CAB member) sees it; service desk managers see all."""
    if user.is_superuser or user.has_perm(VIEW_ALL):
        return None
    q = Q(**{f"{prefix}requester": user})
    if user.has_role(Role.CHANGE_MANAGER):
        q |= Q(**{f"{prefix}kind": TicketKind.CHANGE})
    awaiting = _approval_ticket_ids(user)
    if awaiting:
        q |= Q(**{f"{prefix}pk__in": awaiting})
    org = user.organization
    if org is not None and org.share_tickets:
        q |= Q(**{f"{prefix}organization": org})
    if user.is_agent:
        q |= (
            Q(**{f"{prefix}team_id__in": list(user.team_ids)})
            | Q(**{f"{prefix}assignee": user})
            | Q(**{f"{prefix}team__isnull": True})
        )
    return q


def _approval_ticket_ids(user: "User") -> list[int]:
    """Tickets the user was asked to approve, as a short id list (an indexable IN, where an
    OR'd subquery would make the planner scan every ticket)."""
    from .models import Approval  # models imports this module

    return list(
        Approval.objects.filter(Q(approver=user) | Q(approver_team_id__in=list(user.team_ids)))
        .order_by()  # no default ordering: it would defeat DISTINCT
        .values_list("ticket_id", flat=True)
        .distinct()[:5000]
    )


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> Self:
        """Tickets this user may see; nothing for anonymous or inactive users."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        q = visibility_q(user)
        return self if q is None else self.filter(q)

    def open(self) -> Self:
        return self.filter(state__in=OPEN_STATES)

    def for_queue(self) -> Self:
        # Queues never show the description or the search vector: the widest columns.
        return self.select_related("assignee", "team", "requester", "service").defer(
            "description", "search_vector"
        )


class TicketEventQuerySet(models.QuerySet):
    def for_viewer(self, user: Any) -> Self:
        """Journal entries this viewer may read: requesters never see internal entries."""
        if getattr(user, "is_agent", False):
            return self
        return self.filter(public=True)


class DetailQuerySet(models.QuerySet):
    """Base for the kind detail tables (Incident, ServiceRequest, Change): visibility delegates
    to the envelope so the rule is written once."""

    def visible_to(self, user: Any) -> Self:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        q = visibility_q(user, prefix="ticket__")
        return self if q is None else self.filter(q)
