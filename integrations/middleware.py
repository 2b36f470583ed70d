"""A guard in front of the API: input PostgreSQL cannot store is refused with 400.

PostgreSQL text and JSON cannot hold a NUL character. Serializer CharFields refuse it, but a
NUL in a query parameter, a path segment or inside a JSON value would reach a query and fail
as a server error. Requests under /api/ carrying one are answered 400 in the one error
format before any view runs. (File uploads are multipart and are not inspected.)"""

import re
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.api.errors import BUSINESS_RULE, problem

API_PREFIX = "/api/"
TEXT_BODIES = ("application/json", "application/x-www-form-urlencoded")
#: A JSON \u0000 escape (not an escaped backslash followed by "u0000").
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class ApiInputGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            try:
                where = _nul_in(request)
            except RequestDataTooBig:
                body = problem(status_code=413, title="Payload too large", detail="Send less.")
                return JsonResponse(body, status=413)
            if where:
                body = problem(
                    status_code=400,
                    title="Bad request",
                    detail=f"The {where} contains a NUL character, which is not accepted.",
                    errors={where: ["NUL characters are not accepted."]},
                    # A rule of the store (PostgreSQL text), not one the schema states.
                    type_=BUSINESS_RULE,
                )
                return JsonResponse(body, status=400)
        return self.get_response(request)


def _nul_in(request: HttpRequest) -> str:
    if b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", "")):
        return "query"
    if "\x00" in request.path:
        return "path"
    content_type = request.content_type or ""
    if request.method in ("POST", "PUT", "PATCH") and content_type in TEXT_BODIES:
        raw = request.body
        if content_type == "application/json":
            if JSON_NUL.search(raw) or b"\x00" in raw:
                return "body"
        elif b"\x00" in unquote_to_bytes(raw):
            return "body"
    return ""
