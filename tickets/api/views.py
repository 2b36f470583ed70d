from django.db.models import QuerySet
from rest_framework import viewsets

from core.api.pagination import TicketCursorPagination
from tickets.filtersets import TicketFilterSet
from tickets.models import Ticket

from .serializers import TicketSerializer


class TicketViewSet(viewsets.ReadOnlyModelViewSet):
    """Every ticket the caller may see, across kinds. Looked up by number."""

    serializer_class = TicketSerializer
    filterset_class = TicketFilterSet
    pagination_class = TicketCursorPagination
    lookup_field = "number"

    def get_queryset(self) -> QuerySet[Ticket]:
        return Ticket.objects.visible_to(self.request.user).for_queue()
