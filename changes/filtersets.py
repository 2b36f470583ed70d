"""ChangeFilterSet: one filter for the desk change queue and the API (NetBox shape).

Rooted at Change; envelope fields are reached through `ticket__…`. `window_after` /
`window_before` select changes whose planned window overlaps [after, before)."""

import django_filters
from django.db.models import Q, QuerySet

from accounts.models import Team
from catalogue.models import Service

from .choices import ChangeStatus, ChangeType, Risk
from .models import Change


class ChangeFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ChangeStatus.choices, label="Status")
    type = django_filters.MultipleChoiceFilter(choices=ChangeType.choices, label="Type")
    risk = django_filters.MultipleChoiceFilter(choices=Risk.choices, label="Risk")
    service = django_filters.ModelChoiceFilter(
        queryset=Service.objects.all(), method="filter_service", label="Service"
    )
    team = django_filters.ModelChoiceFilter(
        field_name="ticket__team", queryset=Team.objects.all(), label="Team"
    )
    assignee = django_filters.CharFilter(
        method="filter_assignee", label="Implementer (me, unassigned or a user id)"
    )
    window_after = django_filters.IsoDateTimeFilter(
        field_name="planned_end", lookup_expr="gt", label="Window ends after"
    )
    window_before = django_filters.IsoDateTimeFilter(
        field_name="planned_start", lookup_expr="lt", label="Window starts before"
    )
    q = django_filters.CharFilter(method="filter_text", label="Search")

    class Meta:
        model = Change
        fields = [
            "status",
            "type",
            "risk",
            "service",
            "team",
            "assignee",
            "window_after",
            "window_before",
            "q",
        ]

    def filter_service(self, queryset: QuerySet, name: str, value: Service | None) -> QuerySet:
        """Changes that list the service among their affected services."""
        if value is None:
            return queryset
        return queryset.filter(
            pk__in=Change.services.through.objects.filter(service=value).values("change_id")
        )

    def filter_assignee(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
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

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(ticket__number__iexact=value)
            | Q(ticket__title__icontains=value)
            | Q(ticket__description__icontains=value)
        )
