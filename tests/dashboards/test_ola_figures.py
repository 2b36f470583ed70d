"""Team OLAs on the SLA overview: per team met/breached/running counts, compliance and mean time
held, equal to a raw count over a hand-built history of OLA clocks; drill-downs list exactly
the tickets behind each figure; CSV; a team lead sees only their teams."""

import csv
import io
import random
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import override_settings

from dashboards.periods import day_start
from incidents.choices import Level
from incidents.services import incident_create
from slas.models import OlaClock, OlaPolicy
from tests.dashboards.test_drilldown import counted
from tests.factories import TeamFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 4, 15, 10, 0, tzinfo=UTC)
COLUMNS = ["met", "breached", "pct", "mean_h", "running", "running_breached"]


@pytest.fixture
def ola_world(world, always, time_machine):
    """Tickets created before any OLA policy (so no clock is made for them), then OLA clocks
    written by hand: random teams, holds, stops (some open), breaches, some tickets held
    twice by the same team, and clocks outside the period."""
    time_machine.move_to(NOW - timedelta(days=60), tick=False)
    teams = [*world.teams, TeamFactory(name="Apps")]
    tickets = [
        incident_create(
            requester=world.requester,
            by=world.requester,
            title=f"Issue {n}",
            impact=Level.MEDIUM if n % 3 else Level.HIGH,
            urgency=Level.MEDIUM if n % 3 else Level.HIGH,
        ).ticket
        for n in range(24)
    ]
    policies = {
        team.pk: OlaPolicy.objects.create(team=team, target=timedelta(hours=2), calendar=always)
        for team in teams
    }
    rng = random.Random(5)
    clocks = []
    for ticket in tickets:
        cursor = NOW - timedelta(days=rng.randint(0, 45), hours=rng.randint(0, 23))
        for hold in range(rng.randint(1, 3)):
            team = rng.choice(teams) if hold != 1 else clocks[-1].team  # held twice
            open_now = hold == 2 and rng.random() < 0.5
            elapsed = timedelta(minutes=rng.randint(5, 300), seconds=rng.randint(0, 59))
            stopped = None if open_now else cursor + elapsed + timedelta(minutes=rng.randint(0, 90))
            if stopped is not None and stopped > NOW:
                stopped = None
            breached = cursor + timedelta(hours=2) if elapsed > timedelta(hours=2) else None
            if breached is not None and breached > NOW:
                breached = None
            clocks.append(
                OlaClock(
                    ticket=ticket,
                    team=team,
                    policy=policies[team.pk],
                    target=timedelta(hours=2),
                    started_at=cursor,
                    running_since=None if stopped else cursor,
                    elapsed=elapsed,
                    stopped_at=stopped,
                    breached_at=breached,
                )
            )
            if stopped is None:
                break  # one open clock per ticket, the last one
            cursor = stopped
    OlaClock.objects.bulk_create(clocks)
    time_machine.move_to(NOW, tick=False)
    return teams


def raw(*, first_day, teams=None, priority=None) -> dict[str, dict[str, object]]:
    """The expected figures, counted row by row in Python over every OLA clock."""
    start = day_start(first_day, "UTC")
    end = day_start(NOW.date() + timedelta(days=1), "UTC")
    out: dict[str, dict[str, object]] = {}
    for clock in OlaClock.objects.select_related("team", "ticket"):
        if teams is not None and clock.team_id not in teams:
            continue
        if priority is not None and clock.ticket.priority != priority:
            continue
        f = out.setdefault(
            clock.team.name,
            {"met": 0, "breached": 0, "held": timedelta(0), "running": 0, "running_breached": 0},
        )
        if clock.stopped_at is None:
            f["running"] += 1
            f["running_breached"] += clock.breached_at is not None
        elif start <= clock.stopped_at < end:
            f["met" if clock.breached_at is None else "breached"] += 1
            f["held"] += clock.elapsed
    expected = {}
    for name, f in out.items():
        stopped = f["met"] + f["breached"]
        expected[name] = {
            "met": str(f["met"]),
            "breached": str(f["breached"]),
            "pct": f"{100 * f['met'] / stopped:.1f}" if stopped else "—",
            "mean_h": f"{round(f['held'] // timedelta(microseconds=1) // stopped / 3.6e9, 2):.2f}"
            if stopped
            else "—",
            "running": str(f["running"]),
            "running_breached": str(f["running_breached"]),
        }
    return expected


def ola_rows(page) -> dict[str, dict[str, str]]:
    table = next(t for t in page.tables if t.key == "ola_by_team")
    return {
        row[0].text: dict(zip(COLUMNS, (c.text for c in row[1:]), strict=True))
        for row in table.rows
    }


def test_figures_equal_a_raw_count_of_the_clocks(client, manager, ola_world):
    client.force_login(manager)
    page = client.get("/dashboards/?period=last_30").context["page"]

    rows = ola_rows(page)
    expected = raw(first_day=NOW.date() - timedelta(days=29))
    all_teams = rows.pop("All teams")

    assert rows == expected
    assert int(all_teams["met"]) == sum(int(r["met"]) for r in expected.values())
    assert int(all_teams["running"]) == sum(int(r["running"]) for r in expected.values())
    assert sum(int(r["met"]) + int(r["breached"]) for r in expected.values()) > 5
    assert sum(int(r["running"]) for r in expected.values()) > 0


