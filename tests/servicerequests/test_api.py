"""The catalogue and request API: who may read what, ordering with validated answers,
cancel, approvals (list mine, decide), tasks, constant queries, the OpenAPI schema."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from catalogue.choices import Audience, VariableType
from servicerequests.choices import RequestStatus, TaskStatus
from servicerequests.models import FulfilmentTask, ServiceRequest
from servicerequests.services import service_request_submit
from tests.factories import OrganizationFactory
from tests.servicerequests.builders import make_item
from tickets.models import Approval, Ticket

pytestmark = pytest.mark.django_db
PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# ------------------------------------------------------------------ catalogue
def test_catalogue_lists_only_what_the_caller_may_order(requester, laptop, network_team):
    secret = make_item(name="Secret", audience=Audience.ORGANIZATIONS, fulfilment_team=network_team)
    secret.organizations.add(OrganizationFactory(name="Globex"))

    listing = api(requester).get("/api/v1/catalogue/items/").json()

    assert [i["name"] for i in listing["results"]] == ["Laptop"]
    assert api(requester).get(f"/api/v1/catalogue/items/{secret.pk}/").status_code == 404


def test_catalogue_item_detail_has_the_form_with_conditions(requester, laptop):
    item = api(requester).get(f"/api/v1/catalogue/items/{laptop.pk}/").json()

    ram = next(q for q in item["form"] if q["name"] == "ram")
    assert ram["condition"] == {"variable": "model", "operator": "equals", "value": "developer"}
    assert ram["choices"][0] == {"value": "16", "label": "16 GB"}
    assert item["approval"] == "The requester's manager"


def test_catalogue_search_and_category_filters(requester, laptop, network_team):
    make_item(name="Headset", fulfilment_team=network_team, description="noise cancelling")

    found = api(requester).get("/api/v1/catalogue/items/?q=noise").json()["results"]
    by_category = (
        api(requester)
        .get(f"/api/v1/catalogue/items/?category={laptop.category_id}")
        .json()["results"]
    )

    assert [i["name"] for i in found] == ["Headset"]
    assert [i["name"] for i in by_category] == ["Laptop"]


# ------------------------------------------------------------------ ordering
def test_order_with_valid_answers(requester, boss, laptop):
    response = api(requester).post(
        "/api/v1/requests/",
        {"item": laptop.pk, "answers": {"model": "developer", "ram": 64}},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == RequestStatus.AWAITING_APPROVAL
    assert body["answers"] == {"model": "developer", "ram": "64", "docking": False}
    assert body["approvals"][0]["approver"]["display_name"] == "Bea Boss"
    assert response["ETag"] == f'"{body["version"]}"'


def test_bad_answers_are_refused_field_by_field_and_nothing_is_stored(requester, laptop):
    response = api(requester).post(
        "/api/v1/requests/",
        {"item": laptop.pk, "answers": {"model": "developer", "docking": "perhaps", "x": 1}},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert set(body["errors"]) == {"answers.ram", "answers.docking", "answers.x"}
    assert not ServiceRequest.objects.exists()
    assert not Ticket.objects.exists()


def test_items_the_caller_may_not_order_are_refused(requester, network_team):
    secret = make_item(name="Secret", audience=Audience.GROUPS, fulfilment_team=network_team)

    response = api(requester).post("/api/v1/requests/", {"item": secret.pk}, format="json")

    assert response.status_code == 400
    assert "item" in response.json()["errors"]


def test_multipart_order_with_an_attached_file(requester, network_team):
    item = make_item(
        name="Contractor",
        fulfilment_team=network_team,
        variables=[
            {"name": "company", "label": "Company", "type": VariableType.TEXT, "required": True},
            {"name": "nda", "label": "NDA", "type": VariableType.ATTACHMENT, "required": True},
        ],
    )
    nda = SimpleUploadedFile("nda.pdf", b"%PDF-1.4", content_type="application/pdf")

    response = api(requester).post(
        "/api/v1/requests/",
        {"item": item.pk, "answers": json.dumps({"company": "Initech"}), "nda": nda},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["answers"]["nda"][0]["name"] == "nda.pdf"


# ------------------------------------------------------------------ reading and cancelling
def test_requests_are_visible_to_requester_team_and_approver_only(
    requester, other_requester, boss, agent, other_agent, laptop
):
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    url = f"/api/v1/requests/{request.pk}/"

    assert api(requester).get(url).status_code == 200
    assert api(boss).get(url).status_code == 200  # the approver
    assert api(agent).get(url).status_code == 200  # the fulfilment team
    assert api(other_requester).get(url).status_code == 404
    assert api(other_agent).get(url).status_code == 404


def test_requester_cancels_and_agent_needs_a_reason(requester, agent, network_team):
    item = make_item(name="Mouse", fulfilment_team=network_team)
    request = service_request_submit(item=item, by=requester, answers={})

    refused_requester = api(requester).post(f"/api/v1/requests/{request.pk}/cancel/", {})
    refused_agent = api(agent).post(f"/api/v1/requests/{request.pk}/cancel/", {})
    done = api(agent).post(
        f"/api/v1/requests/{request.pk}/cancel/", {"reason": "Ordered twice"}, format="json"
    )

    assert refused_requester.status_code == 403  # fulfilment has started
    assert refused_agent.status_code == 400
    assert refused_agent.json()["errors"] == {"reason": ["Say why the request is cancelled."]}
    assert done.status_code == 200
    assert done.json()["status"] == RequestStatus.CANCELLED


def test_list_runs_constant_queries(requester, network_team, django_assert_max_num_queries):
    item = make_item(
        name="Two",
        fulfilment_team=network_team,
        tasks=[{"title": "A", "waits_for_previous": False}, {"title": "B"}],
    )
    for _ in range(12):
        service_request_submit(item=item, by=requester, answers={})
    with django_assert_max_num_queries(8):
        response = api(requester).get("/api/v1/requests/?page_size=50")
    assert len(response.json()["results"]) == 12


# ------------------------------------------------------------------ approvals
def test_approvals_list_mine_and_decide(requester, boss, other_requester, laptop):
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    approval = Approval.objects.get(ticket_id=request.pk)

    mine = api(boss).get("/api/v1/approvals/").json()["results"]
    nobody = api(other_requester).get("/api/v1/approvals/").json()["results"]
    forbidden = api(other_requester).post(
        f"/api/v1/approvals/{approval.pk}/decide/", {"decision": "approve"}, format="json"
    )
    reject_without_reason = api(boss).post(
        f"/api/v1/approvals/{approval.pk}/decide/", {"decision": "reject"}, format="json"
    )
    decided = api(boss).post(
        f"/api/v1/approvals/{approval.pk}/decide/", {"decision": "approve"}, format="json"
    )
    again = api(boss).post(
        f"/api/v1/approvals/{approval.pk}/decide/", {"decision": "approve"}, format="json"
    )

    assert [a["request"]["number"] for a in mine] == [request.ticket.number]
    assert mine[0]["request"]["answers_display"][0]["text"] == "Standard laptop"
    assert nobody == []
    assert forbidden.status_code == 404
    assert reject_without_reason.status_code == 400
    assert decided.status_code == 200
    assert decided.json()["decision"] == "approved"
    assert again.status_code == 403  # no longer decidable
    decided_list = api(boss).get("/api/v1/approvals/?state=decided").json()["results"]
    assert [a["id"] for a in decided_list] == [approval.pk]
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_FULFILMENT


# ------------------------------------------------------------------ tasks
def test_tasks_are_worked_through_the_api(requester, agent, other_agent, network_team):
    item = make_item(name="Mouse", fulfilment_team=network_team)
    request = service_request_submit(item=item, by=requester, answers={})
    task = FulfilmentTask.objects.get(request=request)

    listing = api(agent).get("/api/v1/tasks/").json()["results"]
    hidden = api(other_agent).get(f"/api/v1/tasks/{task.pk}/")
    requester_try = api(requester).post(
        f"/api/v1/tasks/{task.pk}/transition/", {"target": "done"}, format="json"
    )
    done = api(agent).post(
        f"/api/v1/tasks/{task.pk}/transition/", {"target": TaskStatus.DONE}, format="json"
    )

    assert [t["number"] for t in listing] == [task.ticket.number]
    assert hidden.status_code == 404
    assert requester_try.status_code in (403, 404)
    assert done.status_code == 200
    assert done.json()["status"] == TaskStatus.DONE
    request.refresh_from_db()
    assert request.status == RequestStatus.FULFILLED


def test_stale_task_version_is_refused(requester, agent, network_team):
    item = make_item(name="Mouse", fulfilment_team=network_team)
    request = service_request_submit(item=item, by=requester, answers={})
    task = FulfilmentTask.objects.get(request=request)

    response = api(agent).post(
        f"/api/v1/tasks/{task.pk}/transition/",
        {"target": "in_progress"},
        format="json",
        HTTP_IF_MATCH='"999"',
    )

    assert response.status_code == 412


def test_schema_is_valid_and_lists_the_new_endpoints():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    for path in (
        "/api/v1/catalogue/items/{id}/",
        "/api/v1/requests/",
        "/api/v1/requests/{id}/cancel/",
        "/api/v1/approvals/{id}/decide/",
        "/api/v1/tasks/{id}/transition/",
    ):
        assert path in schema["paths"], path
