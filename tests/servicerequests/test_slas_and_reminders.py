"""Request SLAs (response and delivery clocks through the SLA engine), the expected delivery
date from the working calendar, and approval reminders after N working hours."""

from datetime import UTC, datetime, timedelta

import pytest

from servicerequests.choices import TaskStatus
from servicerequests.models import FulfilmentTask
from servicerequests.services import (
    approval_decide,
    approval_reminders_send,
    service_request_submit,
    task_transition,
)
from servicerequests.tasks import send_approval_reminders_task
from slas.choices import ClockState
from slas.models import BusinessCalendar, SlaClock, SlaPolicy
from tests.servicerequests.builders import make_item
from tickets.choices import ApprovalDecision
from tickets.models import Approval, Notification

pytestmark = pytest.mark.django_db
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def now(time_machine):
    time_machine.move_to(MONDAY_10, tick=False)

    def move(**delta):
        time_machine.move_to(MONDAY_10 + timedelta(**delta), tick=False)
        return MONDAY_10 + timedelta(**delta)

    return move


@pytest.fixture
def office():
    return BusinessCalendar.objects.create(
        name="Office", timezone="UTC", hours={str(d): [["09:00", "17:00"]] for d in range(5)}
    )


@pytest.fixture
def request_policies(office):
    common = {"kind": "request", "calendar": office, "pause_statuses": ["awaiting_approval"]}
    return (
        SlaPolicy.objects.create(
            name="Request response", metric="response", target=timedelta(hours=4), **common
        ),
        SlaPolicy.objects.create(
            name="Request delivery", metric="resolution", target=timedelta(hours=16), **common
        ),
    )


def clock(request, metric):
    return SlaClock.objects.get(ticket_id=request.pk, metric=metric)


def test_clocks_pause_while_awaiting_approval_and_run_in_fulfilment(
    now, requester, boss, laptop, request_policies, agent
):
    # given a request waiting for its approver: both clocks start paused
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    assert clock(request, "resolution").state == ClockState.PAUSED
    assert clock(request, "response").state == ClockState.PAUSED

    # when the manager approves two working hours later
    now(hours=2)
    approval = Approval.objects.get(ticket_id=request.pk)
    approval_decide(approval=approval, by=boss, approve=True)

    # then the clocks run, with the approval wait not counted
    delivery = clock(request, "resolution")
    assert delivery.state == ClockState.RUNNING
    assert delivery.elapsed == timedelta(0)
    # 16 working hours from Monday 12:00: 5 h Monday, 8 h Tuesday, 3 h Wednesday.
    assert delivery.due_at == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    # and starting a task stops the response clock; the last task stops delivery
    now(hours=3)
    prepare, hand_over = FulfilmentTask.objects.filter(request=request)
    task_transition(task=prepare, by=agent, target=TaskStatus.DONE)
    assert clock(request, "response").state == ClockState.MET
    task_transition(task=FulfilmentTask.objects.get(pk=hand_over.pk), by=agent, target="done")
    assert clock(request, "resolution").state == ClockState.MET


def test_a_rejected_request_cancels_its_clocks(now, requester, boss, laptop, request_policies):
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})

    approval_decide(
        approval=Approval.objects.get(ticket_id=request.pk), by=boss, approve=False, comment="No"
    )

    assert {c.state for c in SlaClock.objects.filter(ticket_id=request.pk)} == {
        ClockState.CANCELLED
    }


def test_expected_delivery_uses_the_items_time_on_the_slas_calendar(
    now, requester, network_team, request_policies
):
    # Monday 10:00 + 2 working days of 8 h on a 09-17 calendar → Wednesday 10:00.
    item = make_item(
        name="Monitor", fulfilment_team=network_team, expected_delivery=timedelta(hours=16)
    )

    request = service_request_submit(item=item, by=requester, answers={})

    assert request.expected_delivery_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_expected_delivery_falls_back_to_the_office_calendar(now, requester, network_team):
    # No SLA policy: Monday 10:00 UTC + 8 working hours on 09-17 (settings time zone UTC).
    item = make_item(
        name="Monitor", fulfilment_team=network_team, expected_delivery=timedelta(hours=8)
    )

    request = service_request_submit(item=item, by=requester, answers={})

    assert request.expected_delivery_at == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_approvers_are_reminded_once_per_n_working_hours(
    now, requester, boss, network_team, office, request_policies
):
    # given an item reminding after 4 working hours
    item = make_item(
        name="Chair",
        fulfilment_team=network_team,
        approval_reminder_hours=4,
        stages=[{"approver": "manager"}],
    )
    service_request_submit(item=item, by=requester, answers={})

    def reminders():
        return Notification.objects.filter(recipient=boss, event="approval_reminder").count()

    # when 3 working hours pass: nothing yet
    now(hours=3)
    approval_reminders_send()
    assert reminders() == 0

    # at 17:00 (7 working hours): the first reminder, once however often the task runs
    now(hours=7)
    approval_reminders_send()
    send_approval_reminders_task()
    assert reminders() == 1

    # overnight is not working time; Tuesday 10:00 is 8 working hours: the second round
    now(days=1, hours=0, minutes=1)
    approval_reminders_send()
    assert reminders() == 2


def test_decided_approvals_get_no_reminders(now, requester, boss, laptop, request_policies):
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    approval_decide(approval=Approval.objects.get(ticket_id=request.pk), by=boss, approve=True)
    now(days=3)

    assert approval_reminders_send() == 0
    assert Approval.objects.get(ticket_id=request.pk).decision == ApprovalDecision.APPROVED
