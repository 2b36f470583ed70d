"""SQL discipline on the hot pages: the number of queries a page runs does not depend on how
many rows it shows (25 against 100), so no page hides an N+1. The desk queues have theirs in
tests/desk/test_queues.py."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.services import incident_comment, incident_create
from servicerequests.popularity import refresh_popular_counts
from tests.servicerequests.builders import make_item

pytestmark = pytest.mark.django_db


def queries(client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def raise_many(n: int, requester, agent, team, word: str = "printer") -> None:
    for i in range(n):
        incident = incident_create(
            requester=requester,
            by=requester,
            title=f"{word.capitalize()} problem {i}",
            description=f"The {word} on floor {i} is broken",
            team=team,
        )
        incident_comment(incident=incident, by=agent, body=f"Looking at the {word}")


LISTS = [
    ("agent", "/desk/incidents/?page_size={n}"),
    ("agent", "/desk/?q=printer&page_size={n}"),
    ("agent", "/api/v1/incidents/?page_size={n}"),
    ("agent", "/api/v1/tickets/?page_size={n}"),
    ("requester", "/?page_size={n}"),
    ("manager", "/dashboards/?period=last_30"),
]


@pytest.mark.parametrize(("who", "url"), LISTS)
def test_list_pages_cost_the_same_for_25_and_100_rows(
    client, agent, requester, manager, network_team, who, url
):
    client.force_login({"agent": agent, "requester": requester, "manager": manager}[who])
    raise_many(25, requester, agent, network_team)
    small = queries(client, url.format(n=25))
    raise_many(75, requester, agent, network_team)
    large = queries(client, url.format(n=100))
    assert large == small, url


def test_the_ticket_page_costs_the_same_for_25_and_100_journal_entries(
    client, agent, requester, network_team
):
    incident = incident_create(requester=requester, by=requester, title="Chatty", team=network_team)
    client.force_login(agent)
    for i in range(24):
        incident_comment(incident=incident, by=agent, body=f"note {i}", public=bool(i % 2))
    small = queries(client, f"/desk/incidents/{incident.pk}/")
    for i in range(75):
        incident_comment(incident=incident, by=requester, body=f"reply {i}")
    assert queries(client, f"/desk/incidents/{incident.pk}/") == small
    client.force_login(requester)
    small = queries(client, f"/tickets/{incident.ticket.number}/")
    for i in range(75):
        incident_comment(incident=incident, by=agent, body=f"more {i}")
    assert queries(client, f"/tickets/{incident.ticket.number}/") == small


def test_the_catalogue_home_costs_the_same_for_25_and_100_items(client, requester, network_team):
    client.force_login(requester)
    for i in range(25):
        make_item(name=f"Item {i}", fulfilment_team=network_team)
    refresh_popular_counts()  # warm, as beat keeps it
    small = queries(client, "/catalogue/")
    for i in range(25, 100):
        make_item(name=f"Item {i}", fulfilment_team=network_team)
    assert queries(client, "/catalogue/") == small
