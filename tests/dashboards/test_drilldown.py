"""Every number on every dashboard links to the desk queue filtered to exactly the tickets it
counts: the link's filters (tickets.filtersets.TicketFilterSet) give that many tickets."""

import random
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.http import QueryDict
from django.test import override_settings

from dashboards.rollups import rollups_sync
from incidents.models import Incident, Outage
from tests.dashboards.history import add_ticket
from tickets.filtersets import TicketFilterSet
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 4, 15, 10, 0, tzinfo=UTC)
PAGES = [
    "/dashboards/",
    "/dashboards/backlog/",
    "/dashboards/availability/",
    "/dashboards/volumes/",
]
INTEGER = re.compile(r"^\d+$")


@pytest.fixture
def history(world, time_machine):
    time_machine.move_to(NOW - timedelta(hours=3), tick=False)
    rng = random.Random(11)
    tickets = [
        add_ticket(rng, world, start=NOW - timedelta(days=40), now=NOW - timedelta(hours=3))
        for _ in range(60)
    ]
    rollups_sync(now=NOW - timedelta(hours=2))
    # changes after the sync: today is live
    tickets += [
        add_ticket(rng, world, start=NOW - timedelta(hours=2), now=NOW - timedelta(minutes=5))
        for _ in range(10)
    ]
    incidents = [t for t in tickets if t.kind == "incident"]
    for ticket, hours in zip(incidents[:3], (4, 30, 2), strict=True):
        Outage.objects.create(
            incident=Incident.objects.get(pk=ticket.pk),
            service=world.services[0],
            kind="full" if hours != 2 else "degraded",
            started_at=NOW - timedelta(days=5, hours=hours),
            ended_at=NOW - timedelta(days=5) if hours != 30 else None,
        )
    time_machine.move_to(NOW, tick=False)
    return tickets


def counted(url: str) -> int:
    """How many tickets the desk-queue filters of a drill-down link select."""
    parts = urlsplit(url)
    assert parts.path == "/desk/"
    data = QueryDict(mutable=True)
    for key, values in parse_qs(parts.query).items():
        data.setlist(key, values)
    filterset = TicketFilterSet(data, queryset=Ticket.objects.all())
    assert filterset.is_valid(), (url, filterset.errors)  # nothing silently ignored
    return filterset.qs.count()


def check_page(page) -> int:
    checked = 0
    for tile in page.tiles:
        if tile.url and tile.url.startswith("/desk/") and INTEGER.match(tile.value):
            assert counted(tile.url) == int(tile.value), (tile.label, tile.url)
            checked += 1
    for table in page.tables:
        for row in table.rows:
            for cell in row:
                if cell.url and cell.url.startswith("/desk/?") and INTEGER.match(cell.text):
                    assert counted(cell.url) == int(cell.text), (table.key, row[0].text, cell.url)
                    checked += 1
    return checked


@pytest.mark.parametrize("url", PAGES)
def test_every_count_links_to_exactly_its_tickets(client, manager, history, url):
    client.force_login(manager)
    for period in ("last_7", "last_30", "this_quarter"):
        page = client.get(f"{url}?period={period}").context["page"]
        assert check_page(page) > 0 or url.endswith("availability/")


def test_percentages_link_to_the_clocks_they_divide(client, manager, history):
    client.force_login(manager)
    page = client.get("/dashboards/?period=last_30&granularity=week").context["page"]
    for table in (t for t in page.tables if t.key in ("trend", "by_team", "by_priority")):
        for row in table.rows:
            for met, breached, percent in ((1, 2, 3), (4, 5, 6)):
                stopped = int(row[met].text) + int(row[breached].text)
                assert counted(row[percent].url) == stopped


def test_a_scoped_page_links_within_its_scope(client, manager, history, world):
    client.force_login(manager)
    team = world.teams[0].pk
    page = client.get(f"/dashboards/backlog/?period=last_30&team={team}&priority=3").context["page"]
    assert check_page(page) > 0
    for table in page.tables:
        for row in table.rows:
            for cell in row:
                if cell.url and cell.url.startswith("/desk/?"):
                    query = parse_qs(urlsplit(cell.url).query)
                    assert query["teams"] == [str(team)]


@override_settings(FRONT_DOOR_POLICY={"desk": "is_agent"})
def test_a_team_leads_links_stay_within_their_teams(client, team_lead, history, world):
    client.force_login(team_lead)
    page = client.get("/dashboards/?period=last_30").context["page"]
    assert check_page(page) > 0
    tiles = [t for t in page.tiles if t.url]
    assert all(parse_qs(urlsplit(t.url).query)["teams"] == [str(world.teams[0].pk)] for t in tiles)


def test_open_ticket_drilldowns_land_on_the_same_tickets_in_the_desk_queue(
    client, manager, history
):
    client.force_login(manager)
    page = client.get("/dashboards/backlog/").context["page"]
    age = next(t for t in page.tables if t.key == "age")
    links = [(cell.url, int(cell.text)) for row in age.rows for cell in row[1:]]
    assert sum(n for _url, n in links) > 0
    for link, n in links:
        queue = client.get(link)
        assert queue.status_code == 200
        assert queue.context["total"] == n
