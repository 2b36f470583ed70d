"""IncidentFilterSet: one filter for the desk incident list and the API (NetBox shape).

Rooted at Incident; envelope fields are reached through `ticket__…`. It knows nothing about
the UI that renders it; pass `request` so that `assignee=me` can resolve the current user."""

import django_filters
from django.db.models import Q, QuerySet

from accounts.models import Team
from catalogue.models import Service
from tickets.choices import Priority
from tickets.search import search_q

from .choices import IncidentStatus
from .models import Category, Incident


class IncidentFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=IncidentStatus.choices, label="Status")
    priority = django_filters.MultipleChoiceFilter(
        field_name="ticket__priority", choices=Priority.choices, label="Priority"
    )
    team = django_filters.ModelChoiceFilter(
        field_name="ticket__team", queryset=Team.objects.all(), label="Team"
    )
    assignee = django_filters.CharFilter(
        method="filter_assignee", label="Assignee (me, unassigned or a user id)"
    )
    service = django_filters.ModelChoiceFilter(
        field_name="ticket__service", queryset=Service.objects.all(), label="Service"
    )
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.select_related("parent"),
        method="filter_category",
        label="Category",
    )
    major = django_filters.BooleanFilter(field_name="is_major", label="Major incident")
    created_after = django_filters.IsoDateTimeFilter(
        field_name="ticket__created_at", lookup_expr="gte", label="Created on or after"
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="ticket__created_at", lookup_expr="lt", label="Created before"
    )
    updated_after = django_filters.IsoDateTimeFilter(
        field_name="ticket__updated_at", lookup_expr="gte", label="Updated on or after"
    )
    updated_before = django_filters.IsoDateTimeFilter(
        field_name="ticket__updated_at", lookup_expr="lt", label="Updated before"
    )
    q = django_filters.CharFilter(method="filter_text", label="Search")

    class Meta:
        model = Incident
        fields = [
            "status",
            "priority",
            "team",
            "assignee",
            "service",
            "category",
            "major",
            "created_after",
            "created_before",
            "updated_after",
            "updated_before",
            "q",
        ]

    def filter_assignee(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """`me`, `unassigned` or a user id; anything else matches nothing."""
        value = value.strip()
        if value == "me":
            user = getattr(self.request, "user", None)
            if user is None or not user.is_authenticated:
                return queryset.none()
            return queryset.filter(ticket__assignee=user)
        if value == "unassigned":
            return queryset.filter(ticket__assignee__isnull=True)
        if value.isdecimal():
            return queryset.filter(ticket__assignee_id=int(value))
        return queryset.none()

    def filter_category(self, queryset: QuerySet, name: str, value: Category | None) -> QuerySet:
        """A category matches incidents filed under it or under one of its subcategories."""
        if value is None:
            return queryset
        return queryset.filter(Q(category=value) | Q(subcategory=value))

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """A ticket number finds that incident; words run the full-text search."""
        if not value.strip():
            return queryset
        return queryset.filter(search_q(value, prefix="ticket__"))
