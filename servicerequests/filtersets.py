"""One filter per list, shared by the desk and the API (NetBox shape): ServiceRequestFilterSet
and FulfilmentTaskFilterSet. Envelope fields are reached through `ticket__…`."""

import django_filters
from django.db.models import Q, QuerySet

from accounts.models import Team
from catalogue.models import CatalogueItem, Category
from tickets.choices import Priority

from .choices import RequestStatus, TaskStatus
from .models import FulfilmentTask, ServiceRequest


def _assignee(request: object, queryset: QuerySet, value: str) -> QuerySet:
    """`me`, `unassigned` or a user id; anything else matches nothing."""
    value = value.strip()
    if value == "me":
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return queryset.none()
        return queryset.filter(ticket__assignee=user)
    if value == "unassigned":
        return queryset.filter(ticket__assignee__isnull=True)
    if value.isdecimal():
        return queryset.filter(ticket__assignee_id=int(value))
    return queryset.none()


def _text(queryset: QuerySet, value: str) -> QuerySet:
    """A ticket number finds that ticket; other text searches title and description."""
    value = value.strip()
    if not value:
        return queryset
    return queryset.filter(
        Q(ticket__number__iexact=value)
        | Q(ticket__title__icontains=value)
        | Q(ticket__description__icontains=value)
    )


class ServiceRequestFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RequestStatus.choices, label="Status")
    priority = django_filters.MultipleChoiceFilter(
        field_name="ticket__priority", choices=Priority.choices, label="Priority"
    )
    item = django_filters.ModelChoiceFilter(queryset=CatalogueItem.objects.all(), label="Item")
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), method="filter_category", label="Category"
    )
    team = django_filters.ModelChoiceFilter(
        field_name="ticket__team", queryset=Team.objects.all(), label="Team"
    )
    assignee = django_filters.CharFilter(
        method="filter_assignee", label="Assignee (me, unassigned or a user id)"
    )
    requester = django_filters.NumberFilter(field_name="ticket__requester", label="Requester id")
    created_after = django_filters.IsoDateTimeFilter(
        field_name="ticket__created_at", lookup_expr="gte", label="Created on or after"
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="ticket__created_at", lookup_expr="lt", label="Created before"
    )
    q = django_filters.CharFilter(method="filter_text", label="Search")

    class Meta:
        model = ServiceRequest
        fields = [
            "status",
            "priority",
            "item",
            "category",
            "team",
            "assignee",
            "requester",
            "created_after",
            "created_before",
            "q",
        ]

    def filter_assignee(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _assignee(self.request, queryset, value)

    def filter_category(self, queryset: QuerySet, name: str, value: Category | None) -> QuerySet:
        """A category matches items filed in it or in one of its subcategories."""
        if value is None:
            return queryset
        return queryset.filter(Q(item__category=value) | Q(item__category__parent=value))

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _text(queryset, value)


class FulfilmentTaskFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TaskStatus.choices, label="Status")
    team = django_filters.ModelChoiceFilter(
        field_name="ticket__team", queryset=Team.objects.all(), label="Team"
    )
    assignee = django_filters.CharFilter(
        method="filter_assignee", label="Assignee (me, unassigned or a user id)"
    )
    request = django_filters.CharFilter(
        field_name="request__ticket__number", lookup_expr="iexact", label="Request number"
    )
    q = django_filters.CharFilter(method="filter_text", label="Search")

    class Meta:
        model = FulfilmentTask
        fields = ["status", "team", "assignee", "request", "q"]

    def filter_assignee(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _assignee(self.request, queryset, value)

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _text(queryset, value)
