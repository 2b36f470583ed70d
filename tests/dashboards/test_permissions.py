"""Only managers see the dashboards; a team lead sees them for the teams they lead."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from dashboards.permissions import can_see_dashboards, team_restriction
from tests.dashboards.history import add_ticket
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/dashboards/",
    "/dashboards/counts/",
    "/dashboards/backlog/",
    "/dashboards/availability/",
    "/dashboards/volumes/",
    "/dashboards/reports/",
    "/dashboards/overview/trend.csv",
]
#: What settings.FRONT_DOOR_POLICY becomes once dashboards admit team leads (see the reply
#: to the lead): the views' own `dashboard_access` then decides.
LEADS_ADMITTED = {"desk": "is_agent"}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("requester", False), ("agent", False), ("other_agent", False), ("manager", True)],
)
def test_who_can_see_dashboards(request, persona, expected):
    assert can_see_dashboards(request.getfixturevalue(persona)) is expected


def test_a_team_lead_can_see_them_for_their_teams_only(team_lead, network_team, manager):
    assert can_see_dashboards(team_lead)
    assert team_restriction(team_lead) == (network_team.pk,)
    assert team_restriction(manager) is None


def test_an_inactive_manager_cannot():
    user = UserFactory(username="gone", roles=["service desk manager"], is_active=False)
    assert not can_see_dashboards(user)


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize(
    ("persona", "status"), [("requester", 403), ("agent", 403), ("manager", 200)]
)
def test_every_dashboard_url_admits_only_managers(client, request, url, persona, status):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url).status_code == status


@override_settings(FRONT_DOOR_POLICY=LEADS_ADMITTED)
@pytest.mark.parametrize("url", PAGES)
def test_the_views_refuse_non_managers_whatever_the_front_door_says(client, agent, url):
    client.force_login(agent)
    assert client.get(url).status_code == 403


@override_settings(FRONT_DOOR_POLICY=LEADS_ADMITTED)
@pytest.mark.parametrize("url", PAGES)
def test_a_team_lead_is_admitted(client, team_lead, url):
    client.force_login(team_lead)
    assert client.get(url).status_code == 200


@override_settings(FRONT_DOOR_POLICY=LEADS_ADMITTED)
def test_a_team_lead_sees_only_their_teams_figures(
    client, team_lead, world, network_team, database_team, time_machine
):
    # given: tickets of both teams
    now = datetime(2026, 4, 15, 10, 0, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    rng = random.Random(9)
    tickets = [add_ticket(rng, world, start=now - timedelta(days=10), now=now) for _ in range(40)]
    network = [t for t in tickets if t.team_id == network_team.pk]
    client.force_login(team_lead)
    # when
    backlog = client.get("/dashboards/backlog/?period=last_30")
    other_team = client.get(f"/dashboards/backlog/?period=last_30&team={database_team.pk}")
    # then
    tiles = {t.key: t.value for t in backlog.context["page"].tiles}
    assert tiles["created"] == str(len(network))
    assert tiles["open"] == str(sum(1 for t in network if t.state in ("open", "on_hold")))
    assert list(backlog.context["form"].fields["team"].queryset) == [network_team]
    # another team cannot be chosen: the form refuses it and the lead's teams are shown
    assert other_team.context["form"].errors
    assert other_team.context["filters"].scope.team_ids == (network_team.pk,)
    counts = client.get("/dashboards/counts/").context["counts"]
    assert counts.total == sum(1 for t in network if t.state in ("open", "on_hold"))


def test_the_dashboards_link_shows_for_managers(client, manager):
    client.force_login(manager)
    assert b'href="/dashboards/"' in client.get("/dashboards/").content
