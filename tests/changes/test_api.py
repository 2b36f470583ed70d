"""The change API: visibility, CRUD through services, transitions, approvals, conflicts for a
proposed window, blackout windows, one error format, constant queries, a valid schema."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from changes.models import BlackoutWindow, Change
from tickets.models import Approval

from .conftest import window

pytestmark = pytest.mark.django_db

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def detail(change, action=""):
    return f"/api/v1/changes/{change.pk}/" + (f"{action}/" if action else "")


# ------------------------------------------------------------------ reads
def test_list_shows_only_visible_changes(make_change, agent, other_agent, database_team):
    mine = make_change(title="Mine")
    make_change(title="Theirs", team=database_team, by=other_agent)
    response = api(agent).get("/api/v1/changes/")
    assert response.status_code == 200
    assert [c["number"] for c in response.json()["results"]] == [mine.ticket.number]


def test_a_hidden_change_answers_404(make_change, other_agent, database_team, agent):
    theirs = make_change(team=database_team, by=other_agent)
    response = api(agent).get(detail(theirs))
    assert response.status_code == 404
    assert set(response.json()) >= PROBLEM_KEYS


def test_filters_by_type_risk_service_and_window(make_change, agent, erp, change_manager):
    vpn_change = make_change(title="VPN", when=window(days=2))
    make_change(title="ERP", services_=[erp], type="emergency", when=window(days=9))
    client = api(agent)

    def numbers(**params):
        return [c["title"] for c in client.get("/api/v1/changes/", params).json()["results"]]

    assert numbers(type="emergency") == ["ERP"]
    assert numbers(service=erp.pk) == ["ERP"]
    assert numbers(risk="high") == []
    start, end = window(days=2)
    assert numbers(window_after=start.isoformat(), window_before=end.isoformat()) == ["VPN"]
    assert vpn_change.ticket.title == "VPN"


def test_list_queries_do_not_grow_with_the_page(make_change, advance, agent):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = api(agent).get("/api/v1/changes/?page_size=100")
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.json()["results"])

    for _ in range(3):
        advance(make_change(), "authorize")
    count()  # the user object caches its roles and teams on the first request
    few, n = count()
    for _ in range(12):
        advance(make_change(), "authorize")
    many, m = count()
    assert (n, m) == (3, 15)
    assert many == few


# ------------------------------------------------------------------ writes
def test_agents_create_changes_and_requesters_cannot(agent, requester, vpn):
    body = {"title": "Replace the VPN concentrator", "services": [vpn.pk], "impact": "high"}
    response = api(agent).post("/api/v1/changes/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["number"].startswith("CHG")
    assert (data["status"], data["type"], data["priority"]) == ("draft", "normal", 2)
    assert data["services"] == [{"id": vpn.pk, "name": "VPN"}]
    assert response["ETag"] == f'"{data["version"]}"'
    assert api(requester).post("/api/v1/changes/", body, format="json").status_code == 403


def test_a_standard_change_from_the_api_takes_the_template(agent, template):
    response = api(agent).post(
        "/api/v1/changes/", {"title": "Give sales VPN", "template": template.pk}, format="json"
    )
    assert response.status_code == 201
    data = response.json()
    assert (data["type"], data["template"]["id"]) == ("standard", template.pk)
    assert data["implementation_plan"] == template.implementation_plan


def test_bad_input_gets_the_one_error_format(agent):
    response = api(agent).post("/api/v1/changes/", {"title": ""}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert "title" in body["errors"]


def test_patch_with_a_stale_version_is_412(make_change, agent):
    change = make_change()
    client = api(agent)
    version = change.ticket.version
    ok = client.patch(
        detail(change), {"title": "New title"}, format="json", HTTP_IF_MATCH=f'"{version}"'
    )
    assert ok.status_code == 200
    stale = client.patch(
        detail(change), {"title": "Other"}, format="json", HTTP_IF_MATCH=f'"{version}"'
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == version + 1


def test_transitions_and_their_errors(make_change, agent):
    change = make_change()
    client = api(agent)
    response = client.post(detail(change, "transition"), {"target": "assess"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "assess"
    wrong = client.post(detail(change, "transition"), {"target": "closed"}, format="json")
    assert wrong.status_code == 409
    assert wrong.json()["title"] == "Transition not allowed"


def test_the_whole_cab_round_through_the_api(make_change, advance, agent, change_manager, cab):
    # given: assessed, the change manager sends it to two CAB members
    change = advance(make_change(when=window()), "assess")
    sent = api(change_manager).post(
        detail(change, "transition"),
        {"target": "authorize", "approvers": [cab[0].pk, cab[1].pk], "note": "Ready"},
        format="json",
    )
    assert sent.status_code == 200
    assert [a["decision"] for a in sent.json()["approvals"]] == ["approved", "pending", "pending"]
    # when: one CAB member approves (low risk: any one) from the API, without being an agent
    assert api(cab[2]).post(detail(change, "decision"), {"decision": "approved"}).status_code in (
        403,
        404,
    )
    voted = api(cab[0]).post(detail(change, "decision"), {"decision": "approved", "comment": "ok"})
    # then
    assert voted.status_code == 200
    assert voted.json()["authorised_at"] is not None
    scheduled = api(agent).post(detail(change, "transition"), {"target": "scheduled"})
    assert scheduled.json()["status"] == "scheduled"


def test_a_rejection_needs_a_comment(make_change, advance, cab):
    change = advance(make_change(), "authorize", approvers=[cab[0]])
    response = api(cab[0]).post(detail(change, "decision"), {"decision": "rejected"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"comment": ["Say why you reject the change."]}


def test_risk_questionnaire_and_override(make_change, agent, change_manager, questions):
    change = make_change()
    answers = [{"question": questions[0].pk, "answer": True}]
    response = api(agent).post(detail(change, "risk"), {"answers": answers}, format="json")
    assert (response.json()["risk"], response.json()["risk_score"]) == ("moderate", 30)
    assert (
        api(agent)
        .post(detail(change, "risk-override"), {"risk": "high", "reason": "x"})
        .status_code
        == 403
    )
    response = api(change_manager).post(
        detail(change, "risk-override"), {"risk": "high", "reason": "Fragile kit"}
    )
    assert response.json()["risk"] == "high"
    assert response.json()["risk_overridden"] is True


def test_scheduling_into_a_conflict_answers_409_with_the_override_field(
    make_change, advance, agent, template
):
    when = window()
    advance(make_change(template=template, when=when), "scheduled")
    second = make_change(template=template, when=when)
    response = api(agent).post(detail(second, "transition"), {"target": "scheduled"})
    assert response.status_code == 409
    body = response.json()
    assert body["title"] == "Schedule conflict"
    assert "override_reason" in body["errors"]


def test_the_fixes_link(make_change, agent, requester):
    from incidents.services import incident_create

    incident = incident_create(requester=requester, by=requester, title="VPN flaps")
    change = make_change()
    response = api(agent).post(detail(change, "fixes"), {"incident": incident.ticket.number})
    assert response.status_code == 200
    missing = api(agent).post(detail(change, "fixes"), {"incident": "INC9999999"})
    assert missing.status_code == 404


def test_journal_and_comments(make_change, agent):
    change = make_change()
    client = api(agent)
    assert client.post(detail(change, "work-note"), {"body": "checked"}).status_code == 201
    entries = client.get(detail(change, "journal")).json()["results"]
    assert [e["type"] for e in entries] == ["created", "work_note"]


# ------------------------------------------------------------------ conflicts for a window
def test_conflicts_for_a_proposed_window(make_change, advance, agent, template, vpn, erp):
    start, end = window(hours=2)
    booked = advance(make_change(template=template, when=(start, end)), "scheduled")
    client = api(agent)

    def check(s, e, services):
        return client.get(
            "/api/v1/changes/conflicts/",
            {"start": s.isoformat(), "end": e.isoformat(), "services": services},
        )

    hit = check(start + timedelta(minutes=30), end, f"{vpn.pk},{erp.pk}").json()
    assert hit["has_conflicts"] is True
    assert [c["number"] for c in hit["changes"]] == [booked.ticket.number]
    assert check(end, end + timedelta(hours=1), str(vpn.pk)).json()["has_conflicts"] is False
    assert check(start, end, str(erp.pk)).json()["has_conflicts"] is False
    assert check(end, start, str(vpn.pk)).status_code == 400
    assert check(start, end, "vpn").status_code == 400


def test_conflicts_with_hidden_changes_are_counted_not_named(
    make_change, advance, template, other_agent, database_team, agent, vpn
):
    when = window()
    advance(
        make_change(template=template, when=when, team=database_team, by=other_agent),
        "scheduled",
    )
    body = (
        api(agent)
        .get(
            "/api/v1/changes/conflicts/",
            {"start": when[0].isoformat(), "end": when[1].isoformat(), "services": vpn.pk},
        )
        .json()
    )
    assert body["changes"] == []
    assert (body["hidden_changes"], body["has_conflicts"]) == (1, True)


def test_a_changes_own_conflicts(make_change, advance, template, agent):
    when = window()
    advance(make_change(template=template, when=when), "scheduled")
    proposed = make_change(template=template, when=when)
    body = api(agent).get(detail(proposed, "conflicts")).json()
    assert len(body["changes"]) == 1


# ------------------------------------------------------------------ blackout windows
def test_change_managers_define_blackouts_and_agents_read_them(
    change_manager, agent, requester, erp
):
    start, end = window(days=7, hours=6)
    body = {
        "name": "Quarter close",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "services": [erp.pk],
    }
    assert api(agent).post("/api/v1/blackout-windows/", body, format="json").status_code == 403
    created = api(change_manager).post("/api/v1/blackout-windows/", body, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["services"] == [{"id": erp.pk, "name": "ERP"}]
    listed = api(agent).get("/api/v1/blackout-windows/").json()["results"]
    assert [w["name"] for w in listed] == ["Quarter close"]
    assert api(requester).get("/api/v1/blackout-windows/").status_code == 403
    patched = api(change_manager).patch(
        f"/api/v1/blackout-windows/{pk}/", {"recurrence": "weekly"}, format="json"
    )
    assert patched.status_code == 200
    assert patched.json()["recurrence"] == "weekly"
    assert patched.json()["services"] == [{"id": erp.pk, "name": "ERP"}]
    bad = api(change_manager).patch(
        f"/api/v1/blackout-windows/{pk}/", {"end": start.isoformat()}, format="json"
    )
    assert bad.status_code == 400
    assert api(change_manager).delete(f"/api/v1/blackout-windows/{pk}/").status_code == 204
    assert not BlackoutWindow.objects.exists()


def test_templates_and_questions_are_listed(agent, template, questions):
    assert api(agent).get("/api/v1/change-templates/").json()["results"][0]["name"] == (
        template.name
    )
    assert len(api(agent).get("/api/v1/risk-questions/").json()) == 4


# ------------------------------------------------------------------ schema
def test_openapi_schema_for_changes_is_valid():
    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    validate_schema(schema)
    for path in (
        "/api/v1/changes/",
        "/api/v1/changes/{id}/transition/",
        "/api/v1/changes/{id}/decision/",
        "/api/v1/changes/conflicts/",
        "/api/v1/changes/calendar/",
        "/api/v1/blackout-windows/",
    ):
        assert path in schema["paths"]
    assert Change.objects.count() == 0
    assert Approval.objects.count() == 0
