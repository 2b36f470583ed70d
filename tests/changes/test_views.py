"""Desk change pages and the portal's change approvals: constant queries, HTMX actions,
conflicts and overrides on the page, incidents, and CAB members deciding without the desk."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from changes import services
from changes.choices import ChangeStatus
from changes.models import Change
from tickets.models import Approval

from .conftest import window

pytestmark = pytest.mark.django_db


def count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


def page(change):
    return reverse("desk:change-detail", args=[change.pk])


def act(change, action):
    return reverse("desk:change-action", args=[change.pk, action])


# ------------------------------------------------------------------ desk pages
def test_the_change_queue_runs_the_same_queries_for_10_and_50_rows(
    client, agent, make_change, advance
):
    client.force_login(agent)
    for _ in range(10):
        advance(make_change(), "authorize")
    ten = count(client, "/desk/changes/?page_size=50")
    for _ in range(40):
        make_change()
    assert count(client, "/desk/changes/?page_size=50") == ten
    assert ten <= 16


def test_the_queue_filters_by_type_state_risk_service_and_window(client, agent, make_change, erp):
    client.force_login(agent)
    make_change(title="On the VPN", when=window(days=2))
    make_change(title="On the ERP", services_=[erp], type="emergency")
    body = client.get(f"/desk/changes/?service={erp.pk}").content.decode()
    assert "On the ERP" in body
    assert "On the VPN" not in body
    body = client.get("/desk/changes/?type=normal").content.decode()
    assert "On the VPN" in body
    assert "On the ERP" not in body
    start, end = window(days=2)
    body = client.get(
        "/desk/changes/",
        {"window_after": start.isoformat(), "window_before": end.isoformat(), "risk": "low"},
    ).content.decode()
    assert "On the VPN" in body
    assert "On the ERP" not in body
    body = client.get("/desk/changes/?status=closed").content.decode()
    assert "No changes match" in body


def test_the_change_page_does_not_grow_with_the_timeline_or_approvals(
    client, agent, make_change, advance, cab
):
    client.force_login(agent)
    change = advance(make_change(when=window()), "authorize", approvers=cab[:1])
    for i in range(5):
        services.change_comment(change=change, by=agent, body=f"note {i}", public=False)
    short = count(client, page(change))
    for i in range(20):
        services.change_comment(change=change, by=agent, body=f"more {i}")
    Approval.objects.bulk_create(
        [Approval(ticket=change.ticket, stage=2, approver=member) for member in cab[1:]]
    )
    assert count(client, page(change)) == short


def test_htmx_actions_rerender_the_change_panel(client, agent, make_change):
    client.force_login(agent)
    change = make_change()
    response = client.post(
        act(change, "transition"),
        {"version": change.ticket.version, "target": "assess"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'id="change"' in response.content.decode()
    assert "<html" not in response.content.decode()
    assert Change.objects.get(pk=change.pk).status == ChangeStatus.ASSESS


def test_a_refused_action_shows_the_reason_and_changes_nothing(client, agent, make_change):
    client.force_login(agent)
    change = make_change(plans=False)
    response = client.post(
        act(change, "transition"), {"version": change.ticket.version, "target": "assess"}
    )
    assert response.status_code == 422
    assert "why the change is needed" in response.content.decode()
    assert Change.objects.get(pk=change.pk).status == ChangeStatus.DRAFT


def test_a_stale_form_is_refused(client, agent, make_change):
    client.force_login(agent)
    change = make_change()
    old = change.ticket.version
    services.change_update(change=change, by=agent, title="Changed meanwhile")
    response = client.post(act(change, "transition"), {"version": old, "target": "assess"})
    assert response.status_code == 422
    assert "Someone else changed this ticket" in response.content.decode()


def test_the_change_manager_sends_to_the_cab_from_the_desk(
    client, change_manager, make_change, advance, cab
):
    change = advance(make_change(), "assess")
    client.force_login(change_manager)
    body = client.get(page(change)).content.decode()
    assert 'id="send-to-cab-form"' in body
    response = client.post(
        act(change, "send-to-cab"),
        {"version": change.ticket.version, "approvers": [cab[0].pk, cab[1].pk], "comment": "OK"},
    )
    assert response.status_code == 302
    assert Approval.objects.filter(ticket_id=change.pk, stage=2).count() == 2


def test_agents_do_not_get_change_manager_controls(client, agent, make_change, advance):
    change = advance(make_change(), "assess")
    client.force_login(agent)
    body = client.get(page(change)).content.decode()
    assert 'id="send-to-cab-form"' not in body
    assert 'id="reject-form"' not in body
    response = client.post(act(change, "send-to-cab"), {"version": change.ticket.version})
    assert response.status_code == 403


def test_an_approver_who_is_an_agent_decides_on_the_change_page(
    client, change_manager, make_change, advance
):
    change = advance(make_change(), "authorize", approvers=[change_manager])
    approval = Approval.objects.get(ticket_id=change.pk, stage=2)
    client.force_login(change_manager)
    assert f'id="decide-form-{approval.pk}"' in client.get(page(change)).content.decode()
    client.post(act(change, "decide"), {"approval": approval.pk, "decision": "approved"})
    assert Change.objects.get(pk=change.pk).authorised_at is not None


def test_the_page_shows_conflicts_and_offers_the_override_to_change_managers(
    client, agent, change_manager, make_change, advance, template
):
    when = window()
    booked = advance(make_change(template=template, when=when), "scheduled")
    proposed = make_change(template=template, when=when)
    client.force_login(agent)
    body = client.get(page(proposed)).content.decode()
    assert booked.ticket.number in body
    assert 'name="override_reason"' not in body.split('id="schedule-form"')[1].split("</form>")[0]
    # a draft holds no window, so the booked change shows no conflict with it
    assert proposed.ticket.number not in client.get(page(booked)).content.decode()
    client.force_login(change_manager)
    body = client.get(page(proposed)).content.decode()
    assert 'id="schedule-override"' in body
    client.post(
        act(proposed, "transition"),
        {"version": proposed.ticket.version, "target": "scheduled", "override_reason": "OK'd"},
    )
    proposed.refresh_from_db()
    assert proposed.status == ChangeStatus.SCHEDULED
    assert "OK&#x27;d" in client.get(page(proposed)).content.decode()


def test_a_failed_change_offers_to_raise_an_incident(client, agent, make_change, advance):
    change = advance(make_change(when=window()), "implement")
    services.change_transition(
        change=change, by=agent, target="review", outcome="failed", actual_end=timezone.now()
    )
    client.force_login(agent)
    body = client.get(page(change)).content.decode()
    assert 'id="raise-incident"' in body
    assert "/desk/incidents/new/?title=Failed+change+" + change.ticket.number in body


def test_the_page_lists_incidents_caused_and_fixed(client, agent, make_change, requester):
    from incidents.models import Incident
    from incidents.services import incident_create

    change = make_change()
    caused = incident_create(requester=requester, by=requester, title="VPN down after upgrade")
    Incident.objects.filter(pk=caused.pk).update(caused_by_change=change.ticket)
    fixed = incident_create(requester=requester, by=requester, title="VPN slow")
    client.force_login(agent)
    client.post(act(change, "link"), {"incident": fixed.ticket.number.lower()})
    body = client.get(page(change)).content.decode()
    caused_part = body.split('id="caused-incidents"')[1].split("</ul>")[0]
    fixed_part = body.split('id="fixed-incidents"')[1].split("</ul>")[0]
    assert caused.ticket.number in caused_part
    assert fixed.ticket.number in fixed_part


def test_creating_a_change_from_the_desk(client, agent, vpn):
    client.force_login(agent)
    start, end = window(days=4)
    response = client.post(
        "/desk/changes/new/",
        {
            "type": "normal",
            "title": "Replace VPN firewall",
            "services": [vpn.pk],
            "impact": "medium",
            "planned_start": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
            "planned_end": timezone.localtime(end).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    change = Change.objects.get(ticket__title="Replace VPN firewall")
    assert response.status_code == 302
    assert response["Location"] == page(change)
    assert change.planned_end - change.planned_start == end - start
    invalid = client.post("/desk/changes/new/", {"type": "normal", "title": ""})
    assert invalid.status_code == 422


def test_the_conflict_check_helper(client, agent, make_change, advance, template, vpn):
    when = window()
    booked = advance(make_change(template=template, when=when), "scheduled")
    client.force_login(agent)
    body = client.get(
        "/desk/changes/conflicts/",
        {
            "planned_start": when[0].isoformat(),
            "planned_end": when[1].isoformat(),
            "services": vpn.pk,
        },
    ).content.decode()
    assert booked.ticket.number in body
    clear = client.get(
        "/desk/changes/conflicts/",
        {
            "planned_start": when[1].isoformat(),
            "planned_end": (when[1] + timedelta(hours=1)).isoformat(),
            "services": vpn.pk,
        },
    ).content.decode()
    assert 'id="no-conflicts"' in clear


def test_ticket_numbers_jump_to_the_change_page(client, agent, make_change):
    change = make_change()
    client.force_login(agent)
    response = client.get(f"/desk/tickets/{change.ticket.number}/")
    assert response["Location"] == page(change)


def test_hidden_changes_are_404_and_the_desk_is_for_agents(client, other_agent, make_change, cab):
    change = make_change()
    client.force_login(other_agent)
    assert client.get(page(change)).status_code == 404
    client.force_login(cab[0])
    assert client.get("/desk/changes/").status_code == 403


# ------------------------------------------------------------------ portal approvals
def test_a_cab_member_decides_in_the_portal(client, make_change, advance, cab):
    # given
    change = advance(make_change(when=window()), "authorize", approvers=[cab[0], cab[1]])
    client.force_login(cab[0])
    # when
    listing = client.get("/approvals/changes/").content.decode()
    detail = client.get(f"/approvals/changes/{change.pk}/").content.decode()
    approval = Approval.objects.get(ticket_id=change.pk, approver=cab[0])
    response = client.post(
        f"/approvals/changes/{change.pk}/decide/",
        {"approval": approval.pk, "decision": "approved", "comment": "Fine"},
    )
    # then
    assert change.ticket.number in listing
    assert change.implementation_plan.splitlines()[0] in detail
    assert response.status_code == 302
    assert Change.objects.get(pk=change.pk).authorised_at is not None
    assert "Nothing waits" in client.get("/approvals/changes/").content.decode()


def test_portal_rejection_needs_a_comment(client, make_change, advance, cab):
    change = advance(make_change(), "authorize", approvers=[cab[0]])
    approval = Approval.objects.get(ticket_id=change.pk, approver=cab[0])
    client.force_login(cab[0])
    response = client.post(
        f"/approvals/changes/{change.pk}/decide/",
        {"approval": approval.pk, "decision": "rejected"},
    )
    assert response.status_code == 422
    assert "Say why you reject" in response.content.decode()
    assert Change.objects.get(pk=change.pk).status == ChangeStatus.AUTHORIZE


def test_other_people_cannot_see_or_decide_in_the_portal(
    client, make_change, advance, cab, requester
):
    change = advance(make_change(), "authorize", approvers=[cab[0]])
    approval = Approval.objects.get(ticket_id=change.pk, approver=cab[0])
    client.force_login(cab[1])
    assert client.get(f"/approvals/changes/{change.pk}/").status_code == 404
    client.force_login(requester)
    decide = client.post(
        f"/approvals/changes/{change.pk}/decide/",
        {"approval": approval.pk, "decision": "approved"},
    )
    assert decide.status_code == 404
