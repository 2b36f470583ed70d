"""Template helpers for the ticket tools every kind's desk page includes: the side panel
(`{% ticket_tools ticket as tools %}`) and the canned replies of the reply editor."""

from typing import Any

from django import template

from ..canned import canned_replies_for
from ..models import CannedReply
from ..views.ticket_tools import TicketTools, tools_for

register = template.Library()


@register.simple_tag(takes_context=True)
def ticket_tools(context: template.Context, ticket: Any) -> TicketTools:
    """The side panel's data for `ticket` as seen by the request's user (four queries)."""
    return tools_for(ticket=ticket, user=context["request"].user)


@register.simple_tag(takes_context=True)
def canned_replies(context: template.Context) -> list[CannedReply]:
    """Canned replies the request's user may insert (one query)."""
    return list(canned_replies_for(context["request"].user))
