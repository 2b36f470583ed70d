"""The lifecycle table, without a database."""

import pytest

from core.exceptions import InvalidTransition
from incidents.choices import IncidentStatus as S
from incidents.workflow import INCIDENT_WORKFLOW, TICKET_STATE, TRANSITIONS

ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in targets]
FORBIDDEN = [
    (S.NEW, S.CLOSED),
    (S.IN_PROGRESS, S.NEW),
    (S.RESOLVED, S.ON_HOLD),
    (S.CLOSED, S.IN_PROGRESS),
    (S.CANCELLED, S.NEW),
    (S.RESOLVED, S.CANCELLED),
]


def test_every_status_has_a_row_and_a_state():
    assert set(TRANSITIONS) == set(S)
    assert set(TICKET_STATE) == set(S)


def test_final_statuses_have_no_exits():
    assert TRANSITIONS[S.CLOSED] == frozenset()
    assert TRANSITIONS[S.CANCELLED] == frozenset()


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_transitions_pass(current, target):
    INCIDENT_WORKFLOW.check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_forbidden_transitions_raise_a_clear_message(current, target):
    with pytest.raises(
        InvalidTransition, match=f"cannot move from {current.label} to {target.label}"
    ):
        INCIDENT_WORKFLOW.check_transition(current, target)
