"""TicketFilterSet: the cross-kind queue filter, shared by the desk queue and the API."""

import django_filters
from django.db.models import Q, QuerySet

from accounts.models import Team

from .choices import Priority, TicketKind, TicketState
from .models import Ticket
from .search import search_q

#: `?queue=breaching`: tickets with a running SLA clock that has not breached yet.
BREACHING = "breaching"


class TicketFilterSet(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=TicketKind.choices)
    state = django_filters.MultipleChoiceFilter(choices=TicketState.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all())
    assignee = django_filters.CharFilter(method="filter_assignee", label="Assignee")
    q = django_filters.CharFilter(method="filter_text", label="Search")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    queue = django_filters.ChoiceFilter(
        choices=[(BREACHING, "Breaching soon")], method="filter_queue", label="Queue"
    )

    class Meta:
        model = Ticket
        fields = ["kind", "state", "priority", "team", "assignee"]

    def filter_assignee(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """`me`, `unassigned` or a user id."""
        if value == "me":
            return queryset.filter(assignee=self.request.user)
        if value == "unassigned":
            return queryset.filter(assignee__isnull=True)
        if value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset.none()

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """A ticket number finds that ticket; words run the full-text search (tickets.search)."""
        if not value.strip():
            return queryset
        return queryset.filter(search_q(value))

    def filter_queue(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """`breaching`: a running, unbreached SLA clock. String lookups (tickets never imports
        slas); a semi-join so a ticket with two such clocks appears once."""
        if value != BREACHING:
            return queryset
        running = Ticket.objects.filter(  # a cancelled clock is stopped, so not matched
            sla_clocks__running_since__isnull=False,
            sla_clocks__stopped_at__isnull=True,
            sla_clocks__breached_at__isnull=True,
        )
        return queryset.filter(pk__in=running.values("pk"))
