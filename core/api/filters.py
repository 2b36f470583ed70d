"""The API's django-filter backend: the FilterSets shared with the desk, plus one guard.

An ISO datetime in a query parameter keeps the offset it was sent with, and Python accepts
offsets PostgreSQL refuses (beyond ±15:59) or instants that overflow when moved: the query
would fail with a server error. Every aware datetime is moved to UTC here first; one that
cannot be is a 400 on its parameter.

An empty value (`?team=`, `?created_before=`) of a typed filter (an id, a choice, a number,
a date, a boolean) is a 400 too, and so is a boolean that is not true/false: django-filter
would ignore them, while the schema says the parameter is one of those. Free-text filters
(and method filters the schema types as free text) keep "" (no filter)."""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django.db.models import QuerySet
from django_filters import utils
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions


class FilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        _refuse_empty(request, filterset)
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


#: What a boolean filter takes (django-filter would read anything else as "no filter").
BOOLEANS = frozenset({"true", "false", "True", "False", "1", "0"})


def _typed(declared: Any) -> bool:
    """A filter whose schema type has no room for "": not free text, and, for a filter
    with a method, one typed for the schema (extend_schema_field) or a choice."""
    if isinstance(declared, django_filters.CharFilter):
        return False
    if declared.method is None:
        return True
    method = getattr(declared.parent, declared.method, None) if declared.parent else None
    typed = hasattr(method, "_spectacular_annotation")
    # A plain choice filter is an enum in the schema; a model choice with a method is typed
    # from the method's annotation (free text unless annotated).
    static_choices = type(declared) in (
        django_filters.ChoiceFilter,
        django_filters.MultipleChoiceFilter,
    )
    return typed or static_choices


def _refuse_empty(request: Any, filterset: Any) -> None:
    errors: dict[str, list[str]] = {}
    for name, declared in filterset.filters.items():
        values = request.query_params.getlist(name)
        if not values or not _typed(declared):
            continue
        if "" in values:
            errors[name] = ["Give a value, or leave the parameter out."]
        elif isinstance(declared, django_filters.BooleanFilter) and not set(values) <= BOOLEANS:
            errors[name] = ["Give true or false."]
    if errors:
        raise exceptions.ValidationError(errors)
