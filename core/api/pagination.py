"""API pagination: page numbers for small lists, cursors for the big ticket lists.

`page_size` is strict: a value that is not a whole number from 1 to the maximum is a 400 on
the parameter (not a silent fall-back to the default), and the schema states the range."""

from typing import Any

from rest_framework import exceptions
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request

MAX_PAGE_SIZE = 100


class StrictPageSize:
    """Mixin: validate `page_size` and document its bounds."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size  # type: ignore[attr-defined]
        # isdecimal() also takes non-ASCII digits; int() would accept them, the schema not.
        if not (raw.isascii() and raw.isdecimal()) or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        f"Give a whole number from 1 to {self.max_page_size}."
                    ]
                }
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)  # type: ignore[misc]
        for parameter in parameters:
            if parameter["name"] == getattr(self, "page_query_param", None):
                parameter["schema"] = {"type": "integer", "minimum": 1}
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
        return parameters


class StandardPagination(StrictPageSize, PageNumberPagination):
    page_size = 25

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        """`page` is a whole number from 1 (or "last"): "" or "x" is a 400, not page 1."""
        raw = request.query_params.get(self.page_query_param)
        whole = raw is not None and raw.isascii() and raw.isdecimal() and int(raw) >= 1
        if raw is not None and raw not in self.last_page_strings and not whole:
            raise exceptions.ValidationError(
                {self.page_query_param: ["Give a page number from 1."]}
            )
        return super().get_page_number(request, paginator)


class TicketCursorPagination(StrictPageSize, CursorPagination):
    """Stable keyset pagination: constant cost however deep the page."""

    page_size = 25
    ordering = "-pk"
