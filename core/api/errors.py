"""One JSON error format for every API error (RFC 9457 style):
{"type", "title", "status", "detail", "errors": {field: [messages]}}."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
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
    422: "Unprocessable content",
    429: "Too many requests",
}


@csrf_exempt  # it changes nothing; without this a POST would get the CSRF HTML page
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown URLs under /api/ answer 404 in the one error format, not the HTML page."""
    body = problem(status_code=404, title="Not found", detail="No API endpoint at this URL.")
    return JsonResponse(body, status=404)
