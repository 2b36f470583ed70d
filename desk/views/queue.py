"""Desk pages: the cross-kind queue and the ticket jump. Agents only (core.middleware policy)."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from core.views import FilteredListView
from slas.querysets import with_sla_deadlines
from tickets.filtersets import BREACHING, TicketFilterSet
from tickets.models import Ticket


class QueueView(FilteredListView):
    """Open tickets of every kind the agent may see, sortable and paginated, with the nearest
    SLA deadline. `?queue=breaching` lists tickets with a running, unbreached clock, the
    nearest deadline first."""

    template_name = "desk/queue.html"
    filterset_class = TicketFilterSet
    default_sort = "priority"

    @property
    def breaching(self) -> bool:
        return self.request.GET.get("queue") == BREACHING

    @property
    def sort_fields(self) -> dict[str, str]:  # type: ignore[override]
        return {
            "number": "number",
            "priority": "priority",
            "title": "title",
            "created": "created_at",
            "updated": "updated_at",
            "sla": "sla_next_due" if self.breaching else "sla_due",
        }

    def current_sort(self) -> str:
        if self.breaching and not self.request.GET.get("sort"):
            return "sla"
        return super().current_sort()

    def get_base_queryset(self) -> QuerySet[Ticket]:
        tickets = Ticket.objects.visible_to(self.request.user)
        if not self.request.GET.getlist("state"):  # open work, unless a drill-down asks for states
            tickets = tickets.open()
        return with_sla_deadlines(tickets.for_queue())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "breaching": self.breaching}


def ticket_redirect(request: HttpRequest, number: str) -> HttpResponse:
    """/desk/tickets/INC0001001/ → the kind's own page (404 when hidden)."""
    ticket = get_object_or_404(Ticket.objects.visible_to(request.user), number=number.upper())
    detail_url = DETAIL_URLS.get(ticket.kind)
    if detail_url is None:
        return redirect("desk:queue")
    return redirect(detail_url, ticket.pk)


#: The desk page of each kind; kinds register theirs as they land.
DETAIL_URLS: dict[str, str] = {
    "incident": "desk:incident-detail",
    "change": "desk:change-detail",
    "request": "desk:request-detail",
    "task": "desk:task-detail",
}
