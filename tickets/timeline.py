"""Reading a ticket's journal for display: one query for the entries, one for their files."""

from typing import Any

from django.db.models import Prefetch, QuerySet

from .models import Attachment, Ticket, TicketEvent


def timeline_for(*, ticket: Ticket, viewer: Any) -> QuerySet[TicketEvent]:
    """The entries `viewer` may read, oldest first, with actors and attachments prefetched.
    Requesters get public entries and public files only."""
    files = Attachment.objects.order_by("pk")
    if not getattr(viewer, "is_agent", False):
        files = files.filter(public=True)
    return (
        TicketEvent.objects.filter(ticket=ticket)
        .for_viewer(viewer)
        .select_related("actor")
        .prefetch_related(Prefetch("attachments", queryset=files))
        .order_by("created_at", "pk")
    )
