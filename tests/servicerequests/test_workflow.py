"""The request and task lifecycle tables (no database)."""

from itertools import pairwise

import pytest

from core.exceptions import InvalidTransition
from servicerequests.choices import RequestStatus as R
from servicerequests.choices import TaskStatus as K
from servicerequests.workflow import (
    REQUEST_STATE,
    REQUEST_TRANSITIONS,
    REQUEST_WORKFLOW,
    TASK_STATE,
    TASK_TRANSITIONS,
)
from tickets.choices import TicketState


def test_every_status_has_a_row_and_a_ticket_state():
    assert set(REQUEST_TRANSITIONS) == set(R) == set(REQUEST_STATE)
    assert set(TASK_TRANSITIONS) == set(K) == set(TASK_STATE)


@pytest.mark.parametrize("final", [R.REJECTED, R.CLOSED, R.CANCELLED])
def test_final_request_statuses_have_no_exit(final):
    assert REQUEST_TRANSITIONS[final] == frozenset()
    assert REQUEST_STATE[final] == TicketState.CLOSED


def test_the_issue_lifecycle_is_allowed():
    path = [R.SUBMITTED, R.AWAITING_APPROVAL, R.APPROVED, R.IN_FULFILMENT, R.FULFILLED, R.CLOSED]
    for current, target in pairwise(path):
        REQUEST_WORKFLOW.check_transition(current, target)
    REQUEST_WORKFLOW.check_transition(R.AWAITING_APPROVAL, R.REJECTED)


def test_fulfilled_requests_cannot_be_cancelled_or_skip_back():
    with pytest.raises(InvalidTransition):
        REQUEST_WORKFLOW.check_transition(R.FULFILLED, R.CANCELLED)
    with pytest.raises(InvalidTransition):
        REQUEST_WORKFLOW.check_transition(R.AWAITING_APPROVAL, R.IN_FULFILMENT)


def test_waiting_requests_and_tasks_are_on_hold_for_queues():
    assert REQUEST_STATE[R.AWAITING_APPROVAL] == TicketState.ON_HOLD
    assert TASK_STATE[K.WAITING] == TicketState.ON_HOLD
    assert REQUEST_STATE[R.FULFILLED] == TicketState.RESOLVED
