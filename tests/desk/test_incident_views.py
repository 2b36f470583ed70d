"""Desk pages: constant queries whatever the page size, HTMX actions, stale forms."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.choices import IncidentStatus
from incidents.models import Incident
from incidents.services import incident_comment, incident_create
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _make(n, requester, team):
    for i in range(n):
        incident = incident_create(requester=requester, by=requester, title=f"Issue {i}", team=team)
        incident_comment(incident=incident, by=requester, body="more info")


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/desk/?page_size=50", "/desk/incidents/"])
def test_queue_pages_run_the_same_number_of_queries_for_10_and_50_rows(
    client, agent, requester, network_team, url
):
    client.force_login(agent)
    _make(10, requester, network_team)
    ten = _count(client, url)
    _make(40, requester, network_team)
    fifty = _count(client, url)
    assert fifty == ten
    # session, user, roles, permissions, teams, led teams, approvals, bell, rows… plus on the
    # unified queue: preference, saved views, counts and the filter/bulk selects.
    assert ten <= (22 if url.startswith("/desk/?") else 16)


def test_incident_page_queries_do_not_grow_with_the_timeline(
    client, agent, requester, network_team
):
    client.force_login(agent)
    incident = incident_create(requester=requester, by=requester, title="Chatty", team=network_team)
    for i in range(10):
        incident_comment(incident=incident, by=agent, body=f"note {i}", public=bool(i % 2))
    short = _count(client, f"/desk/incidents/{incident.pk}/")
    for i in range(40):
        incident_comment(incident=incident, by=requester, body=f"reply {i}")
    assert _count(client, f"/desk/incidents/{incident.pk}/") == short


def test_htmx_action_rerenders_the_incident_panel(client, agent, requester, network_team):
    client.force_login(agent)
    incident = incident_create(requester=requester, by=requester, title="Mouse", team=network_team)
    version = Ticket.objects.get(pk=incident.pk).version
    response = client.post(
        f"/desk/incidents/{incident.pk}/take/", {"version": version}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b'id="incident"' in response.content
    assert b"<html" not in response.content  # a partial, not a whole page
    incident.refresh_from_db()
    assert incident.ticket.assignee == agent
    assert incident.status == IncidentStatus.IN_PROGRESS


def test_stale_form_is_refused_with_a_message_and_nothing_changes(
    client, agent, requester, network_team
):
    client.force_login(agent)
    incident = incident_create(
        requester=requester, by=requester, title="Keyboard", team=network_team
    )
    stale = Ticket.objects.get(pk=incident.pk).version
    incident_comment(incident=incident, by=agent, body="meanwhile")  # bumps the version
    response = client.post(
        f"/desk/incidents/{incident.pk}/fields/",
        {"version": stale, "title": "Overwrite", "impact": "low", "urgency": "low"},
    )
    assert response.status_code == 422
    assert "Someone else changed this ticket" in response.content.decode()
    assert Ticket.objects.get(pk=incident.pk).title == "Keyboard"


def test_illegal_transition_shows_the_reason(client, agent, requester, network_team):
    client.force_login(agent)
    incident = incident_create(requester=requester, by=requester, title="Screen", team=network_team)
    version = Ticket.objects.get(pk=incident.pk).version
    response = client.post(
        f"/desk/incidents/{incident.pk}/transition/", {"version": version, "target": "closed"}
    )
    assert response.status_code == 422
    assert "cannot move from New to Closed" in response.content.decode()
    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.NEW


def test_agent_creates_an_incident_for_a_caller(client, agent, requester):
    client.force_login(agent)
    response = client.post(
        "/desk/incidents/new/",
        {
            "requester": requester.email,
            "channel": "phone",
            "title": "Caller: VPN",
            "impact": "high",
            "urgency": "high",
        },
    )
    incident = Incident.objects.get(ticket__title="Caller: VPN")
    assert response.status_code == 302
    assert incident.channel == "phone"
    assert incident.ticket.requester == requester
    assert incident.ticket.created_by == agent
    assert incident.ticket.priority == 1


def test_major_incident_banner_shows_on_the_desk(client, agent, requester, network_team):
    client.force_login(agent)
    incident = incident_create(
        requester=requester, by=requester, title="Core down", team=network_team
    )
    version = Ticket.objects.get(pk=incident.pk).version
    assert 'id="major-banner"' not in client.get("/desk/").content.decode()
    client.post(f"/desk/incidents/{incident.pk}/major/", {"version": version})
    client.get("/desk/")  # consumes the flash message
    page = client.get("/desk/incidents/").content.decode()
    assert 'id="major-banner"' in page
    assert f"{incident.ticket.number} Core down" in page


def test_unknown_caller_is_refused_with_a_message(client, agent):
    client.force_login(agent)
    response = client.post(
        "/desk/incidents/new/",
        {
            "requester": "nobody@nowhere",
            "channel": "phone",
            "title": "x",
            "impact": "low",
            "urgency": "low",
        },
    )
    assert response.status_code == 422
    assert "No active user with that username or e-mail" in response.content.decode()


def test_assignee_choices_are_the_team_members_not_the_whole_directory(
    client, agent, other_agent, requester, network_team
):
    incident = incident_create(requester=requester, by=requester, title="who", team=network_team)
    client.force_login(agent)
    page = client.get(f"/desk/incidents/{incident.pk}/").content.decode()
    assign = page.split('name="assignee"')[1].split("</select>")[0]
    assert agent.display_name in assign
    assert other_agent.display_name not in assign  # another team
    assert requester.display_name not in assign  # not an agent
