"""The incident API: visibility, writes through services, optimistic locking, error format."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from incidents.choices import IncidentStatus, ResolutionCode
from incidents.models import Category, Incident
from incidents.services import (
    incident_comment,
    incident_create,
    incident_transition,
    incident_update,
)
from tickets.choices import EventType
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(name: str, incident: Incident | None = None) -> str:
    if incident is None:
        return reverse(f"api:incident-{name}")
    return reverse(f"api:incident-{name}", args=[incident.pk])


def raise_incident(requester, *, by=None, team=None, title="VPN drops every hour", **fields):
    return incident_create(
        requester=requester, by=by or requester, title=title, team=team, **fields
    )


@pytest.fixture
def incident(requester, agent, network_team):
    """Raised by the requester, routed to the Network team, nobody assigned yet."""
    return raise_incident(requester, by=agent, team=network_team)


@pytest.fixture
def resolved_incident(incident, agent):
    return incident_transition(
        incident=incident,
        by=agent,
        target=IncidentStatus.RESOLVED,
        resolution_code=ResolutionCode.FIXED,
        resolution_notes="Replaced the faulty switch port.",
    )


# ------------------------------------------------------------------ create
def test_requester_creates_incident_for_themself_over_api(requester, other_requester):
    # given a requester who tries to set agent-only fields
    payload = {
        "title": "Printer on floor 2 jams",
        "description": "Every second page.",
        "impact": "high",
        "urgency": "high",
        "requester": other_requester.pk,
        "channel": "phone",
    }
    # when
    response = api(requester).post(url("list"), payload, format="json")
    # then the incident is theirs, from the API channel, at medium impact
    assert response.status_code == 201, response.data
    body = response.json()
    assert re.fullmatch(r"INC\d{7}", body["number"])
    assert body["requester"]["id"] == requester.pk
    assert body["channel"] == "api"
    assert body["impact"] == "medium"
    assert body["urgency"] == "high"
    assert body["status"] == "new"
    assert "assignment_reason" not in body
    assert "routing_reason" not in body
    assert response["ETag"] == f'"{body["version"]}"'
    assert Incident.objects.get(pk=body["id"]).ticket.created_by == requester


def test_agent_creates_incident_for_a_caller(agent, requester, network_team):
    # given
    payload = {
        "title": "Core switch down",
        "impact": "high",
        "urgency": "high",
        "requester": requester.pk,
        "channel": "phone",
        "team": network_team.pk,
    }
    # when
    response = api(agent).post(url("list"), payload, format="json")
    # then
    assert response.status_code == 201, response.data
    body = response.json()
    assert body["requester"]["id"] == requester.pk
    assert body["channel"] == "phone"
    assert body["team"] == {"id": network_team.pk, "name": "Network"}
    assert body["priority"] == 1
    assert body["routing_reason"]["source"] == "manual"
    assert "assignment_reason" in body
    assert Ticket.objects.get(pk=body["id"]).created_by == agent


def test_create_with_unknown_service_is_a_field_error(requester):
    response = api(requester).post(url("list"), {"title": "x", "service": 999999}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == PROBLEM_KEYS
    assert "service" in response.json()["errors"]


def test_create_with_subcategory_of_another_category_is_a_field_error(requester):
    # given
    hardware = Category.objects.create(name="Hardware")
    network = Category.objects.create(name="Network")
    wifi = Category.objects.create(name="Wi-Fi", parent=network)
    payload = {"title": "No Wi-Fi", "category": hardware.pk, "subcategory": wifi.pk}
    # when
    response = api(requester).post(url("list"), payload, format="json")
    # then
    assert response.status_code == 400
    assert "subcategory" in response.json()["errors"]


# ------------------------------------------------------------------ read
def test_requester_lists_only_their_own_incidents(requester, other_requester, agent, network_team):
    # given
    own = raise_incident(requester, by=agent, team=network_team)
    raise_incident(other_requester, by=agent, team=network_team)
    # when
    response = api(requester).get(url("list"))
    # then
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [own.pk]


def test_agent_lists_their_teams_incidents_but_not_other_teams(
    requester, other_requester, agent, network_team, database_team
):
    # given
    first = raise_incident(requester, by=agent, team=network_team)
    second = raise_incident(other_requester, by=agent, team=network_team)
    raise_incident(requester, by=agent, team=database_team)
    # when
    response = api(agent).get(url("list"))
    # then newest first
    assert [row["id"] for row in response.json()["results"]] == [second.pk, first.pk]


def test_list_filters_by_status_assignee_and_text(requester, agent, network_team):
    # given
    vpn = raise_incident(requester, by=agent, team=network_team, title="VPN drops")
    mail = raise_incident(requester, by=agent, team=network_team, title="Mail is slow")
    api(agent).post(url("assign", mail), {"assignee": "me"}, format="json")
    client = api(agent)
    # when / then
    assert _ids(client.get(url("list"), {"status": "in_progress"})) == [mail.pk]
    assert _ids(client.get(url("list"), {"assignee": "unassigned"})) == [vpn.pk]
    assert _ids(client.get(url("list"), {"assignee": "me"})) == [mail.pk]
    assert _ids(client.get(url("list"), {"q": vpn.ticket.number})) == [vpn.pk]
    assert _ids(client.get(url("list"), {"q": "slow"})) == [mail.pk]
    assert client.get(url("list"), {"team": 999999}).status_code == 400


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.data
    return [row["id"] for row in response.json()["results"]]


def test_requester_gets_404_for_someone_elses_incident(other_requester, incident):
    response = api(other_requester).get(url("detail", incident))

    assert response.status_code == 404
    assert set(response.json()) == PROBLEM_KEYS


def test_retrieve_sends_etag_and_hides_explanations_from_requester(requester, agent, incident):
    as_requester = api(requester).get(url("detail", incident))
    as_agent = api(agent).get(url("detail", incident))

    assert as_requester["ETag"] == f'"{incident.ticket.version}"'
    assert "assignment_reason" not in as_requester.json()
    assert "assignment_reason" in as_agent.json()
    assert as_agent.json()["allowed_transitions"] == [
        "in_progress",
        "on_hold",
        "resolved",
        "cancelled",
    ]


def test_list_query_count_does_not_grow_with_rows(requester, agent, network_team):
    # given
    client = api(agent)
    for _ in range(10):
        raise_incident(requester, by=agent, team=network_team)
    client.get(url("list"))  # warm the per-user caches (roles, teams)
    # when
    with CaptureQueriesContext(connection) as ten:
        response_ten = client.get(url("list"), {"page_size": 100})
    for _ in range(40):
        raise_incident(requester, by=agent, team=network_team)
    with CaptureQueriesContext(connection) as fifty:
        response_fifty = client.get(url("list"), {"page_size": 100})
    # then
    assert len(response_ten.json()["results"]) == 10
    assert len(response_fifty.json()["results"]) == 50
    assert len(fifty) == len(ten)


# ------------------------------------------------------------------ update
def test_requester_cannot_patch_their_incident(requester, incident):
    response = api(requester).patch(url("detail", incident), {"title": "Mine"}, format="json")

    assert response.status_code == 403


def test_agent_patches_descriptive_fields_and_gets_new_etag(agent, incident):
    # given
    version = incident.ticket.version
    # when
    response = api(agent).patch(
        url("detail", incident),
        {"title": "VPN drops every 10 minutes", "urgency": "high"},
        format="json",
        HTTP_IF_MATCH=f'"{version}"',
    )
    # then
    assert response.status_code == 200, response.data
    body = response.json()
    assert body["title"] == "VPN drops every 10 minutes"
    assert body["urgency"] == "high"
    assert body["priority"] == 2
    assert body["version"] > version
    assert response["ETag"] == f'"{body["version"]}"'


@pytest.mark.parametrize("send_version_as", ["if-match", "field"])
def test_patch_with_stale_version_is_412_and_changes_nothing(agent, incident, send_version_as):
    # given someone else saved after we read the incident
    read_version = incident.ticket.version
    incident_update(incident=incident, by=agent, title="Renamed meanwhile")
    payload = {"title": "My edit"}
    headers = {}
    if send_version_as == "if-match":
        headers["HTTP_IF_MATCH"] = f'"{read_version}"'
    else:
        payload["version"] = read_version
    # when
    response = api(agent).patch(url("detail", incident), payload, format="json", **headers)
    # then
    assert response.status_code == 412
    assert set(response.json()) >= PROBLEM_KEYS
    assert response.json()["current_version"] == read_version + 1
    assert Ticket.objects.get(pk=incident.pk).title == "Renamed meanwhile"


def test_patch_with_malformed_if_match_is_400(agent, incident):
    response = api(agent).patch(
        url("detail", incident), {"title": "x"}, format="json", HTTP_IF_MATCH="banana"
    )

    assert response.status_code == 400
    assert "If-Match" in response.json()["errors"]


# ------------------------------------------------------------------ transitions
def test_agent_moves_incident_to_on_hold_with_a_reason(agent, incident):
    response = api(agent).post(
        url("transition", incident),
        {"target": "on_hold", "on_hold_reason": "awaiting_caller"},
        format="json",
    )

    assert response.status_code == 200, response.data
    assert response.json()["status"] == "on_hold"
    assert response.json()["state"] == "on_hold"
    assert response.json()["on_hold_reason"] == "awaiting_caller"


def test_transition_not_in_lifecycle_is_409_in_the_one_error_format(agent, incident):
    response = api(agent).post(url("transition", incident), {"target": "closed"}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert set(body) == PROBLEM_KEYS
    assert body["status"] == 409
    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.NEW


def test_resolve_without_resolution_code_is_400(agent, incident):
    response = api(agent).post(
        url("transition", incident),
        {"target": "resolved", "resolution_notes": "Rebooted"},
        format="json",
    )

    assert response.status_code == 400
    assert "resolution_code" in response.json()["errors"]


def test_requester_confirming_resolution_closes_incident(requester, resolved_incident):
    response = api(requester).post(
        url("transition", resolved_incident), {"target": "closed"}, format="json"
    )

    assert response.status_code == 200, response.data
    assert response.json()["status"] == "closed"
    assert response.json()["closed_at"] is not None


def test_requester_reopens_resolved_incident_with_a_reason(requester, resolved_incident):
    # when
    response = api(requester).post(
        url("transition", resolved_incident),
        {"target": "in_progress", "note": "Still dropping."},
        format="json",
    )
    # then
    assert response.status_code == 200, response.data
    assert response.json()["status"] == "in_progress"
    codes = TicketEvent.objects.filter(ticket_id=resolved_incident.pk, type=EventType.SYSTEM)
    assert "reopened" in [e.data.get("code") for e in codes]


def test_requester_withdraws_their_new_incident(requester, incident):
    response = api(requester).post(
        url("transition", incident), {"target": "cancelled"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


@pytest.mark.parametrize("target", ["in_progress", "on_hold", "resolved", "closed"])
def test_requester_cannot_otherwise_move_a_new_incident(requester, incident, target):
    response = api(requester).post(url("transition", incident), {"target": target}, format="json")

    assert response.status_code == 403


# ------------------------------------------------------------------ assignment, priority, major
def test_agent_assigns_incident_to_me(agent, incident):
    response = api(agent).post(url("assign", incident), {"assignee": "me"}, format="json")

    assert response.status_code == 200, response.data
    assert response.json()["assignee"]["id"] == agent.pk
    assert response.json()["status"] == "in_progress"
    assert response.json()["assignment_reason"]["method"] == "manual"


def test_assigning_someone_outside_the_team_is_a_field_error(agent, other_agent, incident):
    response = api(agent).post(url("assign", incident), {"assignee": other_agent.pk}, format="json")

    assert response.status_code == 400
    assert "assignee" in response.json()["errors"]


def test_assigning_an_unknown_user_is_a_field_error(agent, incident):
    response = api(agent).post(url("assign", incident), {"assignee": 999999}, format="json")

    assert response.status_code == 400
    assert "assignee" in response.json()["errors"]


def test_priority_override_needs_a_reason(agent, incident):
    response = api(agent).post(url("priority", incident), {"priority": 1}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    assert Ticket.objects.get(pk=incident.pk).priority == 3


def test_priority_override_records_the_reason(agent, incident):
    # when
    response = api(agent).post(
        url("priority", incident), {"priority": 1, "reason": "CEO cannot join calls"}, format="json"
    )
    # then
    assert response.status_code == 200, response.data
    body = response.json()
    assert body["priority"] == 1
    assert body["priority_reason"]["source"] == "override"
    assert body["priority_reason"]["reason"] == "CEO cannot join calls"
    change = TicketEvent.objects.get(
        ticket_id=incident.pk, type=EventType.FIELD_CHANGED, data__field="priority"
    )
    assert change.body == "CEO cannot join calls"


def test_agent_flags_major_incident(agent, incident):
    response = api(agent).post(url("major", incident), {"is_major": True}, format="json")

    assert response.status_code == 200
    assert response.json()["is_major"] is True


# ------------------------------------------------------------------ conversation and journal
def test_requester_cannot_post_a_work_note(requester, incident):
    response = api(requester).post(url("work-note", incident), {"body": "psst"}, format="json")

    assert response.status_code == 403
    assert not TicketEvent.objects.filter(ticket_id=incident.pk, type=EventType.WORK_NOTE).exists()


def test_requester_comments_on_their_incident(requester, incident):
    response = api(requester).post(url("comment", incident), {"body": "Any news?"}, format="json")

    assert response.status_code == 201
    assert response.json()["type"] == "comment"
    assert response.json()["public"] is True


def test_journal_hides_work_notes_from_the_requester(requester, agent, incident):
    # given
    incident_comment(incident=incident, by=agent, body="Looking at the switch", public=False)
    incident_comment(incident=incident, by=agent, body="We are on it.", public=True)
    # when
    as_requester = api(requester).get(url("journal", incident))
    as_agent = api(agent).get(url("journal", incident))
    # then
    assert as_requester.status_code == 200
    requester_types = [e["type"] for e in as_requester.json()["results"]]
    agent_types = [e["type"] for e in as_agent.json()["results"]]
    assert "work_note" not in requester_types
    assert "comment" in requester_types
    assert "work_note" in agent_types
    assert as_agent.json()["count"] > as_requester.json()["count"]


# ------------------------------------------------------------------ permission matrix
ACTIONS = {
    "retrieve": ("get", "detail", None, 200),
    "patch": ("patch", "detail", {"title": "Renamed"}, 200),
    "transition": ("post", "transition", {"target": "in_progress"}, 200),
    "assign": ("post", "assign", {"team": "database"}, 200),
    "priority": ("post", "priority", {"priority": 2, "reason": "Whole floor"}, 200),
    "comment": ("post", "comment", {"body": "Hello"}, 201),
    "work-note": ("post", "work-note", {"body": "Internal"}, 201),
    "major": ("post", "major", {"is_major": True}, 200),
    "journal": ("get", "journal", None, 200),
}
#: What the incident's own requester may do; everything else is 403 for them.
REQUESTER_MAY = {"retrieve", "comment", "journal"}
#: Personas who cannot see a Network-team incident raised by `requester`.
HIDDEN_FROM = {"other_requester", "other_agent"}


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize(
    "persona", ["requester", "other_requester", "agent", "other_agent", "manager"]
)
def test_api_permission_matrix(request, persona, action, incident, database_team):
    # given
    user = request.getfixturevalue(persona)
    method, name, payload, ok = ACTIONS[action]
    if payload and payload.get("team") == "database":
        payload = {"team": database_team.pk}
    if persona in HIDDEN_FROM:
        expected = 404
    elif persona == "requester":
        expected = ok if action in REQUESTER_MAY else 403
    else:
        expected = ok
    # when
    response = getattr(api(user), method)(url(name, incident), payload, format="json")
    # then
    assert response.status_code == expected, response.data


# ------------------------------------------------------------------ schema
def test_openapi_schema_for_incidents_is_valid():
    generator = SchemaGenerator()

    schema = generator.get_schema(request=None, public=True)

    validate_schema(schema)
    assert "/api/v1/incidents/{id}/work-note/" in schema["paths"]
