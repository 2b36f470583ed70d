"""Personal API tokens: created in the profile (shown once, hashed at rest), used as Bearer
tokens, limited by scope and expiry, revoked by their user; service accounts."""

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.exceptions import DomainError
from incidents.services import incident_create
from integrations.choices import TokenScope
from integrations.models import ApiToken, ServiceAccount
from integrations.tokens import api_token_create, api_token_revoke, service_account_create

from .conftest import bearer

pytestmark = pytest.mark.django_db

TOKEN_IN_PAGE = re.compile(r'id="new-token-value" value="(sd_[A-Za-z0-9_-]+)"')


def test_a_token_is_stored_only_as_its_hash(requester):
    token, raw = api_token_create(user=requester, name="script")

    assert raw.startswith("sd_")
    assert len(raw) > 40
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = ApiToken.objects.filter(pk=token.pk).values()[0]
    assert raw not in {str(value) for value in stored.values()}
    assert token.prefix == raw[:10]


def test_a_token_authenticates_as_its_user(requester, make_token):
    client = bearer(make_token(requester, scope=TokenScope.READ))

    response = client.get("/api/v1/tickets/")

    assert response.status_code == 200
    assert ApiToken.objects.get(user=requester).last_used_at is not None


def test_read_scope_reads_but_cannot_write(requester, make_token):
    client = bearer(make_token(requester, scope=TokenScope.READ))

    listed = client.get("/api/v1/incidents/")
    created = client.post("/api/v1/incidents/", {"title": "Printer"}, format="json")

    assert listed.status_code == 200
    assert created.status_code == 403
    assert created.json()["title"] == "Forbidden"
    assert "read-only" in created.json()["detail"]


def test_write_scope_does_what_the_user_may_do_and_no_more(requester, make_token):
    client = bearer(make_token(requester, scope=TokenScope.WRITE))

    created = client.post("/api/v1/incidents/", {"title": "Printer jams"}, format="json")
    agent_only = client.post(
        f"/api/v1/incidents/{created.json()['id']}/work-note/", {"body": "x"}, format="json"
    )

    assert created.status_code == 201
    assert agent_only.status_code == 403  # the requester may not write work notes anyway


def test_revoked_and_expired_tokens_are_refused(requester):
    revoked, revoked_raw = api_token_create(user=requester, name="old")
    _expiring, expiring_raw = api_token_create(
        user=requester, name="short", expires_at=timezone.now() + timedelta(days=1)
    )
    api_token_revoke(token=revoked, by=requester)

    with time_machine.travel(timezone.now() + timedelta(days=2)):
        expired = bearer(expiring_raw).get("/api/v1/tickets/")
    refused = bearer(revoked_raw).get("/api/v1/tickets/")

    assert refused.status_code == 401
    assert expired.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert refused.json()["title"] == "Not authenticated"


def test_a_garbled_or_unknown_token_is_401(requester):
    for header in ["Bearer nope", "Bearer sd_" + "x" * 43, "Bearer", "Bearer a b", "Token  "]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        assert client.get("/api/v1/tickets/").status_code == 401, header


def test_a_deactivated_user_token_stops_working(requester, make_token):
    raw = make_token(requester)
    requester.is_active = False
    requester.save()

    assert bearer(raw).get("/api/v1/tickets/").status_code == 401


def test_only_the_owner_revokes_a_token(requester, other_requester):
    token, _raw = api_token_create(user=requester, name="mine")

    with pytest.raises(DomainError):
        api_token_revoke(token=token, by=other_requester)


def test_expiry_must_be_in_the_future(requester):
    with pytest.raises(DomainError):
        api_token_create(user=requester, name="x", expires_at=timezone.now() - timedelta(minutes=1))


def test_profile_page_creates_a_token_shown_once_and_revokes_it(client, requester):
    # given
    client.force_login(requester)
    url = reverse("portal:tokens")
    # when
    created = client.post(url, {"name": "Reporting", "scope": "write", "expires": "30"})
    raw = TOKEN_IN_PAGE.search(created.content.decode()).group(1)
    again = client.get(url)
    # then
    assert created.status_code == 200
    assert created["Cache-Control"].startswith("max-age=0")
    assert raw not in again.content.decode()
    assert "Reporting" in again.content.decode()
    token = ApiToken.objects.get(user=requester)
    assert token.scope == TokenScope.WRITE
    assert token.expires_at is not None
    assert bearer(raw).get("/api/v1/tickets/").status_code == 200
    # and revoking it from the page
    revoked = client.post(reverse("portal:token-revoke", args=[token.pk]))
    assert revoked.status_code == 302
    assert bearer(raw).get("/api/v1/tickets/").status_code == 401


def test_nobody_revokes_someone_elses_token_from_the_page(client, requester, other_requester):
    token, raw = api_token_create(user=requester, name="mine")
    client.force_login(other_requester)

    response = client.post(reverse("portal:token-revoke", args=[token.pk]))

    assert response.status_code == 404
    assert bearer(raw).get("/api/v1/tickets/").status_code == 200


def test_profile_page_refuses_a_blank_name(client, requester):
    client.force_login(requester)

    response = client.post(reverse("portal:tokens"), {"name": " ", "scope": "read"})

    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_a_service_account_has_no_password_and_acts_through_its_token(requester):
    # given
    account = service_account_create(name="HR system", by=None, roles=("requester",))
    _token, raw = api_token_create(user=account.user, name="hr", scope=TokenScope.WRITE)
    # when
    created = bearer(raw).post("/api/v1/incidents/", {"title": "Onboard Jo"}, format="json")
    # then
    assert not account.user.has_usable_password()
    assert ServiceAccount.objects.filter(user__username="svc-hr-system").exists()
    assert created.status_code == 201
    assert created.json()["requester"]["id"] == account.user.pk
    assert created.json()["channel"] == "api"


def test_a_token_sees_only_what_its_user_sees(requester, other_requester, make_token):
    theirs = incident_create(requester=other_requester, by=other_requester, title="Theirs")
    client = bearer(make_token(requester))

    assert client.get(f"/api/v1/incidents/{theirs.pk}/").status_code == 404
    assert client.get("/api/v1/incidents/").json()["results"] == []


def test_the_token_page_costs_the_same_queries_for_2_and_20_tokens(client, requester):
    client.force_login(requester)

    def count(n: int) -> int:
        for i in range(ApiToken.objects.count(), n):
            api_token_create(user=requester, name=f"t{i}")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("portal:tokens")).status_code == 200
        return len(ctx.captured_queries)

    assert count(2) == count(20)
