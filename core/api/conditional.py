"""Optimistic locking over HTTP, shared by every ticket API: the ETag is the ticket version,
a write carries it back in If-Match (or a `version` field); a stale one is refused (412)."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions
from rest_framework.request import Request

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
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
        raise exceptions.ValidationError({"version": ["Differs from the If-Match header."]})
    return int(value)
