"""Canned replies: placeholder rendering (plain substitution, never the template engine),
who may use and edit which reply, the management pages and the picker in the reply editor."""

import pytest

from core.exceptions import DomainError
from desk.canned import canned_render, canned_reply_create, canned_reply_update
from desk.models import CannedReply
from incidents.services import incident_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(requester, agent, network_team):
    requester.first_name = "Rita"
    requester.save(update_fields=["first_name"])
    return incident_create(
        requester=requester, by=requester, title="VPN drops", team=network_team, assignee=agent
    )


def reply_of(owner, title="Hello", body="Hi", **scope):
    return CannedReply.objects.create(owner=owner, title=title, body=body, **scope)


# ------------------------------------------------------------------ rendering
def test_placeholders_are_filled_for_this_ticket_and_agent(incident, agent):
    # given
    ticket = incident.ticket
    body = (
        "Hi {{ requester.first_name }} ({{requester.name}}), {{ ticket.number }} "
        "“{{ ticket.title }}” is with {{ team.name }}. {{ agent.first_name }} / {{ agent.name }}"
    )
    # when
    text = canned_render(body=body, ticket=ticket, agent=agent)
    # then
    assert text == (
        f"Hi Rita (Rita Requester), {ticket.number} “VPN drops” is with Network. "
        "Alice / Alice Agent"
    )


def test_unknown_placeholders_stay_visible(incident, agent):
    text = canned_render(
        body="Dear {{ requester.last_name }}, {{ settings.SECRET_KEY }} {{ticket.number}}",
        ticket=incident.ticket,
        agent=agent,
    )
    assert text == (
        f"Dear {{{{ requester.last_name }}}}, {{{{ settings.SECRET_KEY }}}} "
        f"{incident.ticket.number}"
    )


def test_template_tags_and_filters_stay_inert(incident, agent):
    body = (
        "{% load log %}{% debug %}{{ ticket.title|upper }}{{ agent.password }}"
        "{% for x in y %}{{ x }}{% endfor %}"
    )
    text = canned_render(body=body, ticket=incident.ticket, agent=agent)
    assert text == body  # nothing evaluated, nothing removed
    assert "pbkdf2" not in text
    assert "md5" not in text


# ------------------------------------------------------------------ scopes
def test_agent_may_use_own_team_and_everyone_replies_only(
    client, incident, agent, teammate, other_agent, database_team
):
    # given
    own = reply_of(agent, "Own")
    team = reply_of(teammate, "Team", team=incident.ticket.team)
    everyone = reply_of(other_agent, "Everyone", shared_all=True)
    someone_personal = reply_of(teammate, "Nick's own")
    other_team = reply_of(other_agent, "Database only", team=database_team)
    client.force_login(agent)
    # when
    page = client.get("/desk/canned/").content.decode()
    # then
    for reply in (own, team, everyone):
        assert f'id="canned-{reply.pk}"' in page
    for reply in (someone_personal, other_team):
        assert f'id="canned-{reply.pk}"' not in page
    url = f"/desk/tickets/{incident.pk}/canned/{{}}/render/"
    assert client.get(url.format(team.pk)).status_code == 200
    assert client.get(url.format(everyone.pk)).status_code == 200
    assert client.get(url.format(someone_personal.pk)).status_code == 404
    assert client.get(url.format(other_team.pk)).status_code == 404


def test_render_endpoint_returns_the_filled_in_text(client, incident, agent):
    reply = reply_of(agent, body="Hello {{ requester.first_name }}, re {{ ticket.number }} {{ x }}")
    client.force_login(agent)
    response = client.get(f"/desk/tickets/{incident.pk}/canned/{reply.pk}/render/")
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == f"Hello Rita, re {incident.ticket.number} {{{{ x }}}}"


def test_render_endpoint_hides_tickets_the_agent_may_not_see(client, incident, other_agent):
    reply = reply_of(other_agent)
    client.force_login(other_agent)
    response = client.get(f"/desk/tickets/{incident.pk}/canned/{reply.pk}/render/")
    assert response.status_code == 404


def test_another_agent_cannot_edit_or_delete_a_personal_reply(client, agent, teammate):
    reply = reply_of(teammate, "Mine")
    client.force_login(agent)
    assert client.get(f"/desk/canned/{reply.pk}/edit/").status_code == 404
    assert client.post(f"/desk/canned/{reply.pk}/delete/").status_code == 404
    assert CannedReply.objects.filter(pk=reply.pk).exists()


