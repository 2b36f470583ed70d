"""A ticket's related tickets as the desk shows them (the side panel and the desk API): the
links both ways, each read from this ticket's side, leaving out tickets the viewer may not
see (their number and title would leak). Two queries whatever the number of links."""

from dataclasses import dataclass
from typing import Any

from tickets.models import Ticket, TicketLink
from tickets.services import LINK_INVERSE_LABEL


@dataclass(frozen=True)
class RelatedRow:
    """One line of the related-tickets list: "this ticket <label> <other>"."""

    label: str
    other: Ticket
    link_id: int
    kind: str


def related_for(*, ticket: Ticket, user: Any) -> list[RelatedRow]:
    visible = Ticket.objects.visible_to(user)
    links_out = (
        TicketLink.objects.filter(source=ticket, target__in=visible)
        .select_related("target")
        .order_by("created_at", "pk")
    )
    links_in = (
        TicketLink.objects.filter(target=ticket, source__in=visible)
        .select_related("source")
        .order_by("created_at", "pk")
    )
    rows = [
        RelatedRow(link.get_kind_display(), link.target, link.pk, link.kind) for link in links_out
    ]
    rows += [
        RelatedRow(LINK_INVERSE_LABEL[link.kind], link.source, link.pk, link.kind)
        for link in links_in
    ]
    return rows
