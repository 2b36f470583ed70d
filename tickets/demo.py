"""Demo data for notifications: satisfaction answers on the resolved demo tickets, so the
dashboards have CSAT to show. Idempotent: tickets already rated are left alone."""

from typing import Any

from .choices import CsatRating, EventType, TicketKind, TicketState
from .csat import csat_record, csat_token
from .models import SatisfactionResponse, Ticket, TicketEvent

COMMENTS = ["Quick and friendly, thanks!", "", "Fixed first time.", ""]


def seed(*, people: dict[str, Any], services: dict[str, Any], teams: dict[str, Any]) -> None:
    """Rate the resolved and closed incidents and requests: mostly good, every fifth bad."""
    rated = SatisfactionResponse.objects.values("ticket_id")
    tickets = (
        Ticket.objects.filter(
            kind__in=[TicketKind.INCIDENT, TicketKind.REQUEST],
            state__in=[TicketState.RESOLVED, TicketState.CLOSED],
        )
        .exclude(pk__in=rated)
        .order_by("pk")
    )
    for n, ticket in enumerate(tickets):
        resolution = (
            TicketEvent.objects.filter(
                ticket=ticket, type=EventType.STATUS_CHANGED, data__state=TicketState.RESOLVED
            )
            .order_by("-pk")
            .first()
        )
        key = str(resolution.pk) if resolution else "demo"
        token = csat_token(ticket_id=ticket.pk, survey_key=key, user_id=ticket.requester_id)
        bad = n % 5 == 4
        csat_record(
            token=token,
            rating=CsatRating.BAD if bad else CsatRating.GOOD,
            comment="Took too long." if bad else COMMENTS[n % len(COMMENTS)],
        )