def test_only_owner_or_manager_edits_a_shared_reply(client, agent, teammate, manager, network_team):
    # given
    reply = reply_of(teammate, "Team reply", team=network_team)
    # when a teammate who does not own it tries
    client.force_login(agent)
    refused = client.post(
        f"/desk/canned/{reply.pk}/edit/", {"title": "Hijacked", "body": "x", "team": ""}
    )
    # then
    assert refused.status_code == 403
    with pytest.raises(DomainError):
        canned_reply_update(reply=reply, by=agent, title="Hijacked", body="x")
    # and a manager may
    client.force_login(manager)
    done = client.post(
        f"/desk/canned/{reply.pk}/edit/",
        {"title": "Curated", "body": "Better text", "team": network_team.pk},
    )
    assert done.status_code == 302
    reply.refresh_from_db()
    assert (reply.title, reply.body, reply.team_id) == ("Curated", "Better text", network_team.pk)


def test_manager_cannot_touch_someone_s_personal_reply(client, manager, teammate):
    reply = reply_of(teammate, "Private")
    client.force_login(manager)
    assert client.get(f"/desk/canned/{reply.pk}/edit/").status_code == 404


# ------------------------------------------------------------------ pages and validation
def test_create_edit_and_delete_with_confirmation(client, agent, network_team):
    client.force_login(agent)
    # create
    response = client.post(
        "/desk/canned/new/",
        {"title": "Greeting", "body": "Hi {{ requester.first_name }}", "team": network_team.pk},
    )
    assert response.status_code == 302
    reply = CannedReply.objects.get(title="Greeting")
    assert (reply.owner, reply.team, reply.shared_all) == (agent, network_team, False)
    # edit
    client.post(
        f"/desk/canned/{reply.pk}/edit/",
        {"title": "Greeting", "body": "Hello", "team": "", "shared_all": "on"},
    )
    reply.refresh_from_db()
    assert (reply.body, reply.team, reply.shared_all) == ("Hello", None, True)
    # delete asks first
    confirm = client.get(f"/desk/canned/{reply.pk}/delete/")
    assert "Delete canned reply?" in confirm.content.decode()
    assert CannedReply.objects.filter(pk=reply.pk).exists()
    client.post(f"/desk/canned/{reply.pk}/delete/")
    assert not CannedReply.objects.filter(pk=reply.pk).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "", "body": "x"}, "This field is required."),
        ({"title": "T", "body": "   "}, "This field is required."),
        ({"title": "T", "body": "x", "team": "OTHER"}, "Select a valid choice"),
        ({"title": "T", "body": "x", "shared_all": "on", "team": "TEAM"}, "not both"),
        ({"title": "x" * 101, "body": "x"}, "at most 100 characters"),
    ],
)
def test_create_form_shows_validation_messages(
    client, agent, network_team, database_team, data, message
):
    client.force_login(agent)
    teams = {"TEAM": network_team.pk, "OTHER": database_team.pk}  # Alice is not in Database
    data = {**data, "team": teams.get(data.get("team"), "")}
    response = client.post("/desk/canned/new/", data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not CannedReply.objects.exists()


def test_agent_cannot_share_with_a_team_they_are_not_in(agent, database_team):
    with pytest.raises(DomainError, match="team you belong to"):
        canned_reply_create(by=agent, title="T", body="x", team=database_team)


def test_requesters_cannot_reach_the_canned_pages(client, requester):
    client.force_login(requester)
    assert client.get("/desk/canned/").status_code == 403


# ------------------------------------------------------------------ picker in the reply editor
def test_reply_editor_offers_usable_replies_on_every_kind_of_page(
    client, incident, agent, teammate
):
    usable = reply_of(agent, "Usable one")
    hidden = reply_of(teammate, "Not yours")
    client.force_login(agent)
    page = client.get(f"/desk/incidents/{incident.pk}/").content.decode()
    assert f"/desk/tickets/{incident.pk}/canned/{usable.pk}/render/" in page
    assert "Not yours" not in page
    assert f"/canned/{hidden.pk}/render/" not in page
