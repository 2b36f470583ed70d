"""Desk pages: the cross-kind queue and the ticket jump. Agents only (core.middleware policy)."""

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from core.views import FilteredListView
from tickets.filtersets import TicketFilterSet
from tickets.models import Ticket


class QueueView(FilteredListView):
    """Open tickets of every kind the agent may see, sortable and paginated."""

    template_name = "desk/queue.html"
    filterset_class = TicketFilterSet
    sort_fields = {
        "number": "number",
        "priority": "priority",
        "title": "title",
        "created": "created_at",
        "updated": "updated_at",
    }
    default_sort = "priority"

    def get_base_queryset(self) -> QuerySet[Ticket]:
        return Ticket.objects.visible_to(self.request.user).open().for_queue()


def ticket_redirect(request: HttpRequest, number: str) -> HttpResponse:
    """/desk/tickets/INC0001001/ → the kind's own page (404 when hidden)."""
    ticket = get_object_or_404(Ticket.objects.visible_to(request.user), number=number.upper())
    detail_url = DETAIL_URLS.get(ticket.kind)
    if detail_url is None:
        return redirect("desk:queue")
    return redirect(detail_url, ticket.pk)


#: The desk page of each kind; kinds register theirs as they land.
DETAIL_URLS: dict[str, str] = {"incident": "desk:incident-detail"}
