from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.conditional import (
    IF_NONE_MATCH,
    NOT_MODIFIED,
    detail_response,
    etag_parameter,
    version_etag,
)
from core.api.fields import expand_related
from core.api.pagination import TicketCursorPagination
from tickets.filtersets import TicketFilterSet
from tickets.models import KIND_DETAIL_ATTR, Ticket

from .serializers import TicketSerializer


class TicketViewSet(viewsets.ReadOnlyModelViewSet):
    """Every ticket the caller may see, across kinds. Looked up by number."""

    serializer_class = TicketSerializer
    filterset_class = TicketFilterSet
    pagination_class = TicketCursorPagination
    lookup_field = "number"

    def get_queryset(self) -> QuerySet[Ticket]:
        expanded = expand_related(self.request, {"detail": KIND_DETAIL_ATTR.values()})
        tickets = Ticket.objects.visible_to(self.request.user).for_queue()
        # select_related() with no names would replace for_queue's joins with "every
        # non-null FK" and drop the team (an N+1 on the list).
        return tickets.select_related(*expanded) if expanded else tickets

    @extend_schema(
        parameters=[etag_parameter("ticket"), IF_NONE_MATCH],
        responses={200: TicketSerializer, 304: NOT_MODIFIED},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        return detail_response(
            request, version_etag(ticket.version), lambda: self.get_serializer(ticket).data
        )
