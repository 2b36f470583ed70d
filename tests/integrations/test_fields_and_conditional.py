"""`?fields=`/`?expand=` on every ticket kind's API (requests, tasks, changes, beside incidents
and tickets in test_conventions), and conditional GET: the detail ETag sent back in
If-None-Match answers 304 while the ticket is unchanged, 200 with the new ETag after a write."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from changes.services import change_create
from incidents.services import incident_create, incident_update
from servicerequests.models import FulfilmentTask
from servicerequests.services import service_request_submit
from tests.factories import ServiceFactory
from tests.servicerequests.builders import make_item

from .conftest import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail():
    return ServiceFactory(name="E-mail", description="Mailboxes and calendars")


@pytest.fixture
def agent_client(agent, make_token) -> APIClient:
    return bearer(make_token(agent))


@pytest.fixture
def requester_client(requester, make_token) -> APIClient:
    return bearer(make_token(requester))


@pytest.fixture
def mailbox_request(requester, network_team, mail):
    """A shared-mailbox order with one task for the network team, about the e-mail service."""
    item = make_item(
        name="Shared mailbox",
        service=mail,
        fulfilment_team=network_team,
        tasks=[{"title": "Create the mailbox", "team": network_team}],
    )
    return service_request_submit(item=item, by=requester, answers={})


@pytest.fixture
def change(agent, network_team, mail):
    vpn = ServiceFactory(name="VPN", description="Remote access")
    return change_create(
        by=agent, title="Patch the mail relay", team=network_team, services=[mail, vpn]
    )


# ------------------------------------------------------------------ service requests
def test_request_fields_keeps_only_the_fields_asked_for(requester_client, mailbox_request):
    listed = requester_client.get("/api/v1/requests/?fields=id,number,nope")
    one = requester_client.get(f"/api/v1/requests/{mailbox_request.pk}/?fields=status,version")

    assert listed.status_code == 200, listed.json()
    assert listed.json()["results"] == [
        {"id": mailbox_request.pk, "number": mailbox_request.ticket.number}
    ]
    assert set(one.json()) == {"status", "version"}


def test_request_expand_service_gives_the_whole_service(requester_client, mailbox_request, mail):
    url = f"/api/v1/requests/{mailbox_request.pk}/"
    plain = requester_client.get(url).json()["service"]
    expanded = requester_client.get(f"{url}?expand=service").json()["service"]

    assert plain == {"id": mail.pk, "name": "E-mail"}
    assert expanded["id"] == mail.pk
    assert expanded["description"] == "Mailboxes and calendars"


def test_request_list_expand_costs_no_query_per_row(requester_client, requester, mailbox_request):
    item = mailbox_request.item

    def count(n: int) -> int:
        for _ in range(n - _requests_of(requester)):
            service_request_submit(item=item, by=requester, answers={})
        with CaptureQueriesContext(connection) as ctx:
            response = requester_client.get(f"/api/v1/requests/?expand=service&page_size={n}")
        assert len(response.json()["results"]) == n
        assert response.json()["results"][0]["service"]["description"]
        return len(ctx.captured_queries)

    requester_client.get("/api/v1/requests/")  # the token's last use is stamped once a minute
    assert count(2) == count(6)


def _requests_of(user) -> int:
    from servicerequests.models import ServiceRequest

    return ServiceRequest.objects.filter(ticket__requester=user).count()


# ------------------------------------------------------------------ fulfilment tasks
def test_task_fields_and_expand(agent_client, mailbox_request, mail):
    task = FulfilmentTask.objects.get(request=mailbox_request)

    listed = agent_client.get("/api/v1/tasks/?fields=number,service")
    one = agent_client.get(f"/api/v1/tasks/{task.pk}/?expand=service&fields=id,service")

    assert listed.status_code == 200, listed.json()
    assert listed.json()["results"] == [
        {"number": task.ticket.number, "service": {"id": mail.pk, "name": "E-mail"}}
    ]
    assert one.json()["id"] == task.pk
    assert set(one.json()) == {"id", "service"}
    assert one.json()["service"]["description"] == "Mailboxes and calendars"


# ------------------------------------------------------------------ changes
def test_change_fields_keeps_only_the_fields_asked_for(agent_client, change):
    listed = agent_client.get("/api/v1/changes/?fields=id,status")
    one = agent_client.get(f"/api/v1/changes/{change.pk}/?fields=number")

    assert listed.json()["results"] == [{"id": change.pk, "status": change.status}]
    assert one.json() == {"number": change.ticket.number}


def test_change_expand_services_gives_whole_services(agent_client, change):
    url = f"/api/v1/changes/{change.pk}/"
    plain = agent_client.get(url).json()["services"]
    expanded = agent_client.get(f"{url}?expand=services").json()["services"]

    assert sorted(s["name"] for s in plain) == ["E-mail", "VPN"]
    assert all(set(s) == {"id", "name"} for s in plain)
    assert sorted(s["description"] for s in expanded) == [
        "Mailboxes and calendars",
        "Remote access",
    ]


def test_change_expand_template_gives_the_whole_template(agent_client, agent, network_team):
    from changes.models import StandardChangeTemplate

    template = StandardChangeTemplate.objects.create(
        name="Add a VPN group",
        implementation_plan="Add the group to the policy.",
        backout_plan="Remove it again.",
        team=network_team,
    )
    created = change_create(by=agent, title="Group for finance", template=template)
    url = f"/api/v1/changes/{created.pk}/"

    plain = agent_client.get(url).json()["template"]
    expanded = agent_client.get(f"{url}?expand=template").json()["template"]

    assert plain == {"id": template.pk, "name": "Add a VPN group"}
    assert expanded["implementation_plan"] == "Add the group to the policy."


def test_the_schema_documents_fields_and_expand_on_every_kind(agent_client):
    schema = agent_client.get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/requests/",
        "/api/v1/requests/{id}/",
        "/api/v1/tasks/",
        "/api/v1/tasks/{id}/",
        "/api/v1/changes/",
        "/api/v1/changes/{id}/",
    ):
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert {"fields", "expand"} <= names, path


# ------------------------------------------------------------------ conditional GET
def _detail_urls(incident, mailbox_request, change) -> dict[str, str]:
    task = FulfilmentTask.objects.get(request=mailbox_request)
    return {
        "incident": f"/api/v1/incidents/{incident.pk}/",
        "request": f"/api/v1/requests/{mailbox_request.pk}/",
        "task": f"/api/v1/tasks/{task.pk}/",
        "change": f"/api/v1/changes/{change.pk}/",
        "ticket": f"/api/v1/tickets/{incident.ticket.number}/",
    }


@pytest.fixture
def incident(requester, network_team):
    return incident_create(requester=requester, by=requester, title="VPN drops", team=network_team)


def test_every_detail_answers_304_to_its_current_etag(
    agent_client, incident, mailbox_request, change
):
    for kind, url in _detail_urls(incident, mailbox_request, change).items():
        first = agent_client.get(url)
        assert first.status_code == 200, (kind, first.content)
        etag = first["ETag"]
        assert etag == f'"{first.json()["version"]}"', kind

        again = agent_client.get(url, HTTP_IF_NONE_MATCH=etag)
        weak_in_a_list = agent_client.get(url, HTTP_IF_NONE_MATCH=f'"999", W/{etag}')

        assert again.status_code == 304, (kind, again.content)
        assert again.content == b"", kind
        assert again["ETag"] == etag, kind
        assert weak_in_a_list.status_code == 304, kind


def test_a_changed_ticket_answers_200_with_the_new_etag(agent_client, agent, incident):
    url = f"/api/v1/incidents/{incident.pk}/"
    old = agent_client.get(url)["ETag"]
    incident_update(incident=incident, by=agent, title="VPN drops every hour")

    response = agent_client.get(url, HTTP_IF_NONE_MATCH=old)

    assert response.status_code == 200
    assert response["ETag"] != old
    assert response.json()["title"] == "VPN drops every hour"


def test_a_stale_or_foreign_etag_answers_200(agent_client, incident):
    url = f"/api/v1/incidents/{incident.pk}/"
    for header in ('"999"', "garbage", ""):
        response = agent_client.get(url, HTTP_IF_NONE_MATCH=header)
        assert response.status_code == 200, header
        assert response.json()["id"] == incident.pk


def test_a_hidden_ticket_is_404_whatever_the_etag(other_requester, make_token, incident):
    client = bearer(make_token(other_requester))
    response = client.get(f"/api/v1/incidents/{incident.pk}/", HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 404


def test_the_schema_documents_if_none_match_and_304(agent_client):
    schema = agent_client.get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/incidents/{id}/",
        "/api/v1/requests/{id}/",
        "/api/v1/tasks/{id}/",
        "/api/v1/changes/{id}/",
        "/api/v1/tickets/{number}/",
    ):
        operation = schema["paths"][path]["get"]
        assert "If-None-Match" in {p["name"] for p in operation["parameters"]}, path
        assert "304" in operation["responses"], path
        assert "ETag" in operation["responses"]["200"].get("headers", {}), path


# ------------------------------------------------------------------ lists without ?expand=
def _queries(client: APIClient, url: str, n: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.json()["results"]) == n
    return len(ctx.captured_queries)


def test_plain_ticket_and_task_lists_cost_no_query_per_row(
    agent_client, agent, requester, network_team, mail
):
    item = make_item(
        name="Mailbox", service=mail, tasks=[{"title": "Create", "team": network_team}]
    )
    agent_client.get("/api/v1/tickets/")  # the token's last use is stamped once a minute

    def counts(n: int) -> tuple[int, int]:
        while FulfilmentTask.objects.count() < n:
            service_request_submit(item=item, by=requester, answers={})
        for task in FulfilmentTask.objects.filter(ticket__assignee__isnull=True):
            task.ticket.assignee = agent
            task.ticket.save(update_fields=["assignee"])
        return (
            _queries(agent_client, f"/api/v1/tasks/?page_size={n}", n),
            _queries(agent_client, f"/api/v1/tickets/?kind=task&page_size={n}", n),
        )

    assert counts(2) == counts(7)
