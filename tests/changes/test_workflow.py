"""The change lifecycle tables, without a database."""

import itertools

import pytest

from changes.choices import ChangeStatus as S
from changes.choices import ChangeType
from changes.workflow import EMERGENCY, NORMAL, STANDARD, TICKET_STATE, WORKFLOWS
from core.exceptions import InvalidTransition
from tickets.choices import TicketState

TABLES = {"normal": NORMAL, "standard": STANDARD, "emergency": EMERGENCY}


@pytest.mark.parametrize("table", TABLES.values(), ids=TABLES.keys())
def test_every_status_has_a_row_and_a_state(table):
    assert set(table) == set(S)
    assert set(TICKET_STATE) == set(S)


@pytest.mark.parametrize("table", TABLES.values(), ids=TABLES.keys())
def test_final_statuses_have_no_exits(table):
    for final in (S.CLOSED, S.REJECTED, S.CANCELLED):
        assert table[final] == frozenset()


def test_the_normal_path_goes_through_every_step():
    path = [S.DRAFT, S.ASSESS, S.AUTHORIZE, S.SCHEDULED, S.IMPLEMENT, S.REVIEW, S.CLOSED]
    for current, target in itertools.pairwise(path):
        WORKFLOWS[ChangeType.NORMAL].check_transition(current, target)


def test_a_standard_change_skips_assessment_and_authorisation():
    flow = WORKFLOWS[ChangeType.STANDARD]
    flow.check_transition(S.DRAFT, S.SCHEDULED)
    assert not flow.can(S.DRAFT, S.AUTHORIZE)
    assert not flow.can(S.ASSESS, S.AUTHORIZE)


def test_a_normal_change_cannot_skip_the_cab():
    flow = WORKFLOWS[ChangeType.NORMAL]
    for current in (S.DRAFT, S.ASSESS):
        with pytest.raises(InvalidTransition, match="cannot move from"):
            flow.check_transition(current, S.SCHEDULED)
    assert not flow.can(S.AUTHORIZE, S.IMPLEMENT)


def test_only_an_emergency_may_start_implementing_from_authorize():
    assert WORKFLOWS[ChangeType.EMERGENCY].can(S.AUTHORIZE, S.IMPLEMENT)
    assert WORKFLOWS[ChangeType.EMERGENCY].can(S.DRAFT, S.AUTHORIZE)
    assert not WORKFLOWS[ChangeType.NORMAL].can(S.DRAFT, S.AUTHORIZE)


@pytest.mark.parametrize("table", TABLES.values(), ids=TABLES.keys())
def test_rejected_only_from_assess_or_authorize_and_cancel_never_after_implement(table):
    rejecting = {s for s, targets in table.items() if S.REJECTED in targets}
    assert rejecting <= {S.ASSESS, S.AUTHORIZE}
    for started in (S.IMPLEMENT, S.REVIEW):
        assert S.CANCELLED not in table[started]


def test_review_is_resolved_and_the_ends_are_closed():
    assert TICKET_STATE[S.REVIEW] == TicketState.RESOLVED
    assert {TICKET_STATE[s] for s in (S.CLOSED, S.REJECTED, S.CANCELLED)} == {TicketState.CLOSED}
