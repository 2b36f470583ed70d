from django.db.models import QuerySet
from rest_framework import viewsets

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
        return Ticket.objects.visible_to(self.request.user).for_queue().select_related(*expanded)
