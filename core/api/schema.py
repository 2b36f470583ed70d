"""drf-spectacular: what every operation shares, written once.

- AutoSchema: a read-only field shows what the model may hold: null when the model field
  (or a relation on its source path) is nullable, "" in an enum when the model field may be
  blank. DRF drops `allow_blank` from read-only fields, so the schema would otherwise
  promise values the server does not send.

- The one error format (core.api.errors) as the `Problem` component, referenced by the error
  statuses each operation may answer (400/401/403/404/429 everywhere; 409/412/415/422 on
  writes), so the schema says what the server does.
- `?fields=` and `?expand=` (core.api.fields) on every operation whose response uses a
  serializer with FieldsExpandMixin; those components list no required properties, since
  `?fields=` may leave any of them out."""

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers

from .fields import EXPAND_PARAM, FIELDS_PARAM, REGISTRY

PROBLEM_COMPONENT = "Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error (RFC 9457 style). `errors` maps a field to its messages.",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "current_version": {
            "type": "integer",
            "description": "On 412: the ticket's version now (send it as If-Match).",
        },
    },
    "required": ["type", "title", "status", "detail", "errors"],
}
ALL_ERRORS = {
    "400": "Invalid input or query (field errors in `errors`).",
    "401": "Not authenticated: log in, or send `Authorization: Bearer <token>`.",
    "403": "Authenticated, but not allowed (role, object permission or token scope).",
    "404": "Not found, or hidden from you.",
    "429": "Too many requests: wait `Retry-After` seconds.",
}
WRITE_ERRORS = {
    "409": "Conflict: the lifecycle does not allow it, or the Idempotency-Key is in use.",
    "412": "Precondition failed: the ticket changed since you read it (stale If-Match or version).",
    "415": "Unsupported media type: send JSON (or multipart where documented).",
    "422": "Idempotency-Key already used for another request.",
}
SAFE = {"get", "head", "options"}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
WWW_AUTHENTICATE = {"WWW-Authenticate": {"schema": {"type": "string"}}}


def add_error_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Post-processing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[PROBLEM_COMPONENT] = PROBLEM_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            errors = dict(ALL_ERRORS)
            if method not in SAFE:
                errors.update(WRITE_ERRORS)
            _document_errors(operation["responses"], errors)
            _document_fields(operation, schemas)
            _document_number_bounds(operation)
    for name in REGISTRY:
        if name in schemas:
            schemas[name].pop("required", None)
    return result


#: django-filter's NumberFilter refuses numbers beyond these (its form field's bounds).
NUMBER_FILTER_BOUND = 1e50


def _document_number_bounds(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter.get("in") == "query" and schema.get("type") == "number":
            schema.setdefault("minimum", -NUMBER_FILTER_BOUND)
            schema.setdefault("maximum", NUMBER_FILTER_BOUND)


def _document_errors(responses: dict[str, Any], errors: dict[str, str]) -> None:
    ref = {"$ref": f"#/components/schemas/{PROBLEM_COMPONENT}"}
    for code, description in errors.items():
        response = responses.setdefault(code, {})
        if not response.get("description"):
            response["description"] = description
        response["content"] = {"application/json": {"schema": ref}}
        if code == "429":
            response.setdefault("headers", {}).update(RETRY_AFTER)
        if code == "401":
            response.setdefault("headers", {}).update(WWW_AUTHENTICATE)


def _response_component(operation: dict[str, Any], schemas: dict[str, Any]) -> str | None:
    for code, response in operation["responses"].items():
        if not code.startswith("2"):
            continue
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        name = _ref_name(schema) or _ref_name(schema.get("items", {}))
        if name and name.startswith("Paginated") and name in schemas:
            items = schemas[name].get("properties", {}).get("results", {}).get("items", {})
            name = _ref_name(items)
        if name in REGISTRY:
            return name
    return None


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
    return ref.rsplit("/", 1)[-1] if ref else None


def _document_fields(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    name = _response_component(operation, schemas)
    if name is None:
        return
    names, expandable = REGISTRY[name]
    parameters = operation.setdefault("parameters", [])
    present = {(p.get("in"), p.get("name")) for p in parameters}
    if ("query", FIELDS_PARAM) not in present:
        parameters.append(
            {
                "in": "query",
                "name": FIELDS_PARAM,
                "schema": {"type": "string"},
                "description": "Comma-separated fields to return (others are left out; unknown "
                f"names are ignored). Fields: {', '.join(names)}.",
            }
        )
    if expandable and ("query", EXPAND_PARAM) not in present:
        parameters.append(
            {
                "in": "query",
                "name": EXPAND_PARAM,
                "schema": {"type": "string"},
                "description": "Comma-separated relations to return in full: "
                f"{', '.join(expandable)}.",
            }
        )


# ------------------------------------------------------------------ read-only fields
class AutoSchema(SpectacularAutoSchema):
    def map_parsers(self) -> list[str]:
        """Request bodies are documented as JSON only: a form encoding cannot carry null,
        nested objects or lists of ids, so the schema would promise bodies the server cannot
        read. Forms are still parsed (older clients); an operation that needs multipart
        (files) names its media types itself in extend_schema(request={…})."""
        media_types = super().map_parsers()
        json_only = [m for m in media_types if m == "application/json"]
        return json_only or media_types

    def _map_serializer_field(
        self, field: Any, direction: str, bypass_extensions: bool = False
    ) -> Any:
        if isinstance(field, serializers.Field) and field.read_only:
            nullable, blank = _model_allows(field)
            if nullable and not field.allow_null:
                field.allow_null = True  # schema-time only: read-only fields parse nothing
            if blank and isinstance(field, serializers.ChoiceField) and not field.allow_blank:
                field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)


def _model_allows(field: serializers.Field) -> tuple[bool, bool]:
    """(null possible, blank possible) for a read-only field, from its model and source."""
    parent = getattr(field, "parent", None)
    model = getattr(getattr(parent, "Meta", None), "model", None)
    source = getattr(field, "source", None)
    if (
        model is None
        or not source
        or source == "*"
        or isinstance(field, serializers.ListSerializer)
    ):
        return False, False
    nullable = False
    model_field: Any = None
    for name in source.split("."):
        if model is None:
            return nullable, False
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return nullable, False
        nullable = nullable or bool(getattr(model_field, "null", False))
        if model_field.one_to_one and model_field.auto_created:
            nullable = True  # a reverse one-to-one may be missing
        model = model_field.related_model if model_field.is_relation else None
    blank = isinstance(model_field, models.CharField | models.TextField) and model_field.blank
    return nullable, blank
