"""TicketFilterSet: the cross-kind queue filter, shared by the desk queue and the API."""

import django_filters
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.models import Organization, Team
from catalogue.models import Service

from .choices import EventType, Priority, TicketKind, TicketState
from .models import Ticket, TicketEvent
from .search import search_q

#: `?queue=breaching`: tickets with a running SLA clock that has not breached yet.
BREACHING = "breaching"
#: `?sla=…` (dashboard drill-downs): the outcome of a clock that stopped (in the window
#: `sla_after`/`sla_before` on its stop), an open breached clock, or an open clock past the
#: last warning threshold of its policy.
SLA_FILTERS = [
    ("response_met", "Response met"),
    ("response_breached", "Response breached"),
    ("response_stopped", "Response met or breached"),
    ("resolution_met", "Resolution met"),
    ("resolution_breached", "Resolution breached"),
    ("resolution_stopped", "Resolution met or breached"),
    ("breached_open", "Breached, still open"),
    ("at_risk", "At risk (past the last warning)"),
    ("running", "Clock running"),
    ("paused", "Clock paused"),
    ("none", "No open SLA clock"),
]
#: `?ola=…` (dashboard drill-downs of team OLAs): tickets with an OLA clock of a team in
#: `ola_teams` that stopped met/breached/either (stop in `ola_after`/`ola_before`), or that is
#: open now (`open`), breached already (`breached_open`). One clock row meets every condition.
OLA_FILTERS = [
    ("met", "OLA met"),
    ("breached", "OLA breached"),
    ("stopped", "OLA met or breached"),
    ("open", "OLA clock running"),
    ("breached_open", "OLA breached, still running"),
]
#: `?ids=` takes at most this many ticket ids.
MAX_IDS = 500


