"""API conventions across endpoints: one error format on every status, ETag/If-Match,
Idempotency-Key on creates, ?fields= and ?expand=, throttling with Retry-After."""

import hashlib
import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from incidents.choices import IncidentStatus
from incidents.models import Incident
from incidents.services import incident_create, incident_transition
from integrations.choices import TokenScope
from integrations.models import IdempotencyRecord
from tickets.models import Ticket

from .conftest import bearer

pytestmark = pytest.mark.django_db

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= PROBLEM_KEYS, body
    assert set(body) - PROBLEM_KEYS <= {"current_version"}
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert isinstance(body["errors"], dict)
    return body


@pytest.fixture
def incident(requester, network_team):
    return incident_create(requester=requester, by=requester, title="VPN drops", team=network_team)


@pytest.fixture
def agent_client(agent, make_token) -> APIClient:
    return bearer(make_token(agent))


@pytest.fixture
def requester_client(requester, make_token) -> APIClient:
    return bearer(make_token(requester))


# ------------------------------------------------------------------ error format
def test_400_names_the_field(requester_client):
    body = assert_problem(requester_client.post("/api/v1/incidents/", {}, format="json"), 400)

    assert body["title"] == "Validation failed"
    assert "title" in body["errors"]


def test_400_for_malformed_json(requester_client):
    response = requester_client.post(
        "/api/v1/incidents/", b"{nope", content_type="application/json"
    )

    assert_problem(response, 400)


def test_401_without_credentials():
    response = APIClient().get("/api/v1/incidents/")

    body = assert_problem(response, 401)
    assert body["title"] == "Not authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_403_when_the_role_does_not_allow_it(requester_client, incident):
    response = requester_client.post(
        f"/api/v1/incidents/{incident.pk}/work-note/", {"body": "x"}, format="json"
    )

    assert assert_problem(response, 403)["title"] == "Forbidden"


def test_404_for_a_hidden_ticket(other_requester, make_token, incident):
    response = bearer(make_token(other_requester)).get(f"/api/v1/incidents/{incident.pk}/")

    assert assert_problem(response, 404)["title"] == "Not found"


def test_409_for_a_transition_the_lifecycle_refuses(agent_client, incident, agent):
    incident_transition(incident=incident, by=agent, target=IncidentStatus.CANCELLED)

    response = agent_client.post(
        f"/api/v1/incidents/{incident.pk}/transition/", {"target": "in_progress"}, format="json"
    )

    assert_problem(response, 409)


def test_412_for_a_stale_if_match(agent_client, incident):
    # given a client that read version 1, then someone else changed the incident
    read = agent_client.get(f"/api/v1/incidents/{incident.pk}/")
    etag = read["ETag"]
    agent_client.patch(
        f"/api/v1/incidents/{incident.pk}/", {"title": "Changed"}, format="json", HTTP_IF_MATCH=etag
    )
    # when the first client writes with the ETag it read
    stale = agent_client.patch(
        f"/api/v1/incidents/{incident.pk}/", {"title": "Mine"}, format="json", HTTP_IF_MATCH=etag
    )
    # then nothing is saved and the current version is named
    body = assert_problem(stale, 412)
    assert body["current_version"] == int(etag.strip('"')) + 1
    assert Ticket.objects.get(pk=incident.pk).title == "Changed"


def test_if_match_with_the_current_etag_writes_and_answers_the_new_etag(agent_client, incident):
    etag = agent_client.get(f"/api/v1/incidents/{incident.pk}/")["ETag"]

    response = agent_client.patch(
        f"/api/v1/incidents/{incident.pk}/", {"title": "Fresh"}, format="json", HTTP_IF_MATCH=etag
    )

    assert response.status_code == 200
    assert response["ETag"] == f'"{response.json()["version"]}"' != etag


def test_415_for_an_unsupported_media_type(requester_client):
    response = requester_client.post("/api/v1/incidents/", "title=x", content_type="text/plain")

    assert assert_problem(response, 415)["title"] == "Unsupported media type"


