import pytest
from django.core import mail

pytestmark = pytest.mark.django_db


def test_login_by_email_or_username(client, requester):
    assert client.login(username="rita", password="pw-for-tests-1")
    client.logout()
    assert client.login(username="RITA@example.com", password="pw-for-tests-1")


def test_password_reset_sends_a_link(client, requester):
    response = client.post("/accounts/password_reset/", {"email": "rita@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body


def test_logout_needs_post(client, requester):
    client.force_login(requester)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302


def test_roles_exist_as_groups():
    from django.contrib.auth.models import Group

    from accounts.roles import Role

    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}
