"""The one visibility rule, seen through the portal, desk and attachment URLs."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.services import incident_comment, incident_create
from tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(requester, network_team):
    incident = incident_create(
        requester=requester, by=requester, title="Printer jam", team=network_team
    )
    upload = SimpleUploadedFile("photo.png", b"\x89PNG\r\n", content_type="image/png")
    incident_comment(incident=incident, by=requester, body="photo attached", uploads=[upload])
    return incident


@pytest.fixture
def internal(incident, agent):
    upload = SimpleUploadedFile("trace.txt", b"internal trace", content_type="text/plain")
    return incident_comment(
        incident=incident, by=agent, body="SECRET-NOTE", public=False, uploads=[upload]
    )


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("requester", True),
        ("other_requester", False),
        ("agent", True),
        ("other_agent", False),
        ("manager", True),
    ],
)
def test_visible_to_matrix(request, incident, persona, visible):
    user = request.getfixturevalue(persona)
    assert Ticket.objects.visible_to(user).filter(pk=incident.pk).exists() is visible


def test_other_requester_gets_404_for_ticket_and_its_attachment(client, incident, other_requester):
    client.force_login(other_requester)
    attachment = Attachment.objects.get(ticket=incident.ticket)
    assert client.get(incident.ticket.portal_url).status_code == 404
    assert client.get(attachment.get_absolute_url()).status_code == 404
    assert client.get(f"/desk/incidents/{incident.pk}/").status_code == 403  # not an agent at all


def test_requester_downloads_own_public_attachment(client, incident, requester):
    client.force_login(requester)
    attachment = Attachment.objects.get(ticket=incident.ticket, public=True)
    response = client.get(attachment.get_absolute_url())
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == b"\x89PNG\r\n"


def test_requester_never_sees_internal_notes_or_their_files(client, incident, internal, requester):
    client.force_login(requester)
    page = client.get(incident.ticket.portal_url)
    assert page.status_code == 200
    assert b"photo attached" in page.content
    assert b"SECRET-NOTE" not in page.content
    assert b"trace.txt" not in page.content
    note_file = Attachment.objects.get(event=internal)
    assert client.get(note_file.get_absolute_url()).status_code == 404


def test_agent_sees_internal_notes_in_the_desk(client, incident, internal, agent):
    client.force_login(agent)
    page = client.get(f"/desk/incidents/{incident.pk}/")
    assert page.status_code == 200
    assert b"SECRET-NOTE" in page.content


def test_agent_of_another_team_gets_404(client, incident, other_agent):
    client.force_login(other_agent)
    assert client.get(f"/desk/incidents/{incident.pk}/").status_code == 404


def test_tickets_are_never_hard_deleted(incident):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        Ticket.objects.filter(pk=incident.pk).delete()


def test_approvers_see_what_waits_on_them_and_change_managers_see_changes(
    incident, other_requester, db
):
    from django.contrib.auth.models import Group

    from tickets.models import Approval

    assert not Ticket.objects.visible_to(other_requester).filter(pk=incident.pk).exists()
    Approval.objects.create(ticket=incident.ticket, approver=other_requester)
    assert Ticket.objects.visible_to(other_requester).filter(pk=incident.pk).exists()
    other_requester.groups.add(Group.objects.get(name="change manager"))
    Ticket.objects.filter(pk=incident.pk).update(kind="change")
    Approval.objects.all().delete()
    fresh = type(other_requester).objects.get(pk=other_requester.pk)  # roles are cached per object
    assert Ticket.objects.visible_to(fresh).filter(pk=incident.pk).exists()
