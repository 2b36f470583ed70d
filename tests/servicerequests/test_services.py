"""Ordering, approval policies, delegation, fulfilment tasks and the request lifecycle,
through the services on PostgreSQL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalogue.choices import Approver, TeamRule
from catalogue.models import FormVariable, TaskTemplate
from core.exceptions import DomainError, InvalidTransition, StaleWrite
from servicerequests.answers import AnswersInvalid
from servicerequests.choices import RequestStatus, TaskStatus
from servicerequests.models import FulfilmentTask, ServiceRequest
from servicerequests.services import (
    ApprovalClosed,
    NotAllowed,
    approval_decide,
    delegation_set,
    service_request_cancel,
    service_request_close,
    service_request_submit,
    service_requests_auto_close,
    task_transition,
)
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)
from tests.servicerequests.builders import make_item, manager_stage, team_stage
from tickets.choices import ApprovalDecision, TicketKind, TicketState
from tickets.models import Approval, Notification, Ticket

pytestmark = pytest.mark.django_db
STANDARD = {"model": "standard"}


def order(item, by, answers=None, **kwargs):
    answers = STANDARD if answers is None else answers
    return service_request_submit(item=item, by=by, answers=answers, **kwargs)


def pending(request):
    return list(
        Approval.objects.filter(ticket_id=request.pk, decision=ApprovalDecision.PENDING).order_by(
            "pk"
        )
    )


def tasks_of(request):
    return list(FulfilmentTask.objects.filter(request=request).select_related("ticket"))


def finish(task, by):
    task_transition(task=task, by=by, target=TaskStatus.IN_PROGRESS)
    task = FulfilmentTask.objects.get(pk=task.pk)
    return task_transition(task=task, by=by, target=TaskStatus.DONE, note="Done")


# ------------------------------------------------------------------ ordering
def test_order_without_approval_goes_straight_to_fulfilment(requester, network_team):
    item = make_item(name="Mouse", fulfilment_team=network_team)

    request = order(item, requester, answers={})

    assert request.status == RequestStatus.IN_FULFILMENT
    assert request.ticket.kind == TicketKind.REQUEST
    assert request.ticket.number.startswith("REQ")
    [task] = tasks_of(request)  # no templates: one generic task for the item's team
    assert task.status == TaskStatus.OPEN
    assert task.ticket.team == network_team
    assert task.ticket.kind == TicketKind.TASK
    assert task.ticket.number.startswith("TASK")


def test_order_stores_clean_answers_and_a_snapshot_of_the_item(requester, boss, laptop):
    request = order(
        laptop,
        requester,
        {"model": "developer", "ram": "32", "docking": "yes", "monitors": "2", "notes": " hi "},
    )

    assert request.answers == {
        "model": "developer",
        "ram": "32",
        "docking": True,
        "monitors": 2,
        "notes": "hi",
    }
    assert request.item_snapshot["name"] == "Laptop"
    assert request.form_version == laptop.form_version == 1
    assert [v["name"] for v in request.item_snapshot["variables"]][:2] == ["model", "ram"]
    assert request.requested_for == requester
    assert "Memory: 32 GB" in request.ticket.description


def test_bad_answers_are_refused_with_field_messages_and_nothing_is_stored(requester, laptop):
    tickets_before = Ticket.objects.count()

    with pytest.raises(AnswersInvalid) as caught:
        order(laptop, requester, {"model": "developer", "docking": "maybe", "bogus": 1})

    assert set(caught.value.errors) == {"ram", "docking", "bogus"}
    assert Ticket.objects.count() == tickets_before
    assert not ServiceRequest.objects.exists()


def test_answers_to_hidden_questions_are_dropped(requester, boss, laptop):
    request = order(laptop, requester, {"model": "standard", "ram": "64", "monitors": 3})

    assert "ram" not in request.answers
    assert "monitors" not in request.answers
    assert request.answers["docking"] is False  # the default


def test_someone_may_order_for_a_colleague(requester, other_requester, boss, laptop):
    request = order(laptop, requester, requested_for=other_requester)

    assert request.requested_for == other_requester
    assert request.ticket.requester == requester
    assert request.ticket.title == f"Laptop for {other_requester}"


def test_quantity_must_stay_within_the_item_limit(requester, network_team):
    item = make_item(name="Toner", fulfilment_team=network_team, max_quantity=3)

    assert order(item, requester, answers={}, quantity=3).quantity == 3
    with pytest.raises(DomainError):
        order(item, requester, answers={}, quantity=4)


def test_inactive_item_cannot_be_ordered(requester, network_team):
    item = make_item(name="Fax", fulfilment_team=network_team, active=False)

    with pytest.raises(DomainError):
        order(item, requester, answers={})


# ------------------------------------------------------------------ approval policies
def test_manager_approval_waits_for_the_manager_and_then_creates_tasks(requester, boss, laptop):
    request = order(laptop, requester)
    assert request.status == RequestStatus.AWAITING_APPROVAL
    assert request.ticket.state == TicketState.ON_HOLD
    [approval] = pending(request)
    assert approval.approver == boss
    assert Notification.objects.filter(recipient=boss, event="approval_requested").exists()
    assert not tasks_of(request)

    request = approval_decide(approval=approval, by=boss, approve=True, comment="Fine")

    assert request.status == RequestStatus.IN_FULFILMENT
    assert request.approved_at is not None
    assert [t.status for t in tasks_of(request)] == [TaskStatus.OPEN, TaskStatus.WAITING]


def test_service_owner_approves_when_the_policy_says_so(requester, other_requester, network_team):
    owner = UserFactory(username="olga")
    service = ServiceFactory(name="ERP", owner=owner)
    item = make_item(
        name="ERP access",
        service=service,
        fulfilment_team=network_team,
        stages=[{"approver": Approver.SERVICE_OWNER}],
    )

    request = order(item, requester, answers={})

    [approval] = pending(request)
    assert approval.approver == owner
    with pytest.raises(NotAllowed):
        approval_decide(approval=approval, by=other_requester, approve=True)
    assert approval_decide(approval=approval, by=owner, approve=True).status == (
        RequestStatus.IN_FULFILMENT
    )


def test_any_member_of_a_named_team_decides_for_the_team(
    requester, agent, second_agent, network_team
):
    item = make_item(
        name="Firewall rule", fulfilment_team=network_team, stages=[team_stage(network_team)]
    )
    request = order(item, requester, answers={})
    [approval] = pending(request)
    assert approval.approver is None
    assert approval.approver_team == network_team

    request = approval_decide(approval=approval, by=second_agent, approve=True)

    assert request.status == RequestStatus.IN_FULFILMENT
    approval.refresh_from_db()
    assert approval.decided_by == second_agent


def test_every_member_of_a_team_must_approve_when_the_rule_is_all(
    requester, agent, second_agent, network_team
):
    item = make_item(
        name="Prod access",
        fulfilment_team=network_team,
        stages=[team_stage(network_team, TeamRule.ALL)],
    )
    request = order(item, requester, answers={})
    first, second = pending(request)
    assert {first.approver, second.approver} == {agent, second_agent}

    request = approval_decide(approval=first, by=first.approver, approve=True)
    assert request.status == RequestStatus.AWAITING_APPROVAL

    request = approval_decide(approval=second, by=second.approver, approve=True)
    assert request.status == RequestStatus.IN_FULFILMENT


def test_stages_run_in_order(requester, boss, agent, network_team):
    item = make_item(
        name="Server",
        fulfilment_team=network_team,
        stages=[manager_stage(), team_stage(network_team)],
    )
    request = order(item, requester, answers={})
    [stage_one] = pending(request)
    assert (stage_one.stage, stage_one.approver) == (1, boss)

    request = approval_decide(approval=stage_one, by=boss, approve=True)

    assert request.status == RequestStatus.AWAITING_APPROVAL
    assert request.approval_stage == 2
    [stage_two] = pending(request)
    assert (stage_two.stage, stage_two.approver_team) == (2, network_team)
    assert approval_decide(approval=stage_two, by=agent, approve=True).status == (
        RequestStatus.IN_FULFILMENT
    )


def test_rejection_ends_the_request_with_the_reason_for_the_requester(requester, boss, laptop):
    request = order(laptop, requester)
    [approval] = pending(request)

    with pytest.raises(DomainError):  # a rejection needs a reason
        approval_decide(approval=approval, by=boss, approve=False, comment=" ")
    request = approval_decide(approval=approval, by=boss, approve=False, comment="Over budget")

    assert request.status == RequestStatus.REJECTED
    assert request.ticket.state == TicketState.CLOSED
    assert request.outcome_reason == "Over budget"
    assert not tasks_of(request)
    note = Notification.objects.get(recipient=requester, event="rejected")
    assert "Over budget" in note.body
    public = request.ticket.events.filter(public=True).values_list("body", flat=True)
    assert any("Over budget" in body for body in public)


def test_rejection_at_a_later_stage_cancels_the_other_pending_approvals(
    requester, agent, second_agent, network_team
):
    item = make_item(
        name="Prod access",
        fulfilment_team=network_team,
        stages=[team_stage(network_team, TeamRule.ALL)],
    )
    request = order(item, requester, answers={})
    first, second = pending(request)

    approval_decide(approval=first, by=first.approver, approve=False, comment="No")

    second.refresh_from_db()
    assert second.decision == ApprovalDecision.CANCELLED
    with pytest.raises(ApprovalClosed):
        approval_decide(approval=second, by=second.approver, approve=True)


def test_an_approval_is_decided_once(requester, boss, laptop):
    request = order(laptop, requester)
    [approval] = pending(request)
    approval_decide(approval=approval, by=boss, approve=True)

    with pytest.raises(ApprovalClosed):
        approval_decide(approval=approval, by=boss, approve=False, comment="changed my mind")


def test_the_requester_never_approves_their_own_request(requester, network_team, agent):
    item = make_item(
        name="Own",
        fulfilment_team=network_team,
        stages=[{"approver": Approver.USER, "user": requester}],
    )

    request = order(item, requester, answers={})

    [approval] = pending(request)  # falls back to the fulfilment team
    assert approval.approver is None
    assert approval.approver_team == network_team
    with pytest.raises(NotAllowed):
        approval_decide(approval=approval, by=requester, approve=True)


def test_a_missing_manager_falls_back_to_the_fulfilment_team(requester, laptop, agent):
    request = order(laptop, requester)  # requester has no manager

    [approval] = pending(request)
    assert approval.approver_team == laptop.fulfilment_team
    assert "no manager" in request.ticket.events.filter(data__code="approval_requested").get().body


def test_an_item_nobody_can_approve_is_refused_before_anything_is_stored(requester):
    item = make_item(name="Orphan", stages=[manager_stage()])  # no manager, no team

    with pytest.raises(DomainError):
        order(item, requester, answers={})
    assert not ServiceRequest.objects.exists()


# ------------------------------------------------------------------ delegation
def test_a_delegate_decides_while_the_delegation_runs(requester, boss, other_requester, laptop):
    today = timezone.localdate()
    delegation_set(user=boss, delegate=other_requester, start=today, end=today + timedelta(days=3))
    request = order(laptop, requester)
    [approval] = pending(request)
    assert Notification.objects.filter(recipient=other_requester).exists()

    request = approval_decide(approval=approval, by=other_requester, approve=True)

    approval.refresh_from_db()
    assert approval.decided_by == other_requester
    assert approval.approver == boss
    assert (
        "on behalf of Bea Boss"
        in request.ticket.events.filter(data__code="approval_approved").get().body
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [(1, 5), (-5, -1)],
    ids=["not-yet-started", "already-ended"],
)
def test_a_delegate_cannot_decide_outside_the_delegation_dates(
    requester, boss, other_requester, laptop, start, end
):
    today = timezone.localdate()
    delegation_set(
        user=boss,
        delegate=other_requester,
        start=today + timedelta(days=start),
        end=today + timedelta(days=end),
    )
    request = order(laptop, requester)
    [approval] = pending(request)

    with pytest.raises(NotAllowed):
        approval_decide(approval=approval, by=other_requester, approve=True)


def test_delegation_refuses_oneself_and_reversed_dates(boss, other_requester):
    today = timezone.localdate()
    with pytest.raises(DomainError):
        delegation_set(user=boss, delegate=boss)
    with pytest.raises(DomainError):
        delegation_set(user=boss, delegate=other_requester, start=today, end=today - timedelta(1))


# ------------------------------------------------------------------ fulfilment
def test_tasks_run_in_sequence_and_the_last_one_fulfils_the_request(
    requester, boss, laptop, agent, other_agent
):
    # given an approved laptop request with two tasks, the second waiting for the first
    request = order(laptop, requester)
    approval_decide(approval=pending(request)[0], by=boss, approve=True)
    prepare, hand_over = tasks_of(request)
    assert hand_over.status == TaskStatus.WAITING
    assert hand_over.ticket.state == TicketState.ON_HOLD

    # when the first task is done
    finish(prepare, agent)

    # then the second opens, and the request waits for it
    hand_over.refresh_from_db()
    assert hand_over.status == TaskStatus.OPEN
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_FULFILMENT

    # when the last task is done, the request is fulfilled
    finish(hand_over, other_agent)
    request.refresh_from_db()
    assert request.status == RequestStatus.FULFILLED
    assert request.ticket.state == TicketState.RESOLVED
    assert request.ticket.resolved_at is not None
    assert Notification.objects.filter(recipient=requester, event="fulfilled").exists()


def test_tasks_with_the_same_order_run_in_parallel(requester, network_team, agent):
    item = make_item(
        name="New starter",
        fulfilment_team=network_team,
        tasks=[
            {"title": "Account", "order": 10, "waits_for_previous": False},
            {"title": "Badge", "order": 10, "waits_for_previous": True},
            {"title": "Welcome", "order": 20, "waits_for_previous": True},
        ],
    )
    request = order(item, requester, answers={})

    statuses = [t.status for t in tasks_of(request)]

    assert statuses == [TaskStatus.OPEN, TaskStatus.OPEN, TaskStatus.WAITING]


def test_a_task_that_does_not_wait_opens_at_once(requester, network_team):
    item = make_item(
        name="Parallel",
        fulfilment_team=network_team,
        tasks=[
            {"title": "A", "order": 10, "waits_for_previous": False},
            {"title": "B", "order": 20, "waits_for_previous": False},
        ],
    )

    request = order(item, requester, answers={})

    assert [t.status for t in tasks_of(request)] == [TaskStatus.OPEN, TaskStatus.OPEN]


def test_a_cancelled_task_lets_the_next_start_and_counts_as_finished(
    requester, network_team, agent
):
    item = make_item(
        name="Two steps",
        fulfilment_team=network_team,
        tasks=[{"title": "A", "waits_for_previous": False}, {"title": "B"}],
    )
    request = order(item, requester, answers={})
    first, second = tasks_of(request)

    with pytest.raises(DomainError):  # cancelling needs a reason
        task_transition(task=first, by=agent, target=TaskStatus.CANCELLED)
    task_transition(task=first, by=agent, target=TaskStatus.CANCELLED, note="Not needed")
    second.refresh_from_db()
    assert second.status == TaskStatus.OPEN

    finish(second, agent)
    request.refresh_from_db()
    assert request.status == RequestStatus.FULFILLED


def test_starting_a_task_is_the_requests_first_response(requester, network_team, agent):
    item = make_item(name="Mouse", fulfilment_team=network_team)
    request = order(item, requester, answers={})
    [task] = tasks_of(request)

    task = task_transition(task=task, by=agent, target=TaskStatus.IN_PROGRESS)

    request.ticket.refresh_from_db()
    assert request.ticket.first_responded_at is not None
    assert task.ticket.assignee == agent  # starting takes it


def test_task_transitions_follow_the_table_and_the_version(requester, network_team, agent):
    item = make_item(name="Mouse", fulfilment_team=network_team)
    request = order(item, requester, answers={})
    [task] = tasks_of(request)
    stale = task.ticket.version
    task_transition(task=task, by=agent, target=TaskStatus.IN_PROGRESS)

    with pytest.raises(StaleWrite):
        task_transition(task=task, by=agent, target=TaskStatus.DONE, expected_version=stale)
    finish_task = FulfilmentTask.objects.get(pk=task.pk)
    task_transition(task=finish_task, by=agent, target=TaskStatus.DONE)
    with pytest.raises(InvalidTransition):
        task_transition(task=finish_task, by=agent, target=TaskStatus.IN_PROGRESS)


# ------------------------------------------------------------------ history is kept
def test_item_edits_do_not_change_existing_requests(requester, boss, laptop, agent):
    # given a request ordered with form version 1
    request = order(laptop, requester, {"model": "developer", "ram": "64"})
    snapshot = dict(request.item_snapshot)

    # when an admin renames the item, drops a choice, deletes a question and the tasks
    laptop.name = "Notebook"
    laptop.save()
    ram = FormVariable.objects.get(item=laptop, name="ram")
    ram.choices = [{"value": "16", "label": "16 GB"}]
    ram.save()
    FormVariable.objects.filter(item=laptop, name="notes").delete()
    TaskTemplate.objects.filter(item=laptop).delete()
    laptop.approval_stages.all().delete()

    # then the request still reads as ordered, and approves into the tasks it was ordered with
    request = ServiceRequest.objects.get(pk=request.pk)
    assert request.item_snapshot == snapshot
    assert request.item_name == "Laptop"
    ram_variable = next(v for v in request.variables() if v.name == "ram")
    assert ram_variable.choice_label("64") == "64 GB"
    approval_decide(approval=pending(request)[0], by=boss, approve=True)
    assert [t.ticket.title.split(" · ")[0] for t in tasks_of(request)] == [
        "Prepare the laptop",
        "Hand it over",
    ]


# ------------------------------------------------------------------ cancel and close
def test_the_requester_cancels_before_fulfilment_without_a_reason(requester, boss, laptop):
    request = order(laptop, requester)

    request = service_request_cancel(request=request, by=requester)

    assert request.status == RequestStatus.CANCELLED
    assert not pending(request)


def test_the_requester_cannot_cancel_once_fulfilment_started(requester, network_team):
    item = make_item(name="Mouse", fulfilment_team=network_team)
    request = order(item, requester, answers={})

    with pytest.raises(NotAllowed):
        service_request_cancel(request=request, by=requester)


def test_an_agent_cancels_with_a_reason_and_open_tasks_are_cancelled(
    requester, network_team, agent
):
    item = make_item(name="Mouse", fulfilment_team=network_team)
    request = order(item, requester, answers={})

    with pytest.raises(DomainError):
        service_request_cancel(request=request, by=agent)
    request = service_request_cancel(request=request, by=agent, reason="Duplicate of REQ1")

    assert request.status == RequestStatus.CANCELLED
    assert request.outcome_reason == "Duplicate of REQ1"
    assert [t.status for t in tasks_of(request)] == [TaskStatus.CANCELLED]
    assert Notification.objects.filter(recipient=requester, event="cancelled").exists()


def test_someone_else_cannot_cancel(requester, other_requester, boss, laptop):
    request = order(laptop, requester)

    with pytest.raises(NotAllowed):
        service_request_cancel(request=request, by=other_requester)


def test_fulfilled_requests_close_on_confirmation_or_automatically(
    requester, network_team, agent, time_machine
):
    item = make_item(name="Mouse", fulfilment_team=network_team)
    first = order(item, requester, answers={})
    second = order(item, requester, answers={})
    for request in (first, second):
        finish(tasks_of(request)[0], agent)

    assert service_request_close(request=first, by=requester).status == RequestStatus.CLOSED
    time_machine.move_to(timezone.now() + timedelta(days=6))
    assert service_requests_auto_close() == 1
    second.refresh_from_db()
    assert second.status == RequestStatus.CLOSED
    assert service_requests_auto_close() == 0


def test_team_members_who_are_not_agents_do_not_matter_for_visibility(requester):
    # A team-approved request is visible to the approving team's members, even portal users.
    team = TeamFactory(name="Finance approvers")
    approver = UserFactory(username="fay")
    MembershipFactory(team=team, user=approver)
    item = make_item(name="Budget", fulfilment_team=team, stages=[team_stage(team)])
    request = order(item, requester, answers={})

    assert ServiceRequest.objects.visible_to(approver).filter(pk=request.pk).exists()


def test_people_in_a_form_stay_within_the_requesters_organisation(requester, network_team):
    from catalogue.choices import VariableType

    stranger = UserFactory(username="gus", organization=OrganizationFactory(name="Globex"))
    colleague = UserFactory(username="cole", organization=requester.organization)
    item = make_item(
        name="Badge",
        fulfilment_team=network_team,
        variables=[{"name": "host", "label": "Host", "type": VariableType.USER}],
    )

    with pytest.raises(DomainError):
        order(item, requester, answers={}, requested_for=stranger)
    with pytest.raises(AnswersInvalid):
        order(item, requester, answers={"host": stranger.pk})
    request = order(item, requester, answers={"host": colleague.pk}, requested_for=colleague)
    assert request.answers == {"host": {"id": colleague.pk, "label": str(colleague)}}


def test_an_agent_orders_for_a_caller_who_may_order(requester, agent, network_team):
    from catalogue.choices import Audience

    item = make_item(
        name="Acme only", audience=Audience.ORGANIZATIONS, fulfilment_team=network_team
    )
    item.organizations.add(requester.organization)

    request = order(item, agent, answers={}, requested_for=requester)

    assert request.requested_for == requester
    with pytest.raises(NotAllowed):
        order(item, agent, answers={})
