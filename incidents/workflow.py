"""Incident lifecycle: the only place that says which status may follow which.

new → in_progress ⇄ on_hold → resolved → closed; resolved → in_progress (reopen);
any open status → cancelled. New may also go straight to resolved or on hold: first-contact
resolution and "waiting for the caller" are everyday cases on a service desk."""

from typing import Final

from core.workflow import Workflow
from tickets.choices import TicketState

from .choices import IncidentStatus as S

TRANSITIONS: Final = {
    S.NEW: frozenset({S.IN_PROGRESS, S.ON_HOLD, S.RESOLVED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.ON_HOLD, S.RESOLVED, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CANCELLED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}
TICKET_STATE: Final = {
    S.NEW: TicketState.OPEN,
    S.IN_PROGRESS: TicketState.OPEN,
    S.ON_HOLD: TicketState.ON_HOLD,
    S.RESOLVED: TicketState.RESOLVED,
    S.CLOSED: TicketState.CLOSED,
    S.CANCELLED: TicketState.CLOSED,
}

INCIDENT_WORKFLOW: Final = Workflow(name="Incident", transitions=TRANSITIONS, states=TICKET_STATE)
OPEN_STATUSES: Final = frozenset({S.NEW, S.IN_PROGRESS, S.ON_HOLD})