class TicketFilterSet(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=TicketKind.choices)
    state = django_filters.MultipleChoiceFilter(choices=TicketState.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all())
    assignee = django_filters.CharFilter(method="filter_assignee", label="Assignee")
    q = django_filters.CharFilter(method="filter_text", label="Search")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="lt")
    tag = django_filters.CharFilter(method="filter_tag", label="Tag")
    assignee_id = django_filters.NumberFilter(field_name="assignee_id", label="Assignee id")
    queue = django_filters.ChoiceFilter(
        choices=[(BREACHING, "Breaching soon")], method="filter_queue", label="Queue"
    )
    # Drill-downs from the dashboards: every figure links to exactly the tickets it counts.
    teams = django_filters.ModelMultipleChoiceFilter(
        field_name="team", queryset=Team.objects.all(), null_label="No team"
    )
    service = django_filters.ModelChoiceFilter(
        queryset=Service.objects.all(), null_label="No service"
    )
    organization = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.all(), null_label="No organisation"
    )
    resolved_after = django_filters.IsoDateTimeFilter(field_name="resolved_at", lookup_expr="gte")
    resolved_before = django_filters.IsoDateTimeFilter(field_name="resolved_at", lookup_expr="lt")
    sla = django_filters.ChoiceFilter(choices=SLA_FILTERS, method="filter_sla", label="SLA")
    sla_after = django_filters.IsoDateTimeFilter(method="filter_with_sla", label="SLA stop from")
    sla_before = django_filters.IsoDateTimeFilter(method="filter_with_sla", label="SLA stop before")
    ola = django_filters.ChoiceFilter(choices=OLA_FILTERS, method="filter_ola", label="Team OLA")
    ola_teams = django_filters.ModelMultipleChoiceFilter(
        queryset=Team.objects.all(), method="filter_ola_teams", label="OLA teams"
    )
    ola_after = django_filters.IsoDateTimeFilter(method="filter_with_ola", label="OLA stop from")
    ola_before = django_filters.IsoDateTimeFilter(method="filter_with_ola", label="OLA stop before")
    reopened = django_filters.BooleanFilter(method="filter_reopened", label="Reopened")
    fcr = django_filters.BooleanFilter(method="filter_fcr", label="First-contact resolution")
    category = django_filters.CharFilter(method="filter_category", label="Incident category")
    channel = django_filters.CharFilter(field_name="incident__channel", label="Incident channel")
    ids = django_filters.CharFilter(method="filter_ids", label="Ticket ids (comma-separated)")

    class Meta:
        model = Ticket
        fields = ["kind", "state", "priority", "team", "assignee"]

    def filter_assignee(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """`me`, `unassigned` or a user id."""
        if value == "me":
            return queryset.filter(assignee=self.request.user)
        if value == "unassigned":
            return queryset.filter(assignee__isnull=True)
        if value.isdecimal():
            return queryset.filter(assignee_id=int(value))
        return queryset.none()

    def filter_tag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Tickets carrying every one of the comma-separated tags (GIN-friendly @>)."""
        tags = [t.strip().lower() for t in value.split(",") if t.strip()]
        return queryset.filter(tags__contains=tags) if tags else queryset

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

    @extend_schema_field(OpenApiTypes.DATETIME)  # the API schema's type of the parameter
    def filter_with_sla(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        """`sla_after`/`sla_before` narrow `sla` (read in filter_sla), nothing on their own."""
        return queryset

    def filter_sla(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Tickets by SLA clock. The clock model is reached through the relation (tickets
        never imports slas); one clock row must meet every condition."""
        clocks = Ticket._meta.get_field("sla_clocks").related_model._default_manager
        if value == "breached_open":
            matching = clocks.filter(state="breached", stopped_at__isnull=True)
        elif value in ("running", "paused"):
            matching = clocks.filter(state=value, stopped_at__isnull=True)
        elif value == "none":
            open_clocks = clocks.filter(stopped_at__isnull=True).exclude(state="cancelled")
            return queryset.exclude(pk__in=open_clocks.values("ticket_id"))
        elif value == "at_risk":
            matching = clocks.filter(
                state__in=["running", "paused"],
                stopped_at__isnull=True,
                breached_at__isnull=True,
                policy__warning_thresholds__len__gt=0,
                warnings__contains=F("policy__warning_thresholds"),
            )
        else:
            metric, _, result = value.partition("_")
            states = ["met", "breached"] if result == "stopped" else [result]
            matching = clocks.filter(metric=metric, state__in=states, stopped_at__isnull=False)
            after = self.form.cleaned_data.get("sla_after")
            before = self.form.cleaned_data.get("sla_before")
            if after:
                matching = matching.filter(stopped_at__gte=after)
            if before:
                matching = matching.filter(stopped_at__lt=before)
        return queryset.filter(pk__in=matching.values("ticket_id"))

    @extend_schema_field(OpenApiTypes.DATETIME)  # the API schema's type of the parameter
    def filter_with_ola(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        """`ola_after`/`ola_before` narrow `ola` (read in filter_ola) only."""
        return queryset

    @extend_schema_field({"type": "array", "items": {"type": "integer"}})
    def filter_ola_teams(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        """`ola_teams` narrows `ola` (read in filter_ola) only."""
        return queryset

    def filter_ola(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Tickets by team OLA clock (reached through the relation: tickets never imports
        slas); a semi-join, so a ticket the team held twice appears once. OLAs are internal:
        for a caller who is not an agent (an API requester) the filter matches nothing."""
        user = getattr(self.request, "user", None)
        if user is not None and not getattr(user, "is_agent", False):
            return queryset.none()
        clocks = Ticket._meta.get_field("ola_clocks").related_model._default_manager
        if value in ("open", "breached_open"):
            matching = clocks.filter(stopped_at__isnull=True)
            if value == "breached_open":
                matching = matching.filter(breached_at__isnull=False)
        else:
            matching = clocks.filter(stopped_at__isnull=False)
            if value != "stopped":
                matching = matching.filter(breached_at__isnull=value == "met")
            after = self.form.cleaned_data.get("ola_after")
            before = self.form.cleaned_data.get("ola_before")
            if after:
                matching = matching.filter(stopped_at__gte=after)
            if before:
                matching = matching.filter(stopped_at__lt=before)
        teams = self.form.cleaned_data.get("ola_teams")
        if teams is not None and "ola_teams" in self.data:
            matching = matching.filter(team__in=teams)
        return queryset.filter(pk__in=matching.values("ticket_id"))

    def filter_reopened(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Reopened at least once (a "reopened" system event in the journal)."""
        if value is None:
            return queryset
        reopened = Exists(_reopen_events())
        return queryset.filter(reopened) if value else queryset.exclude(reopened)

    def filter_fcr(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """First-contact resolution: resolved, never reopened, and at most one public reply
        from someone other than the requester."""
        if value is None:
            return queryset
        replies = (
            TicketEvent.objects.filter(
                ticket=OuterRef("pk"), type=EventType.COMMENT, actor__isnull=False
            )
            .exclude(actor=OuterRef("requester"))
            .order_by()
            .values("ticket")
            .annotate(n=Count("pk"))
            .values("n")
        )
        first_contact = Q(resolved_at__isnull=False, _reopened=False, _replies__lte=1)
        queryset = queryset.annotate(
            _reopened=Exists(_reopen_events()), _replies=Coalesce(Subquery(replies), 0)
        )
        return queryset.filter(first_contact) if value else queryset.exclude(first_contact)

    def filter_category(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """An incident category id, or `null` for incidents without one."""
        if value == "null":
            return queryset.filter(incident__isnull=False, incident__category__isnull=True)
        if value.isdecimal():
            return queryset.filter(incident__category_id=int(value))
        return queryset.none()

    def filter_ids(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Comma-separated ticket ids (at most MAX_IDS); anything else matches nothing."""
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not parts or len(parts) > MAX_IDS or not all(p.isdecimal() for p in parts):
            return queryset.none()
        return queryset.filter(pk__in=[int(p) for p in parts])


def _reopen_events() -> QuerySet:
    return TicketEvent.objects.filter(
        ticket=OuterRef("pk"), type=EventType.SYSTEM, data__code="reopened"
    )
