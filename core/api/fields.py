"""`?fields=` (sparse fieldsets) and `?expand=` (richer nested objects) for API responses.

A serializer opts in with `FieldsExpandMixin` and, in its Meta:
- `expandable_fields = {"service": (ServiceSerializer, {"source": "ticket.service"})}`: the
  field is replaced by that serializer when the caller asks `?expand=service`; the expanded
  form must be a superset of the plain one (so one schema describes both);
- `expand_only = ("detail",)`: fields left out unless expanded.

Only the top-level serializer of a response reads the query string (a nested serializer of
the same class is left alone). Unknown names are ignored. core.api.schema documents both
parameters on every operation whose response uses such a serializer."""

from collections.abc import Callable, Iterable
from typing import Any

from django.utils.module_loading import import_string
from rest_framework import serializers

FIELDS_PARAM = "fields"
EXPAND_PARAM = "expand"

#: Component name (serializer name without "Serializer") → (field names, expandable names).
REGISTRY: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def requested(request: Any, param: str) -> set[str] | None:
    """The comma-separated names in `?<param>=`, or None when the parameter is absent."""
    params = getattr(request, "query_params", None)
    if params is None or param not in params:
        return None
    return {part.strip() for part in params.get(param, "").split(",") if part.strip()}


def expand_requested(request: Any) -> set[str]:
    """Names in `?expand=` (views use it to join what the expansions read)."""
    return requested(request, EXPAND_PARAM) or set()


def expand_related(request: Any, related: dict[str, Iterable[str]]) -> list[str]:
    """The select/prefetch paths of the expansions asked for, from a name → paths map."""
    wanted = expand_requested(request)
    return [path for name, paths in related.items() if name in wanted for path in paths]


class FieldsExpandMixin:
    """Serializer mixin for `?fields=` and `?expand=` (see the module docstring)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        meta = getattr(cls, "Meta", None)
        names = tuple(getattr(meta, "fields", ()) or ())
        expandable = tuple(getattr(meta, "expandable_fields", {}) or {})
        expand_only = tuple(getattr(meta, "expand_only", ()) or ())
        component = cls.__name__.removesuffix("Serializer")
        REGISTRY[component] = (names, tuple(dict.fromkeys(expandable + expand_only)))

    def _is_response_root(self) -> bool:
        parent = getattr(self, "parent", None)
        if parent is None:
            return True
        return isinstance(parent, serializers.ListSerializer) and parent.parent is None

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()  # type: ignore[misc]
        context = getattr(self, "context", {})
        view = context.get("view")
        if getattr(view, "swagger_fake_view", False):
            return fields  # the schema documents every field
        request = context.get("request")
        if request is None or not self._is_response_root():
            return fields
        meta = getattr(self, "Meta", None)
        expand = expand_requested(request)
        for name in getattr(meta, "expand_only", ()):
            if name not in expand:
                fields.pop(name, None)
        for name, spec in getattr(meta, "expandable_fields", {}).items():
            if name in expand:
                fields[name] = _build(spec)
        only = requested(request, FIELDS_PARAM)
        if only:
            fields = {name: field for name, field in fields.items() if name in only}
        return fields


def _build(spec: Any) -> serializers.Field:
    """A field instance from `(class or dotted path, kwargs)` or a zero-argument callable."""
    if isinstance(spec, tuple):
        field_class, kwargs = spec
        if isinstance(field_class, str):
            field_class = import_string(field_class)
        return field_class(**{"read_only": True, **kwargs})
    factory: Callable[[], serializers.Field] = spec
    return factory()


# ------------------------------------------------------------------ bounded dates
#: Input dates are kept within these years: arithmetic on them (days, time zones,
#: recurrences) then never overflows, and nothing on a service desk is planned outside.
#: A rule the schema's `date-time` format cannot state, so a BUSINESS_RULE refusal
#: (core.api.errors).
MIN_YEAR, MAX_YEAR = 1900, 2999


class DateTimeInput(serializers.DateTimeField):
    """An input datetime between MIN_YEAR and MAX_YEAR."""

    def to_internal_value(self, value: Any) -> Any:
        parsed = super().to_internal_value(value)
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            raise serializers.ValidationError(
                f"Use a date between {MIN_YEAR} and {MAX_YEAR}.", code="business_rule"
            )
        return parsed


class DateInput(serializers.DateField):
    """An input date between MIN_YEAR and MAX_YEAR."""

    def to_internal_value(self, value: Any) -> Any:
        parsed = super().to_internal_value(value)
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            raise serializers.ValidationError(
                f"Use a date between {MIN_YEAR} and {MAX_YEAR}.", code="business_rule"
            )
        return parsed
