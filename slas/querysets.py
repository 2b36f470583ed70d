"""Selection of SLA clocks for display (desk card, API). Visibility always comes from the
ticket: a clock is visible exactly when its ticket is (`Ticket.objects.visible_to`)."""

from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery

from tickets.models import Ticket

from .choices import ClockState
from .models import SlaClock

#: An open clock: not stopped and not cancelled (matches the partial index slas_clock_open_due).
OPEN_CLOCK = Q(stopped_at__isnull=True) & ~Q(state=ClockState.CANCELLED)


def clocks_visible_to(user: Any) -> QuerySet[SlaClock]:
    """Clocks of the tickets `user` may see (a semi-join, so no duplicates)."""
    return SlaClock.objects.filter(ticket__in=Ticket.objects.visible_to(user).values("pk"))


def clocks_for_display(queryset: QuerySet[SlaClock] | None = None) -> QuerySet[SlaClock]:
    """Everything the SLA card and the API render, in three queries whatever the history."""
    queryset = SlaClock.objects.all() if queryset is None else queryset
    return queryset.select_related("ticket", "policy__calendar").prefetch_related(
        "segments", "events"
    )


def with_sla_deadlines(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate each ticket with `sla_due` (nearest deadline of an open clock), `sla_next_due`
    (nearest deadline of a running, not yet breached clock) and `sla_breached` (the id of a
    breached clock, or None). Correlated subqueries on the (ticket, due_at) partial index: no
    GROUP BY, one query whatever the page size."""
    open_clocks = SlaClock.objects.filter(OPEN_CLOCK, ticket=OuterRef("pk"), due_at__isnull=False)
    running = open_clocks.filter(running_since__isnull=False, breached_at__isnull=True)
    breached = SlaClock.objects.filter(ticket=OuterRef("pk"), breached_at__isnull=False).exclude(
        state=ClockState.CANCELLED
    )
    return tickets.annotate(
        sla_due=Subquery(open_clocks.order_by("due_at").values("due_at")[:1]),
        sla_next_due=Subquery(running.order_by("due_at").values("due_at")[:1]),
        # A scalar subquery with LIMIT 1 is probed per row through the ticket index; an
        # EXISTS here was planned as a hash of every breached clock (200 ms at 1M tickets).
        sla_breached=Subquery(breached.order_by().values("pk")[:1]),
    )
