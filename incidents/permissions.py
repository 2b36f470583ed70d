"""Object-level predicates for incidents. Row visibility is Incident.objects.visible_to(user);
these say what a user who can see the incident may do with it. Desk, portal and API call them."""

from typing import Any

from django.utils import timezone

from .choices import IncidentStatus
from .models import Incident


def is_requester(user: Any, incident: Incident) -> bool:
    return incident.ticket.requester_id == user.pk


def can_work(user: Any, incident: Incident) -> bool:
    """Change fields, assign, transition, write work notes: agents only."""
    return bool(getattr(user, "is_agent", False))


def can_comment(user: Any, incident: Incident) -> bool:
    """Public replies: agents, and the requester while the incident is not closed."""
    if can_work(user, incident):
        return True
    return is_requester(user, incident) and incident.status not in (
        IncidentStatus.CLOSED,
        IncidentStatus.CANCELLED,
    )


def can_reopen(user: Any, incident: Incident) -> bool:
    """Agents reopen resolved incidents; the requester within the reopen window."""
    if incident.status != IncidentStatus.RESOLVED:
        return False
    if can_work(user, incident):
        return True
    from .services import reopen_deadline

    deadline = reopen_deadline(incident)
    return is_requester(user, incident) and deadline is not None and timezone.now() <= deadline


def can_confirm(user: Any, incident: Incident) -> bool:
    """The requester confirms a resolution, which closes the incident."""
    return incident.status == IncidentStatus.RESOLVED and is_requester(user, incident)


def can_cancel(user: Any, incident: Incident) -> bool:
    """Agents cancel open incidents; a requester may withdraw their own while nobody works on it."""
    if not incident.is_open:
        return False
    if can_work(user, incident):
        return True
    return is_requester(user, incident) and incident.status == IncidentStatus.NEW
