"""Portal pages: notification settings, open/mark one read, the bell in every front door."""

import pytest

from tickets.choices import EmailMode
from tickets.models import Notification, NotificationPreference
from tickets.notifications import notify

pytestmark = pytest.mark.django_db


def test_settings_page_saves_choices(client, requester):
    client.force_login(requester)
    page = client.get("/notifications/settings/")
    assert page.status_code == 200
    assert "@mentions in work notes" in page.content.decode()
    data = {"email_mode": "digest"} | {
        f"cat_{c}": "email"
        for c in [
            "created",
            "assigned",
            "reply",
            "mention",
            "status",
            "resolved",
            "approval",
            "sla",
            "change",
            "other",
        ]
    }
    data |= {"cat_created": "off", "cat_sla": "in_app"}
    response = client.post("/notifications/settings/", data)
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=requester)
    assert (pref.email_mode, pref.muted, pref.in_app_only) == (
        EmailMode.DIGEST,
        ["created"],
        ["sla"],
    )
    page = client.get("/notifications/settings/").content.decode()
    assert 'value="off" selected' in page


def test_opening_a_notification_marks_it_read_and_goes_to_the_ticket(
    client, requester, agent, network_team
):
    from incidents.services import incident_create

    incident = incident_create(
        requester=requester, by=requester, title="Fan noise", team=network_team
    )
    (note,) = notify(recipients=[agent], ticket=incident.ticket, event="assigned", subject="Yours")
    client.force_login(agent)
    response = client.get(f"/notifications/{note.pk}/open/")
    assert response.url == f"/desk/tickets/{incident.ticket.number}/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_mark_one_read_with_htmx_returns_the_row(client, agent):
    (note,) = notify(recipients=[agent], ticket=None, event="test", subject="Ping")
    client.force_login(agent)
    response = client.post(f"/notifications/{note.pk}/read/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert f'id="notification-{note.pk}"' in response.content.decode()
    assert "Mark read" not in response.content.decode()
    assert Notification.objects.get().read_at is not None


def test_other_peoples_notifications_answer_404(client, agent, requester):
    (note,) = notify(recipients=[agent], ticket=None, event="test", subject="Private")
    client.force_login(requester)
    assert client.get(f"/notifications/{note.pk}/open/").status_code == 404
    assert client.post(f"/notifications/{note.pk}/read/").status_code == 404
    assert Notification.objects.get().read_at is None


@pytest.mark.parametrize("path", ["/", "/desk/", "/dashboards/"])
def test_bell_with_unread_count_in_every_front_door(client, manager, path):
    notify(recipients=[manager], ticket=None, event="test", subject="One")
    notify(recipients=[manager], ticket=None, event="test", subject="Two")
    client.force_login(manager)
    page = client.get(path).content.decode()
    assert "Notifications: 2 unread" in page


def test_notification_list_query_count_does_not_grow_with_rows(
    client, agent, django_assert_max_num_queries
):
    def count_for(n: int) -> int:
        Notification.objects.all().delete()
        for i in range(n):
            notify(recipients=[agent], ticket=None, event="test", subject=f"N{i}")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/notifications/").status_code == 200
        return len(ctx.captured_queries)

    client.force_login(agent)
    assert count_for(10) == count_for(30)
