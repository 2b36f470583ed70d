"""Change admin: configuration is editable, blackouts save through the service, changes are
read-only (their status moves only through the services)."""

import pytest

from changes.models import BlackoutWindow
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = UserFactory(username="ada", roles=["administrator"], is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_admin_pages_for_change_configuration_open(admin_client, make_change):
    change = make_change()
    for url in (
        "/admin/changes/standardchangetemplate/add/",
        "/admin/changes/riskquestion/",
        "/admin/changes/cabpolicyrule/",
        "/admin/changes/emergencycabseat/add/",
        "/admin/changes/blackoutwindow/add/",
        "/admin/changes/change/",
        f"/admin/changes/change/{change.pk}/change/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_a_blackout_saved_in_the_admin_goes_through_the_service(admin_client, erp):
    response = admin_client.post(
        "/admin/changes/blackoutwindow/add/",
        {
            "name": "Payroll run",
            "start_0": "2027-01-29",
            "start_1": "18:00:00",
            "end_0": "2027-01-29",
            "end_1": "23:00:00",
            "timezone": "Europe/London",
            "recurrence": "weekly",
            "services": [erp.pk],
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    window = BlackoutWindow.objects.get()
    assert list(window.services.all()) == [erp]
    assert window.created_by.username == "ada"
    bad = admin_client.post(
        "/admin/changes/blackoutwindow/add/",
        {
            "name": "Nowhere",
            "start_0": "2027-01-29",
            "start_1": "18:00:00",
            "end_0": "2027-01-29",
            "end_1": "19:00:00",
            "timezone": "Nowhere/Land",
            "recurrence": "none",
        },
    )
    assert bad.status_code == 200
    assert "Unknown time zone" in bad.content.decode()


def test_changes_are_read_only_in_the_admin(admin_client, make_change):
    change = make_change()
    assert admin_client.get("/admin/changes/change/add/").status_code == 403
    response = admin_client.post(f"/admin/changes/change/{change.pk}/change/", {"status": "closed"})
    assert response.status_code == 403
