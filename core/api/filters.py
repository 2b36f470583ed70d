"""The API's django-filter backend: the FilterSets shared with the desk, plus one guard.

An ISO datetime in a query parameter keeps the offset it was sent with, and Python accepts
offsets PostgreSQL refuses (beyond ±15:59) or instants that overflow when moved: the query
would fail with a server error. Every aware datetime is moved to UTC here first; one that
cannot be is a 400 on its parameter."""

from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from django_filters import utils
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions


class FilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid() and self.raise_exception:
            raise utils.translate_validation(filterset.errors)
        cleaned = filterset.form.cleaned_data
        for name, value in cleaned.items():
            if isinstance(value, slice):  # range filters
                cleaned[name] = slice(_utc(name, value.start), _utc(name, value.stop))
            else:
                cleaned[name] = _utc(name, value)
        return filterset.qs


def _utc(name: str, value: Any) -> Any:
    if not isinstance(value, datetime) or value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise exceptions.ValidationError({name: ["Date out of range."]}) from None
