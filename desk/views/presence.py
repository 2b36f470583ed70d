"""The presence endpoint polled by every desk ticket page (templates/desk/_presence.html)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from tickets.models import Ticket

from ..presence import TYPING, VIEWING, presence_leave, presence_touch


@require_POST
def ticket_presence(request: HttpRequest, pk: int) -> HttpResponse:
    """Touch the agent's presence on ticket `pk` (state=viewing|typing, or left when the page
    closes) and answer with the other agents present. The only SQL is the visibility check:
    a ticket the agent may not see is a 404, like every desk URL."""
    if not Ticket.objects.visible_to(request.user).filter(pk=pk).exists():
        raise Http404
    state = request.POST.get("state", VIEWING)
    if state == "left":
        presence_leave(ticket_id=pk, user=request.user)
        return HttpResponse(status=204)
    others = presence_touch(
        ticket_id=pk, user=request.user, state=TYPING if state == TYPING else VIEWING
    )
    response = render(request, "desk/_presence.html#list", {"others": others})
    response["Cache-Control"] = "no-store"
    return response
