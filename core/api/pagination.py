"""API pagination: page numbers for small lists, cursors for the big ticket lists."""

from rest_framework.pagination import CursorPagination, PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class TicketCursorPagination(CursorPagination):
    """Stable keyset pagination: constant cost however deep the page."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-pk"
