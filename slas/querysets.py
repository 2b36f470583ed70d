"""Selection of SLA clocks for display (desk card, API). Visibility always comes from the
ticket: a clock is visible exactly when its ticket is (`Ticket.objects.visible_to`)."""

from typing import Any

from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, QuerySet, Subquery

from core.keyset import Key
from tickets.models import Ticket

from .choices import ClockState
from .models import SlaClock

#: An open clock: not stopped and not cancelled (matches the partial index slas_clock_open_due).
OPEN_CLOCK = Q(stopped_at__isnull=True) & ~Q(state=ClockState.CANCELLED)
#: A clock that can still breach: running, not yet breached, with a deadline. Exactly the
#: predicate of the partial index slas_clock_breaching_soon (due_at, ticket). A running clock
#: is never stopped (stopping closes the running segment: running_since becomes None), so
#: `stopped_at IS NULL` is implied; it is left out on purpose: PostgreSQL multiplies the
#: selectivities of `running_since IS NOT NULL` and `stopped_at IS NULL` as if independent and
#: then expects 50 rows where there are 2,300 (at 100k tickets), and sorts instead of reading
#: the index in order.
RUNNING_UNBREACHED = Q(running_since__isnull=False, breached_at__isnull=True, due_at__isnull=False)
#: Keyset order of `breaching_soon` (core.keyset.paginate): nearest deadline first, the ticket
#: id breaks ties. Both are columns of the index, so a deep page is an index range scan too.
BREACHING_SOON_KEYS = [Key("breach_due"), Key("breach_ticket")]


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


def breaching_soon(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """The tickets of `tickets` that have a running, unbreached SLA clock, nearest deadline
    first, each once. Annotates `breach_due` (that deadline) and `breach_ticket` (the ticket
    id, as seen from the clock) and orders by BREACHING_SOON_KEYS.

    Rooted at the clocks: the join starts from the partial index slas_clock_breaching_soon
    in (due_at, ticket) order and stops after the page (LIMIT), instead of computing a
    deadline for every open ticket and sorting them (627 ms at 1M tickets). A ticket with
    two such clocks is kept on its nearest one (NOT EXISTS a nearer one: a probe of the
    (ticket, due_at) index per row). Compose freely: visibility, open(), filters,
    with_sla_deadlines(); paginate with core.keyset.paginate(keys=BREACHING_SOON_KEYS)."""
    nearer = SlaClock.objects.filter(RUNNING_UNBREACHED, ticket=OuterRef("pk")).filter(
        Q(due_at__lt=OuterRef("breach_due"))
        | Q(due_at=OuterRef("breach_due"), pk__lt=OuterRef("breach_clock"))
    )
    return (
        tickets.annotate(
            breaching_clock=FilteredRelation(
                "sla_clocks",
                condition=Q(
                    sla_clocks__running_since__isnull=False,
                    sla_clocks__breached_at__isnull=True,
                    sla_clocks__due_at__isnull=False,
                ),
            )
        )
        .filter(breaching_clock__isnull=False)
        .annotate(
            breach_due=F("breaching_clock__due_at"),
            breach_ticket=F("breaching_clock__ticket_id"),
            breach_clock=F("breaching_clock__id"),
        )
        .filter(~Exists(nearer))
        .order_by(*(key.ordering for key in BREACHING_SOON_KEYS))
    )
