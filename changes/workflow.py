"""Change lifecycles: one transition table per change type, the only place that says which
status may follow which.

normal:    draft → assess → authorize (CAB) → scheduled → implement → review → closed
standard:  draft → scheduled → implement → review → closed (pre-approved: no assessment, no CAB)
emergency: draft → [assess →] authorize (emergency CAB) → [scheduled →] implement → review →
           closed; an emergency may start implementing while its approval is still pending
           (the service requires a recorded reason).
Rejected comes from assess or authorize; cancelled from every status before implement. The
guards that need data (plans, times, approvals, conflicts) live in changes.services."""

from typing import Final

from core.workflow import Workflow
from tickets.choices import TicketState

from .choices import ChangeStatus as S
from .choices import ChangeType

_TAIL: Final = {
    S.SCHEDULED: frozenset({S.IMPLEMENT, S.CANCELLED}),
    S.IMPLEMENT: frozenset({S.REVIEW}),
    S.REVIEW: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}

NORMAL: Final = {
    S.DRAFT: frozenset({S.ASSESS, S.CANCELLED}),
    S.ASSESS: frozenset({S.AUTHORIZE, S.DRAFT, S.REJECTED, S.CANCELLED}),
    S.AUTHORIZE: frozenset({S.SCHEDULED, S.REJECTED, S.CANCELLED}),
    **_TAIL,
}
STANDARD: Final = {
    S.DRAFT: frozenset({S.SCHEDULED, S.CANCELLED}),
    S.ASSESS: frozenset({S.SCHEDULED, S.DRAFT, S.CANCELLED}),
    S.AUTHORIZE: frozenset({S.CANCELLED}),
    **_TAIL,
}
EMERGENCY: Final = {
    S.DRAFT: frozenset({S.ASSESS, S.AUTHORIZE, S.CANCELLED}),
    S.ASSESS: frozenset({S.AUTHORIZE, S.DRAFT, S.REJECTED, S.CANCELLED}),
    S.AUTHORIZE: frozenset({S.SCHEDULED, S.IMPLEMENT, S.REJECTED, S.CANCELLED}),
    **_TAIL,
}

TICKET_STATE: Final = {
    S.DRAFT: TicketState.OPEN,
    S.ASSESS: TicketState.OPEN,
    S.AUTHORIZE: TicketState.OPEN,
    S.SCHEDULED: TicketState.OPEN,
    S.IMPLEMENT: TicketState.OPEN,
    S.REVIEW: TicketState.RESOLVED,
    S.CLOSED: TicketState.CLOSED,
    S.REJECTED: TicketState.CLOSED,
    S.CANCELLED: TicketState.CLOSED,
}

WORKFLOWS: Final = {
    ChangeType.NORMAL: Workflow(name="Normal change", transitions=NORMAL, states=TICKET_STATE),
    ChangeType.STANDARD: Workflow(
        name="Standard change", transitions=STANDARD, states=TICKET_STATE
    ),
    ChangeType.EMERGENCY: Workflow(
        name="Emergency change", transitions=EMERGENCY, states=TICKET_STATE
    ),
}

OPEN_STATUSES: Final = frozenset({S.DRAFT, S.ASSESS, S.AUTHORIZE, S.SCHEDULED, S.IMPLEMENT})
#: Statuses in which a change holds its window: other changes conflict with it.
BOOKED_STATUSES: Final = frozenset({S.SCHEDULED, S.IMPLEMENT})
#: Statuses shown on the change calendar and in the iCalendar feed.
CALENDAR_STATUSES: Final = frozenset({S.SCHEDULED, S.IMPLEMENT, S.REVIEW, S.CLOSED})
#: Statuses in which the plan, window and services may still be edited.
EDITABLE_STATUSES: Final = frozenset({S.DRAFT, S.ASSESS, S.AUTHORIZE, S.SCHEDULED})
#: Statuses in which the risk questionnaire may be answered.
ASSESSABLE_STATUSES: Final = frozenset({S.DRAFT, S.ASSESS})


def workflow_for(change_type: str) -> Workflow:
    """The lifecycle table of a change type."""
    return WORKFLOWS[ChangeType(change_type)]
