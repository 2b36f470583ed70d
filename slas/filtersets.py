"""SlaClockFilterSet: the API's clock list filter (`?ticket=INC0001001`)."""

import django_filters

from .choices import ClockState, Metric
from .models import SlaClock


class SlaClockFilterSet(django_filters.FilterSet):
    ticket = django_filters.CharFilter(
        field_name="ticket__number", lookup_expr="iexact", label="Ticket number"
    )
    metric = django_filters.ChoiceFilter(choices=Metric.choices)
    state = django_filters.MultipleChoiceFilter(choices=ClockState.choices)

    class Meta:
        model = SlaClock
        fields = ["ticket", "metric", "state"]
