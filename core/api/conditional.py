"""Optimistic locking over HTTP, shared by every ticket API: the ETag is the ticket version,
a write carries it back in If-Match (or a `version` field); a stale one is refused (412).
A read sending the ETag it holds in If-None-Match gets 304 while it is current."""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": r'^(\*|(W/)?"[0-9]{1,9}")$'},
    OpenApiParameter.HEADER,
    required=False,
    description='The ETag you read, e.g. "3". A stale version is refused with 412.',
)
PROBLEM = OpenApiResponse(description="Error in the one problem format (type, title, …).")


def etag_parameter(noun: str) -> OpenApiParameter:
    """The ETag response header, documented for `noun` ("incident", "change"…)."""
    return OpenApiParameter(
        "ETag",
        str,
        OpenApiParameter.HEADER,
        response=True,
        description=f"The {noun}'s current version, for If-Match.",
    )


def expected_version(request: Request, body_version: int | None = None) -> int | None:
    """The version the caller read: the If-Match header (an ETag) or the `version` field."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return body_version
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdecimal():
        raise exceptions.ValidationError({"If-Match": ['Send the ETag you read, e.g. "3".']})
    if body_version is not None and body_version != int(value):
        raise exceptions.ValidationError(
            {"version": ["Differs from the If-Match header."]}, code="business_rule"
        )
    return int(value)


# ------------------------------------------------------------------ conditional GET
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description='The ETag you hold, e.g. "3": answered 304 with no body while it is current.',
)
NOT_MODIFIED = OpenApiResponse(description="Not modified: the ETag you sent is still current.")


def version_etag(version: int) -> str:
    """The ETag of a ticket at `version` (the same value If-Match takes back)."""
    return f'"{version}"'


def _none_match(header: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison, a list of tags, or `*` (any current one)."""
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in header.split(","))


def detail_response(request: Request, etag: str, data: Callable[[], Any]) -> Response:
    """A detail GET with its ETag, or 304 (no body, serializer never run) when the caller's
    If-None-Match names it. `data` is called only when the body is needed.

    The ETag is the ticket version, bumped by every journalled change; the representation
    also depends on the query (`?fields=`, `?expand=`), so a client revalidates per URL,
    which is what HTTP caches do anyway."""
    header = request.headers.get("If-None-Match")
    if header is not None and _none_match(header, etag):
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return Response(data(), headers={"ETag": etag})