def test_a_scope_narrows_by_the_ticket_and_a_period_by_the_stop(client, manager, ola_world):
    urgent = Ticket.objects.order_by("pk").first().priority  # the first is high/high
    assert Ticket.objects.exclude(priority=urgent).exists()
    client.force_login(manager)
    page = client.get(f"/dashboards/?period=last_7&priority={urgent}").context["page"]
    rows = ola_rows(page)
    rows.pop("All teams", None)
    assert rows == raw(first_day=NOW.date() - timedelta(days=6), priority=urgent)


def test_every_ola_link_lists_the_tickets_behind_it(client, manager, ola_world):
    client.force_login(manager)
    page = client.get("/dashboards/?period=last_30").context["page"]
    table = next(t for t in page.tables if t.key == "ola_by_team")
    start = day_start(NOW.date() - timedelta(days=29), "UTC")
    for row in table.rows:
        teams = [t.pk for t in ola_world if row[0].text in (t.name, "All teams")]
        clocks = OlaClock.objects.filter(team_id__in=teams)
        stopped = clocks.filter(stopped_at__gte=start, stopped_at__lt=NOW + timedelta(days=1))
        expected = {
            1: stopped.filter(breached_at__isnull=True),
            2: stopped.filter(breached_at__isnull=False),
            3: stopped,
            5: clocks.filter(stopped_at__isnull=True),
            6: clocks.filter(stopped_at__isnull=True, breached_at__isnull=False),
        }
        for column, matching in expected.items():
            tickets = matching.values("ticket_id").distinct().count()
            assert counted(row[column].url) == tickets, (row[0].text, column)
    # a ticket a team held twice counts twice in the figure, once in the queue
    met_clocks = sum(int(r[1].text) for r in table.rows if r[0].text != "All teams")
    assert met_clocks >= counted(table.rows[-1][1].url)


def test_the_table_has_a_csv_with_the_same_cells(client, manager, ola_world):
    client.force_login(manager)
    page = client.get("/dashboards/?period=last_30").context["page"]
    table = next(t for t in page.tables if t.key == "ola_by_team")

    response = client.get("/dashboards/overview/ola_by_team.csv?period=last_30")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["Team", "OLA met", "OLA breached", "OLA %"]
    assert rows[1:] == [[c.text for c in row] for row in table.rows]


def test_the_page_shows_the_ola_table(client, manager, ola_world):
    client.force_login(manager)
    html = client.get("/dashboards/?period=last_30").content.decode()
    assert "Team OLAs" in html
    assert "ola=met" in html


@override_settings(FRONT_DOOR_POLICY={"desk": "is_agent"})
def test_a_team_lead_sees_only_their_teams(client, team_lead, network_team, ola_world):
    client.force_login(team_lead)
    page = client.get("/dashboards/?period=last_30").context["page"]

    rows = ola_rows(page)

    assert set(rows) == {network_team.name}
    assert rows == raw(first_day=NOW.date() - timedelta(days=29), teams={network_team.pk})
    table = next(t for t in page.tables if t.key == "ola_by_team")
    for cell in table.rows[0][1:]:
        assert parse_qs(urlsplit(cell.url).query)["ola_teams"] == [str(network_team.pk)]


def test_no_clocks_no_rows(client, manager, world):
    client.force_login(manager)
    page = client.get("/dashboards/?period=last_30").context["page"]
    assert next(t for t in page.tables if t.key == "ola_by_team").rows == []
    assert not Ticket.objects.exists()


def test_the_period_query_uses_the_ola_index(ola_world):
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT team_id, breached_at, elapsed FROM slas_olaclock "
            "WHERE stopped_at >= %s AND stopped_at < %s",
            [NOW - timedelta(days=7), NOW],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "dashboards_ola_stopped" in plan


def test_an_ola_link_opens_the_desk_queue_on_those_tickets(client, manager, ola_world):
    client.force_login(manager)
    page = client.get("/dashboards/?period=last_30").context["page"]
    table = next(t for t in page.tables if t.key == "ola_by_team")
    breached = next(row[2] for row in table.rows if int(row[2].text) > 0)
    numbers = set(
        Ticket.objects.filter(pk__in=_tickets_of(breached.url)).values_list("number", flat=True)
    )

    html = client.get(breached.url).content.decode()

    assert numbers
    assert all(number in html for number in numbers)


def _tickets_of(url: str) -> list[int]:
    from django.http import QueryDict

    from tickets.filtersets import TicketFilterSet

    data = QueryDict(urlsplit(url).query)
    filterset = TicketFilterSet(data, queryset=Ticket.objects.all())
    assert filterset.is_valid()
    return list(filterset.qs.values_list("pk", flat=True))


def test_a_requester_cannot_probe_internal_olas_through_the_api(requester, ola_world):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(requester)
    mine = client.get("/api/v1/tickets/").json()["results"]
    probed = client.get("/api/v1/tickets/", {"ola": "stopped"}).json()["results"]

    assert mine  # the requester raised every ticket of the history
    assert probed == []
