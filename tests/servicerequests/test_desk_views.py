"""Desk: request and task queues (constant queries), the request page (answers, approvals,
tasks), approving from the desk, and working tasks with HTMX actions."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.choices import TeamRule
from servicerequests.choices import RequestStatus, TaskStatus
from servicerequests.models import FulfilmentTask, ServiceRequest
from servicerequests.services import approval_decide, service_request_submit
from tests.servicerequests.builders import make_item, team_stage
from tickets.models import Approval, Ticket

pytestmark = pytest.mark.django_db


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


def order_many(n, item, by):
    return [service_request_submit(item=item, by=by, answers={}) for _ in range(n)]


@pytest.fixture
def two_step(network_team, database_team):
    return make_item(
        name="Desk move",
        fulfilment_team=network_team,
        tasks=[
            {"title": "Pack", "team": network_team, "waits_for_previous": False},
            {"title": "Unpack", "team": network_team},
        ],
    )


@pytest.mark.parametrize(
    "url", ["/desk/requests/", "/desk/tasks/", "/desk/requests/?status=in_fulfilment"]
)
def test_queues_run_the_same_queries_for_10_and_50_rows(client, agent, requester, two_step, url):
    client.force_login(agent)
    order_many(5, two_step, requester)  # 5 requests, 10 tasks
    ten = count_queries(client, url)
    order_many(20, two_step, requester)
    fifty = count_queries(client, url)
    assert fifty == ten
    assert ten <= 16


def test_request_page_queries_do_not_grow_with_tasks_approvals_and_journal(
    client, agent, second_agent, requester, network_team
):
    def item(tasks):
        return make_item(
            name="Many",
            fulfilment_team=network_team,
            stages=[team_stage(network_team, TeamRule.ALL)],
            tasks=[{"title": f"Step {i}", "waits_for_previous": False} for i in range(tasks)],
        )

    client.force_login(agent)
    small = service_request_submit(item=item(2), by=requester, answers={})
    big = service_request_submit(item=item(8), by=requester, answers={})
    for request in (small, big):
        for approval in Approval.objects.filter(ticket_id=request.pk):
            approval_decide(approval=approval, by=approval.approver, approve=True)

    assert count_queries(client, f"/desk/requests/{small.pk}/") == count_queries(
        client, f"/desk/requests/{big.pk}/"
    )


def test_request_page_shows_answers_approvals_and_tasks(client, agent, requester, boss, laptop):
    request = service_request_submit(
        item=laptop, by=requester, answers={"model": "developer", "ram": "64"}
    )
    approval_decide(approval=Approval.objects.get(ticket_id=request.pk), by=boss, approve=True)
    client.force_login(agent)

    page = client.get(f"/desk/requests/{request.pk}/").content.decode()

    for text in ("Developer laptop", "64 GB", 'id="approval-timeline"', "Bea Boss"):
        assert text in page
    for text in ("Prepare the laptop", "Hand it over"):
        assert text in page
    assert "Waiting for earlier tasks" in page


def test_an_agent_who_approves_decides_in_the_desk(
    client, agent, second_agent, requester, network_team
):
    item = make_item(
        name="Firewall", fulfilment_team=network_team, stages=[team_stage(network_team)]
    )
    request = service_request_submit(item=item, by=requester, answers={})
    approval = Approval.objects.get(ticket_id=request.pk)
    client.force_login(agent)

    listing = client.get("/desk/requests/approvals/").content.decode()
    assert request.ticket.number in listing
    response = client.post(
        f"/desk/requests/{request.pk}/approve/",
        {"approval": approval.pk, "comment": "ok"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert b'id="request-panel"' in response.content
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_FULFILMENT


def test_an_agent_who_is_not_the_approver_cannot_decide(
    client, other_agent, requester, boss, laptop
):
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    approval = Approval.objects.get(ticket_id=request.pk)
    client.force_login(other_agent)

    response = client.post(
        f"/desk/requests/{request.pk}/reject/", {"approval": approval.pk, "comment": "no"}
    )

    assert response.status_code == 404  # not their team's request, not their approval
    request.refresh_from_db()
    assert request.status == RequestStatus.AWAITING_APPROVAL


def test_fulfilment_team_works_tasks_in_sequence_from_the_desk(client, agent, requester, two_step):
    request = service_request_submit(item=two_step, by=requester, answers={})
    pack, unpack = FulfilmentTask.objects.filter(request=request).order_by("order")
    client.force_login(agent)

    def act(task, action, **data):
        version = Ticket.objects.get(pk=task.pk).version
        return client.post(
            f"/desk/tasks/{task.pk}/{action}/", {"version": version, **data}, HTTP_HX_REQUEST="true"
        )

    assert act(pack, "take").status_code == 200
    act(pack, "transition", target=TaskStatus.IN_PROGRESS)
    response = act(pack, "transition", target=TaskStatus.DONE)
    assert b'id="task-panel"' in response.content
    unpack.refresh_from_db()
    assert unpack.status == TaskStatus.OPEN
    act(unpack, "transition", target=TaskStatus.DONE)

    request.refresh_from_db()
    assert request.status == RequestStatus.FULFILLED
    assert Ticket.objects.get(pk=pack.pk).assignee == agent


def test_cancelling_a_task_needs_a_note_and_shows_the_error(client, agent, requester, two_step):
    request = service_request_submit(item=two_step, by=requester, answers={})
    task = FulfilmentTask.objects.filter(request=request).order_by("order").first()
    client.force_login(agent)

    response = client.post(
        f"/desk/tasks/{task.pk}/transition/",
        {"version": Ticket.objects.get(pk=task.pk).version, "target": TaskStatus.CANCELLED},
    )

    assert response.status_code == 422
    assert "Say why the task is cancelled" in response.content.decode()


def test_agents_cancel_requests_with_a_reason(client, agent, requester, two_step):
    request = service_request_submit(item=two_step, by=requester, answers={})
    client.force_login(agent)
    version = Ticket.objects.get(pk=request.pk).version

    refused = client.post(f"/desk/requests/{request.pk}/cancel/", {"version": version})
    done = client.post(
        f"/desk/requests/{request.pk}/cancel/", {"version": version, "reason": "Duplicate"}
    )

    assert refused.status_code == 422
    assert done.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.CANCELLED


def test_ticket_numbers_lead_to_the_request_and_task_pages(client, agent, requester, two_step):
    request = service_request_submit(item=two_step, by=requester, answers={})
    task = FulfilmentTask.objects.filter(request=request).first()
    client.force_login(agent)

    assert client.get(f"/desk/tickets/{request.ticket.number}/")["Location"] == (
        f"/desk/requests/{request.pk}/"
    )
    assert client.get(f"/desk/tickets/{task.ticket.number}/")["Location"] == (
        f"/desk/tasks/{task.pk}/"
    )


def test_other_teams_do_not_see_the_requests_or_tasks(client, other_agent, requester, two_step):
    request = service_request_submit(item=two_step, by=requester, answers={})
    task = FulfilmentTask.objects.filter(request=request).first()
    client.force_login(other_agent)

    assert client.get(f"/desk/requests/{request.pk}/").status_code == 404
    assert client.get(f"/desk/tasks/{task.pk}/").status_code == 404
    assert request.ticket.number not in client.get("/desk/requests/").content.decode()


def test_requesters_cannot_reach_the_desk_pages(client, requester):
    client.force_login(requester)
    for url in ("/desk/requests/", "/desk/tasks/", "/desk/requests/approvals/"):
        assert client.get(url).status_code == 403


def test_desk_nav_lists_requests_and_tasks(client, agent):
    client.force_login(agent)
    page = client.get("/desk/").content.decode()
    assert ">Requests</a>" in page
    assert ">Tasks</a>" in page


def test_request_list_filters_by_status_and_text(client, agent, requester, two_step):
    client.force_login(agent)
    first, _second = order_many(2, two_step, requester)
    ServiceRequest.objects.filter(pk=first.pk)  # both in fulfilment
    page = client.get(f"/desk/requests/?q={first.ticket.number}").content.decode()
    assert first.ticket.number in page
    assert _second.ticket.number not in page
    closed = client.get("/desk/requests/?status=fulfilled").content.decode()
    assert "No requests match these filters." in closed
