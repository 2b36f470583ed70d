"""One JSON error format for every API error (RFC 9457 style):
{"type", "title", "status", "detail", "errors": {field: [messages]}}.

A 400 that refuses a request the schema allows, by a rule the schema cannot state (an id
that does not exist or that the caller may not use, an end before its start, a reason the
rule requires), has the type BUSINESS_RULE: every DomainError, and validation errors whose
every code is in BUSINESS_RULE_CODES. Any other 400 means the request broke the schema, so
the schemathesis suite holds the schema to it (tests/integrations/test_schemathesis.py)."""

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError, StaleWrite

TYPE_BASE = "https://servicedesk.invalid/problems/"
BUSINESS_RULE = TYPE_BASE + "business-rule"
#: Validation codes of rules on data, not on its shape: unknown or unusable ids (DRF's
#: related fields, django-filter's model choices), text with no visible character ("blank":
#: the schema's minLength counts spaces), and rules an input states itself.
BUSINESS_RULE_CODES = frozenset(
    {"does_not_exist", "invalid_choice", "invalid_pk_value", "blank", "business_rule"}
)


def problem(
    *,
    status_code: int,
    title: str,
    detail: str,
    errors: dict[str, list[str]] | None = None,
    type_: str | None = None,
) -> dict[str, Any]:
    slug = title.lower().replace(" ", "-")
    return {
        "type": type_ or TYPE_BASE + slug,
        "title": title,
        "status": status_code,
        "detail": detail,
        "errors": errors or {},
    }


def _flatten(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """Field errors as {"field": [messages]}; nested inputs get dotted paths
    ("alerts.0.labels")."""
    if isinstance(data, dict):
        flat: dict[str, list[str]] = {}
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat
    name = prefix.removesuffix(".") or "non_field_errors"
    if isinstance(data, list):
        if any(isinstance(item, dict | list) for item in data):
            flat = {}
            for index, item in enumerate(data):
                if item:
                    flat.update(_flatten(item, f"{name}.{index}."))
            return flat
        return {name: [str(item) for item in data]}
    return {name: [str(data)]}


def _codes(detail: Any) -> Iterator[str]:
    if isinstance(detail, dict):
        for value in detail.values():
            yield from _codes(value)
    elif isinstance(detail, list):
        for value in detail:
            yield from _codes(value)
    else:
        yield getattr(detail, "code", None) or "invalid"


def _is_business_rule(detail: Any) -> bool:
    codes = set(_codes(detail))
    return bool(codes) and codes <= BUSINESS_RULE_CODES


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Map domain errors and DRF errors to the one format."""
    if isinstance(exc, DomainError):
        errors = {exc.field: [exc.message]} if exc.field else {}
        body = problem(
            status_code=exc.status_code,
            title=exc.title,
            detail=exc.message,
            errors=errors,
            type_=BUSINESS_RULE if exc.status_code == 400 else None,
        )
        if isinstance(exc, StaleWrite) and exc.current_version is not None:
            body["current_version"] = exc.current_version
        return Response(body, status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = problem(
            status_code=response.status_code,
            title="Validation failed",
            detail="Some fields are not valid.",
            errors=_flatten(exc.detail),
            type_=BUSINESS_RULE if _is_business_rule(exc.detail) else None,
        )
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        title = _TITLES.get(response.status_code, "Error")
        body = problem(status_code=response.status_code, title=title, detail=str(detail))
    response.data = body
    return response


_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
}


@csrf_exempt  # it changes nothing; without this a POST would get the CSRF HTML page
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown URLs under /api/ answer 404 in the one error format, not the HTML page."""
    body = problem(status_code=404, title="Not found", detail="No API endpoint at this URL.")
    return JsonResponse(body, status=404)
