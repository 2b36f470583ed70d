import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.choices import Channel, IncidentStatus, ResolutionCode
from incidents.models import Incident
from incidents.services import incident_create, incident_transition
from tickets.models import Attachment

pytestmark = pytest.mark.django_db


def test_report_a_problem_raises_an_incident_with_plain_urgency(client, requester):
    client.force_login(requester)
    shot = SimpleUploadedFile("screen.png", b"\x89PNG", content_type="image/png")
    response = client.post(
        "/report/",
        {
            "title": "Cannot log in",
            "description": "Error 42",
            "urgency": "high",
            "attachments": [shot],
        },
    )
    incident = Incident.objects.get(ticket__title="Cannot log in")
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{incident.ticket.number}/"
    assert (incident.channel, incident.urgency, incident.ticket.requester) == (
        Channel.PORTAL,
        "high",
        requester,
    )
    assert Attachment.objects.get(ticket=incident.ticket).name == "screen.png"


def test_report_without_a_title_shows_the_error_and_creates_nothing(client, requester):
    client.force_login(requester)
    response = client.post("/report/", {"title": "", "urgency": "low"})
    assert response.status_code == 422
    assert "This field is required" in response.content.decode()
    assert not Incident.objects.exists()


def test_my_tickets_lists_own_open_tickets_and_filters_closed(
    client, requester, other_requester, agent
):
    mine = incident_create(requester=requester, by=requester, title="Mine open")
    done = incident_create(requester=requester, by=requester, title="Mine done")
    incident_transition(
        incident=done,
        by=agent,
        target=IncidentStatus.RESOLVED,
        resolution_code=ResolutionCode.FIXED,
        resolution_notes="ok",
    )
    incident_create(requester=other_requester, by=other_requester, title="Not mine")
    client.force_login(requester)
    page = client.get("/").content.decode()
    assert "Mine open" in page
    assert "Mine done" not in page
    assert "Not mine" not in page
    closed = client.get("/?show=closed").content.decode()
    assert "Mine done" in closed
    assert "Mine open" not in closed
    assert mine.ticket.number in client.get(f"/?show=all&q={mine.ticket.number}").content.decode()


def test_requester_comment_appears_in_the_public_timeline(client, requester):
    incident = incident_create(requester=requester, by=requester, title="Slow PC")
    client.force_login(requester)
    response = client.post(f"/tickets/{incident.ticket.number}/comment/", {"body": "It got worse"})
    assert response.status_code == 302
    assert "It got worse" in client.get(f"/tickets/{incident.ticket.number}/").content.decode()


def test_empty_comment_is_refused_with_a_message(client, requester):
    incident = incident_create(requester=requester, by=requester, title="Slow PC")
    client.force_login(requester)
    response = client.post(f"/tickets/{incident.ticket.number}/comment/", {"body": "  "})
    assert response.status_code == 422
    assert "Write something" in response.content.decode()
