"""Admin of the API platform: service accounts and their tokens, the webhook delivery log."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from core.exceptions import DomainError
from incidents.services import incident_create
from integrations.models import ApiToken, ServiceAccount, WebhookDelivery, WebhookSubscription
from integrations.tokens import service_account_create
from integrations.webhooks import webhooks_outbox_run
from tests.factories import UserFactory

from .conftest import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = UserFactory(username="ada", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_an_administrator_creates_a_service_account_and_its_token(admin_client):
    # when
    added = admin_client.post(
        reverse("admin:integrations_serviceaccount_add"),
        {"name": "HR system", "description": "Orders onboarding", "roles": ["requester"]},
    )
    account = ServiceAccount.objects.get()
    shown = admin_client.post(
        reverse("admin:integrations_serviceaccount_changelist"),
        {"action": "create_write_token", "_selected_action": [account.pk]},
        follow=True,
    )
    # then
    assert added.status_code == 302
    assert account.user.username == "svc-hr-system"
    assert account.user.groups.filter(name="requester").exists()
    raw = re.search(r"sd_[A-Za-z0-9_-]{43}", shown.content.decode()).group(0)
    assert ApiToken.objects.get(user=account.user).scope == "write"
    assert bearer(raw).get("/api/v1/tickets/").status_code == 200


def test_tokens_are_revoked_from_the_admin(admin_client, requester, make_token):
    raw = make_token(requester)

    admin_client.post(
        reverse("admin:integrations_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [ApiToken.objects.get().pk]},
    )

    assert bearer(raw).get("/api/v1/tickets/").status_code == 401


def test_the_delivery_log_lists_deliveries(admin_client, requester, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    WebhookSubscription.objects.create(name="Bot", target_url="http://127.0.0.1:9/hook")
    incident_create(requester=requester, by=requester, title="Printer")
    webhooks_outbox_run()

    page = admin_client.get(reverse("admin:integrations_webhookdelivery_changelist"))
    one = admin_client.get(
        reverse(
            "admin:integrations_webhookdelivery_change", args=[WebhookDelivery.objects.get().pk]
        )
    )

    assert page.status_code == 200
    assert "ticket.created" in page.content.decode()
    assert one.status_code == 200


def test_the_subscription_form_refuses_loopback_without_the_setting(admin_client):
    response = admin_client.post(
        reverse("admin:integrations_webhooksubscription_add"),
        {"name": "Local", "target_url": "http://127.0.0.1/hook", "active": "on"},
    )

    assert response.status_code == 200
    assert not WebhookSubscription.objects.exists()
    assert "private, loopback or reserved" in response.content.decode()


def test_service_account_names_are_unique():
    Group.objects.get_or_create(name="requester")
    service_account_create(name="Bot", by=None)

    with pytest.raises(DomainError, match="already exists"):
        service_account_create(name="bot", by=None)
