"""One JSON error format for every API error (RFC 9457 style):
{"type", "title", "status", "detail", "errors": {field: [messages]}}."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError, StaleWrite

TYPE_BASE = "https://servicedesk.invalid/problems/"


def problem(
    *, status_code: int, title: str, detail: str, errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    slug = title.lower().replace(" ", "-")
    return {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status_code,
        "detail": detail,
        "errors": errors or {},
    }


def _flatten(data: Any) -> dict[str, list[str]]:
    if isinstance(data, dict):
        return {
            key: [str(v) for v in (value if isinstance(value, list) else [value])]
            for key, value in data.items()
        }
    if isinstance(data, list):
        return {"non_field_errors": [str(v) for v in data]}
    return {"non_field_errors": [str(data)]}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Map domain errors and DRF errors to the one format."""
    if isinstance(exc, DomainError):
        errors = {exc.field: [exc.message]} if exc.field else {}
        body = problem(
            status_code=exc.status_code, title=exc.title, detail=exc.message, errors=errors
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
    429: "Too many requests",
}
