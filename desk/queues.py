"""The unified desk queues over every ticket kind: who belongs in each, their counts (one
query for all of them) and the sort orders the queue pages offer (keyset-paginated)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import DateTimeField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.keyset import Key
from slas.models import SlaClock
from slas.querysets import BREACHING_SOON_KEYS, breaching_soon, with_sla_deadlines
from tickets.choices import OPEN_STATES
from tickets.models import Ticket

#: "Recently updated" looks this far back.
RECENT = timedelta(days=7)
#: Tabs count up to this many tickets and then say "999+": an exact count of every open ticket
#: is a pass over all of them (360 ms at 1M tickets for a manager); the dashboards have the
#: exact backlog.
COUNT_CAP = 999
#: Sorts without a deadline go after every real one.
NO_DEADLINE = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Queue:
    slug: str
    label: str
    empty: str
    default_sort: str


QUEUES: dict[str, Queue] = {
    q.slug: q
    for q in [
        Queue("mine", "My work", "Nothing is assigned to you. Take one.", "priority"),
        Queue("teams", "My teams", "Your teams have no open tickets.", "priority"),
        Queue("unassigned", "Unassigned", "Every open ticket has an owner.", "priority"),
        Queue("breaching", "Breaching soon", "No running SLA clock is about to breach.", "sla"),
        Queue("recent", "Recently updated", "Nothing changed in the last 7 days.", "-updated"),
        Queue("open", "All open", "No open tickets match. Enjoy the calm.", "priority"),
    ]
}
DEFAULT_QUEUE = "open"

#: URL sort key → keyset keys (the primary key last makes the order total).
SORTS: dict[str, list[Key]] = {
    "priority": [Key("priority"), Key("id")],
    "number": [Key("id")],  # numbers grow with ids within a kind; id is the stable proxy
    "title": [Key("title"), Key("id")],
    "created": [Key("created_at"), Key("id")],
    "updated": [Key("updated_at"), Key("id")],
    "sla": [Key("sla_sort"), Key("id")],
}


def sort_keys(sort: str) -> list[Key]:
    """Keys for `sort` (`-` prefix reverses every key, so the row comparison stays whole)."""
    descending = sort.startswith("-")
    keys = SORTS[sort.lstrip("-")]
    return [Key(k.name, descending) for k in keys]


def _running_clock() -> Exists:
    return Exists(
        SlaClock.objects.filter(
            ticket=OuterRef("pk"),
            running_since__isnull=False,
            stopped_at__isnull=True,
            breached_at__isnull=True,
        )
    )


def membership_q(slug: str, user: Any, *, now: datetime | None = None) -> Q:
    """Who belongs in queue `slug`, on top of visibility. Open tickets only, except in
    "Recently updated" which also shows what was resolved or closed this week."""
    now = now or timezone.now()
    open_q = Q(state__in=OPEN_STATES)
    if slug == "mine":
        return open_q & Q(assignee=user)
    if slug == "teams":
        return open_q & Q(team_id__in=list(user.team_ids))
    if slug == "unassigned":
        return open_q & Q(assignee__isnull=True)
    if slug == "breaching":
        return open_q & Q(_running_clock())
    if slug == "recent":
        return Q(updated_at__gte=now - RECENT)
    return open_q


def queue_tickets(
    slug: str, user: Any, *, sort: str, visible: QuerySet[Ticket] | None = None
) -> QuerySet[Ticket]:
    """The queue's tickets as this user may see them (`visible`, when the caller already
    built `visible_to(user)`), with SLA deadlines for the SLA column and `sla_sort` for
    keyset pagination (the running deadline in Breaching soon)."""
    visible = Ticket.objects.visible_to(user) if visible is None else visible
    if slug == "breaching":
        # Rooted at the running clocks' deadline index: page 1 reads a page of index entries
        # instead of computing and sorting a deadline for every open ticket.
        tickets = breaching_soon(visible.filter(state__in=OPEN_STATES).for_queue())
        return with_sla_deadlines(tickets).annotate(sla_sort=F("breach_due"))
    tickets = visible.filter(membership_q(slug, user)).for_queue()
    return with_sla_deadlines(tickets).annotate(
        sla_sort=Coalesce("sla_due", Value(NO_DEADLINE), output_field=DateTimeField())
    )


def queue_sort_keys(slug: str, sort: str) -> list[Key]:
    """Keyset keys of `sort` in queue `slug`: Breaching soon's deadline order is the clock
    index's (deadline, ticket)."""
    if slug == "breaching" and sort.lstrip("-") == "sla":
        descending = sort.startswith("-")
        return [Key(k.name, descending) for k in BREACHING_SOON_KEYS]
    return sort_keys(sort)


def queue_counts(
    user: Any,
    *,
    now: datetime | None = None,
    visible: QuerySet[Ticket] | None = None,
    cap: int = COUNT_CAP,
) -> dict[str, int]:
    """Every queue's count in one query, each counted up to `cap` + 1 (more than `cap` means
    "cap+"): one scalar subquery per queue, each stopping after cap + 1 rows of its own index
    instead of one pass over every open ticket."""
    now = now or timezone.now()
    visible = Ticket.objects.visible_to(user) if visible is None else visible
    parts, params = [], []
    for slug in QUEUES:
        rows = visible.filter(membership_q(slug, user, now=now)).order_by().values("pk")
        try:
            sql, sql_params = rows[: cap + 1].query.sql_with_params()
        except EmptyResultSet:  # e.g. My teams for an agent in no team
            parts.append("0")
            continue
        parts.append(f"(SELECT count(*) FROM ({sql}) AS {slug}_rows)")
        params.extend(sql_params)
    with connections[visible.db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return dict(zip(QUEUES, cursor.fetchone(), strict=True))
