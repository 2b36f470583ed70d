"""A save on a stale version is caught and shown, never silent: the desk lists what changed
since the agent's page, keeps their input, and lets them apply it anyway or discard it."""

import html
import re

import pytest

from incidents.models import Incident
from incidents.services import incident_assign, incident_comment, incident_update
from servicerequests.choices import TaskStatus
from servicerequests.models import FulfilmentTask
from servicerequests.services import service_request_submit, task_comment, task_transition
from tests.servicerequests.builders import make_item
from tickets.choices import EventType
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def loaded(client, url):
    """What the agent's browser holds after opening the page: the version in its forms and
    the newest journal entry (data-collab-seen, sent back as `seen` by desk-collab.js)."""
    page = client.get(url).content.decode()
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    seen = re.search(r'data-collab-seen="(\d+)"', page).group(1)
    return {"version": version, "seen": seen}


def stale_form(body):
    """The hidden inputs of the notice's "Apply mine anyway" form."""
    form = re.search(r'<form[^>]*id="stale-form"[^>]*>(.*?)</form>', body, re.S).group(1)
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        if name != "csrfmiddlewaretoken":
            data.setdefault(name, []).append(html.unescape(value))
    return data


def notes(ticket_id, body):
    return TicketEvent.objects.filter(ticket_id=ticket_id, body=body).count()


