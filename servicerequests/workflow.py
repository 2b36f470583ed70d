"""Service request and fulfilment task lifecycles: the only place that says which status may
follow which, and which coarse ticket state each status maps to.

Request: submitted → awaiting_approval → approved | rejected; approved → in_fulfilment →
fulfilled → closed. Submitted goes straight to approved when the item needs no approval.
Cancelled from any status before fulfilled (the requester only before fulfilment starts,
which permissions.py decides).

Task: waiting (for earlier tasks) → open → in_progress → done; any unfinished → cancelled."""

from typing import Final

from core.workflow import Workflow
from tickets.choices import TicketState

from .choices import RequestStatus as R
from .choices import TaskStatus as K

REQUEST_TRANSITIONS: Final = {
    R.SUBMITTED: frozenset({R.AWAITING_APPROVAL, R.APPROVED, R.CANCELLED}),
    R.AWAITING_APPROVAL: frozenset({R.APPROVED, R.REJECTED, R.CANCELLED}),
    R.APPROVED: frozenset({R.IN_FULFILMENT, R.CANCELLED}),
    R.IN_FULFILMENT: frozenset({R.FULFILLED, R.CANCELLED}),
    R.FULFILLED: frozenset({R.CLOSED}),
    R.REJECTED: frozenset(),
    R.CLOSED: frozenset(),
    R.CANCELLED: frozenset(),
}
REQUEST_STATE: Final = {
    R.SUBMITTED: TicketState.OPEN,
    # Waiting on an approver, not on the desk: queues show it as on hold.
    R.AWAITING_APPROVAL: TicketState.ON_HOLD,
    R.APPROVED: TicketState.OPEN,
    R.IN_FULFILMENT: TicketState.OPEN,
    R.FULFILLED: TicketState.RESOLVED,
    R.CLOSED: TicketState.CLOSED,
    R.REJECTED: TicketState.CLOSED,
    R.CANCELLED: TicketState.CLOSED,
}
REQUEST_WORKFLOW: Final = Workflow(
    name="Service request", transitions=REQUEST_TRANSITIONS, states=REQUEST_STATE
)
OPEN_REQUEST_STATUSES: Final = frozenset(
    {R.SUBMITTED, R.AWAITING_APPROVAL, R.APPROVED, R.IN_FULFILMENT}
)
#: The requester may withdraw until fulfilment starts.
REQUESTER_CANCELLABLE: Final = frozenset({R.SUBMITTED, R.AWAITING_APPROVAL, R.APPROVED})

TASK_TRANSITIONS: Final = {
    K.WAITING: frozenset({K.OPEN, K.CANCELLED}),
    K.OPEN: frozenset({K.IN_PROGRESS, K.DONE, K.CANCELLED}),
    K.IN_PROGRESS: frozenset({K.OPEN, K.DONE, K.CANCELLED}),
    K.DONE: frozenset(),
    K.CANCELLED: frozenset(),
}
TASK_STATE: Final = {
    K.WAITING: TicketState.ON_HOLD,
    K.OPEN: TicketState.OPEN,
    K.IN_PROGRESS: TicketState.OPEN,
    K.DONE: TicketState.CLOSED,
    K.CANCELLED: TicketState.CLOSED,
}
TASK_WORKFLOW: Final = Workflow(name="Task", transitions=TASK_TRANSITIONS, states=TASK_STATE)
OPEN_TASK_STATUSES: Final = frozenset({K.WAITING, K.OPEN, K.IN_PROGRESS})
FINISHED_TASK_STATUSES: Final = frozenset({K.DONE, K.CANCELLED})
