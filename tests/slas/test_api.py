"""SLA API: clocks follow ticket visibility (hidden → empty list / 404, never a leak),
requesters get the reduced form, policies and calendars are for agents; the schema validates."""

from datetime import UTC, date, datetime, timedelta

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from incidents.services import incident_create
from slas.models import BusinessCalendar, Holiday, SlaPolicy
from slas.services import sla_sweep

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def calendar():
    calendar = BusinessCalendar.objects.create(
        name="24x7", timezone="UTC", hours={str(d): [["00:00", "24:00"]] for d in range(7)}
    )
    Holiday.objects.create(calendar=calendar, date=date(2026, 12, 25), name="Christmas")
    return calendar


@pytest.fixture
def policies(calendar):
    common = {"kind": "incident", "calendar": calendar, "pause_statuses": ["on_hold"]}
    return [
        SlaPolicy.objects.create(name="Respond in 1 h", metric="response", target=H, **common),
        SlaPolicy.objects.create(
            name="Resolve in 4 h", metric="resolution", target=4 * H, **common
        ),
    ]


@pytest.fixture
def incident(requester, network_team, policies, time_machine):
    time_machine.move_to(T0, tick=False)
    return incident_create(requester=requester, by=requester, title="VPN down", team=network_team)


def test_agent_sees_clocks_with_numbers_segments_and_events(agent, incident, time_machine):
    time_machine.move_to(T0 + 2 * H, tick=False)
    sla_sweep(now=T0 + 2 * H)

    response = api(agent).get("/api/v1/sla-clocks/", {"ticket": incident.ticket.number})

    assert response.status_code == 200
    clocks = {c["metric"]: c for c in response.json()["results"]}
    assert set(clocks) == {"response", "resolution"}
    resolution = clocks["resolution"]
    assert resolution["ticket"] == incident.ticket.number
    assert resolution["policy"]["name"] == "Resolve in 4 h"
    assert resolution["calendar"]["name"] == "24x7"
    assert resolution["target_seconds"] == 4 * 3600
    assert resolution["worked_seconds"] == 2 * 3600
    assert resolution["left_seconds"] == 2 * 3600
    assert resolution["running"] is True
    assert resolution["match_reason"]["policy"] == "Resolve in 4 h"
    assert resolution["segments"] == [
        {
            "running": True,
            "started_at": "2026-03-02T09:00:00Z",
            "ended_at": None,
            "reason": "started",
        }
    ]
    breached = clocks["response"]
    assert breached["state"] == "breached"
    assert breached["left_seconds"] == -3600
    breach = next(e for e in breached["events"] if e["type"] == "breach")
    assert breach["planned_at"] == "2026-03-02T10:00:00Z"
    assert breach["recorded_at"] == "2026-03-02T11:00:00Z"
    assert breach["lateness_seconds"] == 3600


def test_clock_detail_and_filter_by_ticket(agent, incident, requester, network_team):
    other = incident_create(requester=requester, by=requester, title="Other", team=network_team)
    client = api(agent)

    listed = client.get("/api/v1/sla-clocks/", {"ticket": other.ticket.number}).json()["results"]

    assert {c["ticket"] for c in listed} == {other.ticket.number}
    detail = client.get(f"/api/v1/sla-clocks/{listed[0]['id']}/")
    assert detail.status_code == 200
    assert detail.json()["id"] == listed[0]["id"]


def test_requester_sees_only_the_reduced_form_of_their_own_clocks(requester, incident):
    results = api(requester).get("/api/v1/sla-clocks/").json()["results"]

    assert len(results) == 2
    assert all(set(c) == {"ticket", "metric", "state", "due_at"} for c in results)


def test_hidden_tickets_give_nothing(incident, other_requester, other_agent):
    for user in (other_requester, other_agent):
        client = api(user)
        listed = client.get("/api/v1/sla-clocks/", {"ticket": incident.ticket.number})
        assert listed.status_code == 200
        assert listed.json()["results"] == []
        clock_id = incident.ticket.sla_clocks.first().pk
        assert client.get(f"/api/v1/sla-clocks/{clock_id}/").status_code == 404


def test_anonymous_is_refused(incident):
    assert APIClient().get("/api/v1/sla-clocks/").status_code == 401  # not authenticated


def test_policies_and_calendars_are_for_agents(agent, requester, policies, calendar):
    client = api(agent)

    listed = client.get("/api/v1/sla-policies/")
    calendars = client.get("/api/v1/calendars/")

    assert listed.status_code == 200
    by_name = {p["name"]: p for p in listed.json()["results"]}
    assert set(by_name) == {"Respond in 1 h", "Resolve in 4 h"}
    assert by_name["Resolve in 4 h"]["target_seconds"] == 4 * 3600
    assert by_name["Resolve in 4 h"]["calendar"]["name"] == "24x7"
    assert calendars.status_code == 200
    assert calendars.json()["results"][0]["holidays"] == [
        {"date": "2026-12-25", "name": "Christmas"}
    ]
    assert client.post("/api/v1/sla-policies/", {}).status_code == 405
    for url in ("/api/v1/sla-policies/", "/api/v1/calendars/", f"/api/v1/calendars/{calendar.pk}/"):
        response = api(requester).get(url)
        assert response.status_code == 403
        assert response.json()["title"] == "Forbidden"


def test_clock_list_queries_do_not_grow(
    agent, requester, network_team, policies, django_assert_max_num_queries
):
    for i in range(3):
        incident_create(requester=requester, by=requester, title=f"x{i}", team=network_team)
    client = api(agent)
    client.get("/api/v1/sla-clocks/")
    for i in range(10):
        incident_create(requester=requester, by=requester, title=f"y{i}", team=network_team)
    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/sla-clocks/")
    assert response.json()["count"] == 26


def test_openapi_schema_with_slas_is_valid():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    validate_schema(schema)
    assert "/api/v1/sla-clocks/" in schema["paths"]
    assert "/api/v1/sla-policies/" in schema["paths"]
    assert "/api/v1/calendars/{id}/" in schema["paths"]
    params = {p["name"] for p in schema["paths"]["/api/v1/sla-clocks/"]["get"]["parameters"]}
    assert "ticket" in params