def test_422_for_a_reused_idempotency_key(requester_client):
    key = str(uuid.uuid4())
    requester_client.post(
        "/api/v1/incidents/", {"title": "A"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    response = requester_client.post(
        "/api/v1/incidents/", {"title": "B"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert "Idempotency-Key" in assert_problem(response, 422)["detail"]


def test_429_with_retry_after(requester, make_token, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "2/min", "user": "100/min", "anon": "100/min"},
    }
    client = bearer(make_token(requester, scope=TokenScope.READ))

    codes = [client.get("/api/v1/tickets/").status_code for _ in range(3)]
    response = client.get("/api/v1/tickets/")

    assert codes == [200, 200, 429]
    body = assert_problem(response, 429)
    assert body["title"] == "Too many requests"
    assert 1 <= int(response["Retry-After"]) <= 60


# ------------------------------------------------------------------ idempotency
def test_same_key_and_body_replays_the_first_result(requester_client, requester):
    # given
    key = str(uuid.uuid4())
    body = {"title": "Laptop will not boot", "urgency": "high"}
    # when
    first = requester_client.post(
        "/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    again = requester_client.post(
        "/api/v1/incidents/", dict(reversed(body.items())), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    # then
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["ETag"] == first["ETag"]
    assert again["Idempotent-Replayed"] == "true"
    assert Incident.objects.filter(ticket__requester=requester).count() == 1


def test_keys_belong_to_their_user(requester_client, other_requester, make_token):
    key = "shared-key-1"
    other = bearer(make_token(other_requester))

    mine = requester_client.post(
        "/api/v1/incidents/", {"title": "X"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    theirs = other.post(
        "/api/v1/incidents/", {"title": "X"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


def test_a_failed_request_is_not_kept_so_the_key_can_be_retried(requester_client):
    key = str(uuid.uuid4())

    failed = requester_client.post(
        "/api/v1/incidents/", {"title": ""}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    retried = requester_client.post(
        "/api/v1/incidents/", {"title": "Fixed"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert failed.status_code == 400
    assert retried.status_code == 201


def test_the_same_request_while_the_first_runs_is_409(requester_client, requester):
    # given the claim of a first request that has not finished
    IdempotencyRecord.objects.create(
        user=requester,
        key="busy",
        fingerprint=_fingerprint_of(requester_client, {"title": "X"}),
        method="POST",
        path="/api/v1/incidents/",
        expires_at=timezone.now() + timedelta(hours=24),
    )

    response = requester_client.post(
        "/api/v1/incidents/", {"title": "X"}, format="json", HTTP_IDEMPOTENCY_KEY="busy"
    )

    assert_problem(response, 409)
    assert not Incident.objects.exists()


def _fingerprint_of(client: APIClient, body: dict) -> str:
    text = f"POST\n/api/v1/incidents/\n{json.dumps(body, sort_keys=True)}"
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_key_older_than_24_hours_runs_again(requester_client, requester):
    key = str(uuid.uuid4())
    first = requester_client.post(
        "/api/v1/incidents/", {"title": "X"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    IdempotencyRecord.objects.filter(key=key).update(expires_at=timezone.now())

    again = requester_client.post(
        "/api/v1/incidents/", {"title": "X"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert again.json()["id"] != first.json()["id"]
    assert "Idempotent-Replayed" not in again


def test_an_invalid_key_is_a_field_error(requester_client):
    response = requester_client.post(
        "/api/v1/incidents/", {"title": "X"}, format="json", HTTP_IDEMPOTENCY_KEY="é" * 3
    )

    assert "Idempotency-Key" in assert_problem(response, 400)["errors"]


def test_idempotency_also_covers_changes(agent_client):
    key = str(uuid.uuid4())
    body = {"title": "Patch the core switch", "type": "normal"}

    first = agent_client.post("/api/v1/changes/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = agent_client.post("/api/v1/changes/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == 201, first.json()
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"


# ------------------------------------------------------------------ fields and expand
def test_fields_keeps_only_the_fields_asked_for(requester_client, incident):
    listed = requester_client.get("/api/v1/incidents/?fields=id,number,nope")
    one = requester_client.get(f"/api/v1/incidents/{incident.pk}/?fields=status")

    assert listed.json()["results"] == [{"id": incident.pk, "number": incident.ticket.number}]
    assert one.json() == {"status": "new"}


def test_expand_service_gives_the_whole_service(requester_client, requester, network_team):
    from tests.factories import ServiceFactory

    service = ServiceFactory(name="E-mail", description="Mailboxes and calendars")
    created = incident_create(requester=requester, by=requester, title="No mail", service=service)

    plain = requester_client.get(f"/api/v1/incidents/{created.pk}/").json()["service"]
    expanded = requester_client.get(f"/api/v1/incidents/{created.pk}/?expand=service").json()

    assert plain == {"id": service.pk, "name": "E-mail"}
    assert expanded["service"]["description"] == "Mailboxes and calendars"


def test_expand_detail_adds_the_kind_status_in_constant_queries(requester_client, requester):
    def count(n: int) -> int:
        for i in range(n - Ticket.objects.count()):
            incident_create(requester=requester, by=requester, title=f"Issue {i}")
        with CaptureQueriesContext(connection) as ctx:
            response = requester_client.get(f"/api/v1/tickets/?expand=detail&page_size={n}")
        assert len(response.json()["results"]) == n
        assert response.json()["results"][0]["detail"] == {"status": "new", "status_label": "New"}
        return len(ctx.captured_queries)

    requester_client.get("/api/v1/tickets/")  # the token's last use is stamped once a minute
    assert count(3) == count(12)
    assert "detail" not in requester_client.get("/api/v1/tickets/").json()["results"][0]


# ------------------------------------------------------------------ input the database refuses
def test_a_nul_character_anywhere_in_the_input_is_400_not_500(requester_client, incident):
    number = incident.ticket.number
    responses = [
        requester_client.get("/api/v1/catalogue/items/?q=a%00b"),
        requester_client.get(f"/api/v1/tickets/{number}%00/"),
        requester_client.post("/api/v1/incidents/", {"title": "a\x00b"}, format="json"),
        requester_client.post(
            "/api/v1/incidents/", "title=a%00b", content_type="application/x-www-form-urlencoded"
        ),
    ]

    for response in responses:
        assert_problem(response, 400)


def test_an_escaped_backslash_before_u0000_is_ordinary_text(requester_client):
    response = requester_client.post(
        "/api/v1/incidents/", {"title": "path C:\\u0000"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["title"] == "path C:\\u0000"


def test_an_offset_postgresql_cannot_store_is_moved_to_utc(requester_client, incident):
    response = requester_client.get(
        "/api/v1/incidents/", {"created_before": "2999-01-01T00:00:00-18:30"}
    )

    assert response.status_code == 200
    assert [i["id"] for i in response.json()["results"]] == [incident.pk]


def test_unknown_api_urls_answer_json_404(requester_client):
    for url in ["/api/v1/nope/", "/api/v1/incidents/1.5/journal/", "/api/v2/"]:
        assert_problem(requester_client.get(url), 404)
        assert_problem(requester_client.post(url, {}, format="json"), 404)


def test_a_number_that_is_not_ascii_digits_is_not_a_server_error(agent_client, incident):
    listed = agent_client.get("/api/v1/incidents/", {"assignee": "²"})
    written = agent_client.patch(
        f"/api/v1/incidents/{incident.pk}/", {"title": "x"}, format="json", HTTP_IF_MATCH='"²"'
    )

    assert listed.json()["results"] == []
    assert_problem(written, 400)


# ------------------------------------------------------------------ strict queries
@pytest.mark.parametrize("value", ["0", "101", "abc", "", "1.5", "٣"])
def test_a_page_size_out_of_range_or_not_a_number_is_400(requester_client, value):
    for url in ("/api/v1/incidents/", "/api/v1/catalogue/items/"):
        response = requester_client.get(url, {"page_size": value})
        assert "page_size" in assert_problem(response, 400)["errors"], url


def test_a_page_size_in_range_is_used(requester_client, requester):
    for n in range(3):
        incident_create(requester=requester, by=requester, title=f"Issue {n}")
    response = requester_client.get("/api/v1/incidents/", {"page_size": "2"})
    assert len(response.json()["results"]) == 2


def test_an_empty_value_of_a_typed_filter_is_400_but_empty_text_is_no_filter(
    requester_client, incident
):
    empty_choice = requester_client.get("/api/v1/incidents/?status=")
    empty_id = requester_client.get("/api/v1/tickets/?team=")
    empty_date = requester_client.get("/api/v1/tickets/?created_before=")
    empty_text = requester_client.get("/api/v1/tickets/?q=")

    assert "status" in assert_problem(empty_choice, 400)["errors"]
    assert "team" in assert_problem(empty_id, 400)["errors"]
    assert "created_before" in assert_problem(empty_date, 400)["errors"]
    assert empty_text.status_code == 200
    assert [t["id"] for t in empty_text.json()["results"]] == [incident.pk]


def test_the_schema_states_the_page_size_range(requester_client):
    schema = requester_client.get("/api/schema/?format=json").json()
    parameters = schema["paths"]["/api/v1/incidents/"]["get"]["parameters"]
    page_size = next(p for p in parameters if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}


# ------------------------------------------------------------------ business-rule refusals
def test_a_rule_the_schema_cannot_state_is_a_business_rule_400(agent_client, incident):
    unknown_team = agent_client.get("/api/v1/tickets/", {"team": 999999})
    rule = agent_client.post(
        f"/api/v1/incidents/{incident.pk}/priority/", {"priority": 1}, format="json"
    )
    too_early = agent_client.get(
        "/api/v1/changes/conflicts/",
        {"start": "1800-01-01T00:00:00Z", "end": "1800-01-02T00:00:00Z"},
    )

    for response in (unknown_team, rule, too_early):
        assert assert_problem(response, 400)["type"].endswith("/business-rule")


def test_a_request_that_breaks_the_schema_is_a_plain_validation_400(agent_client):
    missing = agent_client.post("/api/v1/incidents/", {}, format="json")
    wrong_type = agent_client.get("/api/v1/tickets/", {"page_size": "x"})

    for response in (missing, wrong_type):
        body = assert_problem(response, 400)
        assert body["type"].endswith("/validation-failed")
        assert body["title"] == "Validation failed"


def test_alerts_take_json_only(monitoring_client):
    form = monitoring_client.post("/api/v1/alerts/", {"alerts": "x"})
    assert_problem(form, 415)


def test_typed_query_parameters_are_refused_not_ignored(agent_client):
    for url, name in (
        ("/api/v1/incidents/?major=900.0", "major"),
        ("/api/v1/catalogue/categories/?page=", "page"),
        ("/api/v1/catalogue/categories/?page=-3", "page"),
        ("/api/v1/catalogue/items/?category=x", "category"),
        ("/api/v1/approvals/?state=maybe", "state"),
    ):
        assert name in assert_problem(agent_client.get(url), 400)["errors"], url
    assert agent_client.get("/api/v1/catalogue/items/?category=-5").json()["results"] == []
    assert agent_client.get("/api/v1/incidents/?major=true").status_code == 200


def test_the_schema_documents_json_bodies_and_multipart_only_for_files(agent_client):
    paths = agent_client.get("/api/schema/?format=json").json()["paths"]

    incident_create = paths["/api/v1/incidents/"]["post"]["requestBody"]["content"]
    change_transition = paths["/api/v1/changes/{id}/transition/"]["post"]["requestBody"]
    order = paths["/api/v1/requests/"]["post"]["requestBody"]["content"]
    page = next(
        p
        for p in paths["/api/v1/catalogue/categories/"]["get"]["parameters"]
        if p["name"] == "page"
    )

    assert set(incident_create) == {"application/json"}
    assert set(change_transition["content"]) == {"application/json"}
    assert set(order) == {"application/json", "multipart/form-data"}
    assert page["schema"] == {"type": "integer", "minimum": 1}