# ------------------------------------------------------------------ incidents
def test_a_stale_reply_is_caught_shows_the_change_and_keeps_the_text(client, agent, nick, incident):
    client.force_login(agent)
    page = loaded(client, f"/desk/incidents/{incident.pk}/")
    # meanwhile Nick takes the ticket and writes a work note
    incident_assign(incident=incident, by=nick, team=incident.ticket.team, assignee=nick)
    incident_comment(incident=incident, by=nick, body="Rebooted the spooler", public=False)

    mine = "Please try printing again & tell me <if> it works"
    response = client.post(
        f"/desk/incidents/{incident.pk}/reply/", {**page, "body": mine, "public": "on"}, **HX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="stale"' in body
    assert 'role="alert"' in body
    changes = re.search(r'id="stale-changes">(.*?)</ol>', body, re.S).group(1)
    assert "Nick Network" in changes
    assert "changed assignee" in changes
    assert "Rebooted the spooler" in changes
    assert "raised this ticket" not in changes
    assert "Printer" not in changes
    # nothing was written, and the typed text is still in the reply editor
    assert notes(incident.pk, mine) == 0
    editor = re.search(r'<form[^>]*id="reply-form".*?</form>', body, re.S).group(0)
    assert html.escape(mine) in editor
    current = Ticket.objects.get(pk=incident.pk).version
    assert f'name="version" value="{current}"' in editor  # saving it as it is now works

    # apply mine anyway: the notice's form posts the same input against the current version
    again = stale_form(body)
    assert again["version"] == [str(current)]
    assert again["body"] == [mine]
    assert again["public"] == ["on"]
    response = client.post(f"/desk/incidents/{incident.pk}/reply/", again, **HX)
    assert response.status_code == 200
    assert 'id="stale"' not in response.content.decode()
    event = TicketEvent.objects.get(ticket_id=incident.pk, body=mine)
    assert event.type == EventType.COMMENT
    assert event.actor == agent
    assert Ticket.objects.get(pk=incident.pk).version == current + 1


def test_a_stale_field_edit_never_overwrites_and_apply_anyway_does(client, agent, nick, incident):
    client.force_login(agent)
    page = loaded(client, f"/desk/incidents/{incident.pk}/")
    incident_update(incident=incident, by=nick, title="Printer on floor 3 jammed")

    fields = {"title": "Printer offline", "impact": "high", "urgency": "high"}
    response = client.post(f"/desk/incidents/{incident.pk}/fields/", {**page, **fields}, **HX)
    body = response.content.decode()
    assert "Printer on floor 3 jammed" in re.search(r'id="stale-changes">(.*?)</ol>', body, re.S)[1]
    assert Ticket.objects.get(pk=incident.pk).title == "Printer on floor 3 jammed"
    assert 'value="Printer offline"' in body  # their title is kept in the form

    response = client.post(f"/desk/incidents/{incident.pk}/fields/", stale_form(body), **HX)
    assert 'id="stale"' not in response.content.decode()
    assert Ticket.objects.get(pk=incident.pk).title == "Printer offline"
    assert Incident.objects.get(pk=incident.pk).impact == "high"


def test_apply_anyway_is_caught_again_if_the_ticket_moved_once_more(client, agent, nick, incident):
    client.force_login(agent)
    page = loaded(client, f"/desk/incidents/{incident.pk}/")
    incident_comment(incident=incident, by=nick, body="first", public=False)
    body = client.post(
        f"/desk/incidents/{incident.pk}/reply/", {**page, "body": "mine", "public": ""}, **HX
    ).content.decode()
    incident_comment(incident=incident, by=nick, body="second", public=False)
    body = client.post(
        f"/desk/incidents/{incident.pk}/reply/", stale_form(body), **HX
    ).content.decode()
    changes = re.search(r'id="stale-changes">(.*?)</ol>', body, re.S).group(1)
    assert "second" in changes
    assert "first" not in changes
    assert notes(incident.pk, "mine") == 0


def test_discard_reloads_the_fresh_ticket_without_the_typed_text(client, agent, nick, incident):
    client.force_login(agent)
    page = loaded(client, f"/desk/incidents/{incident.pk}/")
    incident_update(incident=incident, by=nick, title="Renamed by Nick")
    body = client.post(
        f"/desk/incidents/{incident.pk}/reply/",
        {**page, "body": "my draft", "public": "on"},
        **HX,
    ).content.decode()
    discard = re.search(r'<a href="([^"]+)"[^>]*id="stale-discard"', body).group(1)
    fresh = client.get(discard, follow=True).content.decode()
    assert "Renamed by Nick" in fresh
    assert "my draft" not in fresh
    assert 'id="stale"' not in fresh
    assert notes(incident.pk, "my draft") == 0


def test_without_javascript_a_stale_save_is_422_and_lists_the_latest_changes(
    client, agent, nick, incident
):
    client.force_login(agent)
    version = loaded(client, f"/desk/incidents/{incident.pk}/")["version"]
    incident_comment(incident=incident, by=nick, body="a note from Nick", public=False)
    response = client.post(
        f"/desk/incidents/{incident.pk}/reply/",
        {"version": version, "body": "no js", "public": "on"},  # no `seen`: plain form post
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "<html" in body
    assert 'id="stale"' in body
    assert "The latest changes" in body
    assert "a note from Nick" in body
    assert notes(incident.pk, "no js") == 0


def test_a_current_version_saves_as_before(client, agent, incident):
    client.force_login(agent)
    page = loaded(client, f"/desk/incidents/{incident.pk}/")
    response = client.post(
        f"/desk/incidents/{incident.pk}/reply/", {**page, "body": "fresh", "public": "on"}
    )
    assert response.status_code == 302
    assert notes(incident.pk, "fresh") == 1


def test_the_stale_notice_is_behind_the_same_visibility(client, other_agent, incident):
    client.force_login(other_agent)  # Database team: cannot see the Network team's incident
    response = client.post(
        f"/desk/incidents/{incident.pk}/reply/", {"version": 1, "body": "x", "public": "on"}
    )
    assert response.status_code == 404


# ------------------------------------------------------------------ fulfilment tasks
@pytest.fixture
def task(requester, network_team):
    item = make_item(
        name="Desk move",
        fulfilment_team=network_team,
        tasks=[{"title": "Pack", "team": network_team, "waits_for_previous": False}],
    )
    sr = service_request_submit(item=item, by=requester, answers={})
    return FulfilmentTask.objects.get(request=sr)


def test_a_stale_task_transition_shows_the_change_and_apply_anyway_works(client, agent, nick, task):
    client.force_login(agent)
    page = loaded(client, f"/desk/tasks/{task.pk}/")
    task_transition(task=task, by=nick, target=TaskStatus.IN_PROGRESS)
    task_comment(task=task, by=nick, body="Boxes ordered")

    data = {**page, "target": "done", "note": "Packed 12 boxes"}
    body = client.post(f"/desk/tasks/{task.pk}/transition/", data, **HX).content.decode()
    changes = re.search(r'id="stale-changes">(.*?)</ol>', body, re.S).group(1)
    assert "In progress" in changes
    assert "Boxes ordered" in changes
    assert "Packed 12 boxes" in body  # their note is kept
    assert FulfilmentTask.objects.get(pk=task.pk).status == TaskStatus.IN_PROGRESS

    body = client.post(
        f"/desk/tasks/{task.pk}/transition/", stale_form(body), **HX
    ).content.decode()
    assert 'id="stale"' not in body
    assert FulfilmentTask.objects.get(pk=task.pk).status == TaskStatus.DONE


def test_a_stale_request_reply_is_caught(client, agent, nick, task):
    sr = task.request
    client.force_login(agent)
    page = loaded(client, f"/desk/requests/{sr.pk}/")
    from servicerequests.services import service_request_assign

    service_request_assign(request=sr, by=nick, team=sr.ticket.team, assignee=nick)
    body = client.post(
        f"/desk/requests/{sr.pk}/reply/", {**page, "body": "On its way", "public": "on"}, **HX
    ).content.decode()
    assert "Nick Network" in re.search(r'id="stale-changes">(.*?)</ol>', body, re.S).group(1)
    assert notes(sr.pk, "On its way") == 0
    client.post(f"/desk/requests/{sr.pk}/reply/", stale_form(body), **HX)
    assert notes(sr.pk, "On its way") == 1


# ------------------------------------------------------------------ changes
def test_a_stale_change_risk_assessment_is_caught_and_applies_anyway(
    client, agent, nick, network_team
):
    from changes import services as change_services
    from changes.models import Change, RiskQuestion
    from tests.factories import ServiceFactory

    RiskQuestion.objects.all().delete()
    question = RiskQuestion.objects.create(text="Critical service?", weight=3, order=1)
    change = change_services.change_create(
        by=agent, title="Upgrade the VPN", team=network_team, services=[ServiceFactory()]
    )
    client.force_login(agent)
    page = loaded(client, f"/desk/changes/{change.pk}/")
    change_services.change_assign(change=change, by=nick, team=network_team, assignee=nick)

    data = {**page, f"q{question.pk}": "on"}
    body = client.post(f"/desk/changes/{change.pk}/risk/", data, **HX).content.decode()
    assert "Nick Network" in re.search(r'id="stale-changes">(.*?)</ol>', body, re.S).group(1)
    assert Change.objects.get(pk=change.pk).risk_answers == []

    client.post(f"/desk/changes/{change.pk}/risk/", stale_form(body), **HX)
    answers = Change.objects.get(pk=change.pk).risk_answers
    assert [(a["question_id"], a["answer"]) for a in answers] == [(question.pk, True)]


def test_a_stale_assign_to_me_keeps_the_assignment_form_whole(client, agent, nick, incident):
    client.force_login(agent)
    page = loaded(client, f"/desk/incidents/{incident.pk}/")
    incident_update(incident=incident, by=nick, title="Printer, floor 3")
    body = client.post(f"/desk/incidents/{incident.pk}/take/", page, **HX).content.decode()
    assert 'id="stale"' in body
    assert Ticket.objects.get(pk=incident.pk).assignee is None
    assert 'name="assignee"' in body  # the Reassign form is still the full form

    client.post(f"/desk/incidents/{incident.pk}/take/", stale_form(body), **HX)
    assert Ticket.objects.get(pk=incident.pk).assignee == agent


def test_the_notice_lists_the_agents_own_input_by_label(client, agent, nick, network_team):
    from changes import services as change_services
    from tests.factories import ServiceFactory

    vpn, erp = ServiceFactory(name="VPN"), ServiceFactory(name="ERP")
    change = change_services.change_create(
        by=agent, title="Patch", team=network_team, services=[vpn]
    )
    client.force_login(agent)
    page = loaded(client, f"/desk/changes/{change.pk}/")
    change_services.change_assign(change=change, by=nick, team=network_team, assignee=nick)
    data = {**page, "title": "Patch both", "impact": "high", "services": [vpn.pk, erp.pk]}
    body = client.post(f"/desk/changes/{change.pk}/fields/", data, **HX).content.decode()
    yours = re.search(r'<dl class="props stale-yours">(.*?)</dl>', body, re.S).group(1)
    assert "<dt>Title</dt><dd>Patch both</dd>" in yours
    assert "<dt>Impact</dt><dd>High</dd>" in yours
    assert "VPN" in yours
    assert "ERP" in yours
