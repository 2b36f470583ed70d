"""The desk API does what the queue page does: bulk actions, merge, saved views, counts."""

import pytest

from desk.models import SavedView
from incidents.models import Incident
from incidents.services import incident_comment, incident_create
from tickets.choices import LinkKind
from tickets.models import Ticket, TicketLink

pytestmark = pytest.mark.django_db


def raise_incident(requester, team, title):
    return incident_create(requester=requester, by=requester, title=title, team=team).ticket


def ref(ticket: Ticket) -> dict[str, int]:
    return {"id": ticket.pk, "version": ticket.version}


def test_bulk_through_the_api_reports_each_ticket(client, agent, requester, network_team):
    ok = raise_incident(requester, network_team, "One")
    stale = raise_incident(requester, network_team, "Two")
    seen = [ref(ok), ref(stale), {"id": 999999, "version": 1}]
    incident_comment(incident=Incident.objects.get(pk=stale.pk), by=requester, body="more")
    client.force_login(agent)
    response = client.post(
        "/api/v1/desk/bulk/",
        {"action": "assign", "assignee_me": True, "tickets": seen},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["summary"] == "1 updated, 2 refused."
    assert body["updated"] == [ok.number]
    assert {"number": stale.number, "reason": "changed by someone else since you loaded it"} in (
        body["refused"]
    )
    assert {"number": "#999999", "reason": "not found"} in body["refused"]
    assert Ticket.objects.get(pk=ok.pk).assignee == agent


def test_bulk_validation_names_the_missing_field(client, agent, requester, network_team):
    ticket = raise_incident(requester, network_team, "One")
    client.force_login(agent)
    response = client.post(
        "/api/v1/desk/bulk/",
        {"action": "tag", "tickets": [ref(ticket)]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "tag" in str(response.json())


def test_requesters_get_no_desk_api(client, requester, network_team):
    ticket = raise_incident(requester, network_team, "Mine")
    client.force_login(requester)
    payload = {"action": "tag", "tag": "x", "tickets": [ref(ticket)]}
    assert (
        client.post("/api/v1/desk/bulk/", payload, content_type="application/json").status_code
        == 403
    )
    assert client.get("/api/v1/desk/queues/").status_code == 403
    assert client.get("/api/v1/desk/views/").status_code == 403


def test_merge_through_the_api(client, agent, requester, other_requester, network_team):
    keep = raise_incident(requester, network_team, "Keep")
    dup = raise_incident(other_requester, network_team, "Dup")
    client.force_login(agent)
    response = client.post(
        "/api/v1/desk/merge/",
        {"target": keep.number, "tickets": [ref(dup)]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["updated"] == [dup.number]
    assert TicketLink.objects.filter(source=dup, target=keep, kind=LinkKind.DUPLICATE_OF).exists()
    missing = client.post(
        "/api/v1/desk/merge/",
        {"target": "INC9999999", "tickets": [ref(dup)]},
        content_type="application/json",
    )
    assert missing.status_code == 404


def test_saved_views_through_the_api(client, agent, other_agent, network_team):
    client.force_login(agent)
    created = client.post(
        "/api/v1/desk/views/",
        {"name": "Mine", "query": "queue=mine&after=abc"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["query"] == "queue=mine"
    again = client.post("/api/v1/desk/views/", {"name": "Mine"}, content_type="application/json")
    assert again.status_code == 400
    view_id = created.json()["id"]
    assert [v["name"] for v in client.get("/api/v1/desk/views/").json()] == ["Mine"]
    client.force_login(other_agent)
    assert client.get(f"/api/v1/desk/views/{view_id}/").status_code == 404
    assert client.delete(f"/api/v1/desk/views/{view_id}/").status_code == 404
    client.force_login(agent)
    assert client.delete(f"/api/v1/desk/views/{view_id}/").status_code == 204
    assert not SavedView.objects.exists()


def test_queue_counts_through_the_api(client, agent, requester, network_team):
    raise_incident(requester, network_team, "One")
    client.force_login(agent)
    counts = {q["slug"]: q["count"] for q in client.get("/api/v1/desk/queues/").json()}
    assert counts["open"] == 1
    assert counts["mine"] == 0
    assert counts["unassigned"] == 1


def test_links_through_the_api_list_add_and_remove(
    client, agent, other_agent, requester, network_team, database_team
):
    # given two tickets the agent sees and one of another team's
    one = raise_incident(requester, network_team, "VPN down")
    two = raise_incident(requester, network_team, "VPN slow")
    theirs = raise_incident(requester, database_team, "DB slow")
    client.force_login(agent)
    url = f"/api/v1/desk/tickets/{one.number}/links/"
    assert client.get(url).json() == []

    # when the agent links the two
    made = client.post(
        url,
        {"number": two.number.lower(), "kind": "caused_by"},
        content_type="application/json",
    )

    # then both sides show it, each from its own side
    assert made.status_code == 201, made.content
    link_id = made.json()["id"]
    assert made.json()["label"] == "Caused by"
    other_side = client.get(f"/api/v1/desk/tickets/{two.number}/links/").json()
    assert [(r["id"], r["label"], r["ticket"]["number"]) for r in other_side] == [
        (link_id, "Causes", one.number)
    ]
    # a hidden ticket reads as missing, a repeat is refused
    hidden = client.post(
        url, {"number": theirs.number, "kind": "related"}, content_type="application/json"
    )
    assert hidden.status_code == 400
    again = client.post(
        url, {"number": two.number, "kind": "caused_by"}, content_type="application/json"
    )
    assert again.status_code == 400

    # when removed from the other side
    assert client.delete(f"/api/v1/desk/tickets/{two.number}/links/{link_id}/").status_code == 204
    assert not TicketLink.objects.exists()
    assert client.delete(f"/api/v1/desk/tickets/{two.number}/links/{link_id}/").status_code == 404
    # another team's agent cannot even find the ticket; a requester may not use desk tools
    client.force_login(other_agent)
    assert client.get(url).status_code == 404
    client.force_login(requester)
    assert client.get(url).status_code == 403
