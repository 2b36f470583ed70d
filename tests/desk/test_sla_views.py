"""Desk SLA views: the incident SLA card (numbers, due in the viewer's zone, breach, bar), its
HTMX refresh endpoint, the queue's SLA column and the breaching-soon queue."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.choices import IncidentStatus, OnHoldReason
from incidents.services import incident_create, incident_transition
from slas.models import BusinessCalendar, SlaPolicy
from slas.services import sla_sweep

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday; Berlin is UTC+1 (CET)
H = timedelta(hours=1)


@pytest.fixture
def calendar():
    return BusinessCalendar.objects.create(
        name="24x7", timezone="UTC", hours={str(d): [["00:00", "24:00"]] for d in range(7)}
    )


@pytest.fixture
def policies(calendar):
    common = {"kind": "incident", "calendar": calendar, "pause_statuses": ["on_hold"]}
    return {
        "response": SlaPolicy.objects.create(
            name="Respond in 1 h", metric="response", target=H, **common
        ),
        "resolution": SlaPolicy.objects.create(
            name="Resolve in 4 h", metric="resolution", target=4 * H, **common
        ),
    }


@pytest.fixture
def now(time_machine):
    time_machine.move_to(T0, tick=False)

    def at(delta: timedelta) -> datetime:
        time_machine.move_to(T0 + delta, tick=False)
        return T0 + delta

    return at


def _raise(requester, team, title="VPN is down"):
    return incident_create(requester=requester, by=requester, title=title, team=team)


def _card(html: str, metric: str) -> str:
    match = re.search(rf'<article class="sla-clock" id="sla-{metric}".*?</article>', html, re.S)
    assert match, f"no {metric} clock on the card"
    return match.group(0)


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# ------------------------------------------------------------------ incident card
def test_card_shows_target_left_and_due_in_the_viewers_zone(
    client, agent, requester, network_team, policies, now
):
    agent.time_zone = "Europe/Berlin"
    agent.save(update_fields=["time_zone"])
    incident = _raise(requester, network_team)
    now(30 * timedelta(minutes=1))
    client.force_login(agent)

    html = client.get(f"/desk/incidents/{incident.pk}/").content.decode()

    card = _card(html, "resolution")
    assert "Resolve in 4 h" in card
    assert '<span class="sla-target">4 h</span>' in card
    assert 'data-sla-left-seconds="12600"' in card  # 4 h − 30 min
    assert 'data-running="1" data-working="1"' in card
    assert ">3 h 30 min<" in card
    assert "Mon 2 Mar 2026, 14:00 CET" in card  # 13:00 UTC in Berlin
    assert "badge-blue" in card
    assert "Running" in card
    assert 'class="sla-due-marker"' in card
    response_card = _card(html, "response")
    assert "Mon 2 Mar 2026, 11:00 CET" in response_card
    assert html.index('id="sla-response"') < html.index('id="sla-resolution"')
    assert f'hx-get="/desk/incidents/{incident.pk}/sla/"' in html
    assert 'hx-trigger="every 60s"' in html
    assert "js/sla.js" in html


def test_breached_clock_after_the_sweep_shows_overdue_and_planned_vs_recorded(
    client, agent, requester, network_team, policies, now
):
    incident = _raise(requester, network_team)
    sla_sweep(now=now(2 * H))
    client.force_login(agent)

    card = _card(client.get(f"/desk/incidents/{incident.pk}/").content.decode(), "response")

    assert "badge-red" in card
    assert "Breached" in card
    assert "overdue by 1 h" in card
    assert 'data-sla-left-seconds="-3600"' in card
    breach = re.search(r'class="sla-event sla-event-breach">(.*?)</dd>', card, re.S).group(1)
    assert "planned" in breach
    assert "2 Mar 10:00:00" in breach
    assert "recorded" in breach
    assert "2 Mar 11:00:00" in breach
    assert "(1 h late)" in breach
    assert "Warning 50%" in card
    assert "Warning 90%" in card


def test_paused_time_shows_as_a_yellow_segment_and_stops_the_countdown(
    client, agent, requester, network_team, policies, now
):
    incident = _raise(requester, network_team)
    now(H / 2)
    incident = incident_transition(
        incident=incident,
        by=agent,
        target=IncidentStatus.ON_HOLD,
        on_hold_reason=OnHoldReason.AWAITING_CALLER,
    )
    now(2 * H)
    client.force_login(agent)

    card = _card(client.get(f"/desk/incidents/{incident.pk}/").content.decode(), "resolution")

    assert "badge-yellow" in card
    assert "Paused" in card
    assert 'data-running="0"' in card
    assert ">3 h 30 min<" in card  # only the 30 running minutes counted
    assert card.count('class="sla-seg sla-seg-running"') == 1
    assert card.count('class="sla-seg sla-seg-paused"') == 1
    assert "status on_hold" in card  # the segment's reason, in its tooltip
    assert "set again when the clock resumes" in card


def test_sla_endpoint_returns_the_card_and_hides_invisible_incidents(
    client, agent, other_agent, requester, network_team, policies, now
):
    incident = _raise(requester, network_team)
    client.force_login(agent)

    response = client.get(f"/desk/incidents/{incident.pk}/sla/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="sla-card"')
    assert 'id="sla-resolution"' in html
    client.force_login(other_agent)
    assert client.get(f"/desk/incidents/{incident.pk}/sla/").status_code == 404


def test_ticket_without_clocks_says_so(client, agent, requester, network_team):
    incident = _raise(requester, network_team)
    client.force_login(agent)
    html = client.get(f"/desk/incidents/{incident.pk}/").content.decode()
    assert "No SLA clocks on this ticket." in html
    assert 'hx-trigger="every 60s"' not in html


def test_incident_page_queries_do_not_grow_with_segments_and_events(
    client, agent, requester, network_team, policies, now
):
    incident = _raise(requester, network_team)
    client.force_login(agent)
    url = f"/desk/incidents/{incident.pk}/"
    client.get(url)  # warm the calendar cache
    short = _count(client, url)
    for i in range(4):
        now((i + 1) * timedelta(minutes=10))
        incident = incident_transition(
            incident=incident,
            by=agent,
            target=IncidentStatus.ON_HOLD,
            on_hold_reason=OnHoldReason.AWAITING_CALLER,
        )
        incident = incident_transition(
            incident=incident, by=agent, target=IncidentStatus.IN_PROGRESS
        )
    sla_sweep(now=now(3 * H))
    client.get(url)
    assert _count(client, url) == short
    assert (
        _count(client, f"/desk/incidents/{incident.pk}/sla/") <= 12
    )  # auth 6 + incident + 3 clock queries + team OLAs


# ------------------------------------------------------------------ queues
@pytest.fixture
def three_deadlines(requester, network_team, calendar, now):
    """Resolution 4 h: A breached, B due in 30 min, C due in 3 h, at T0 + 7 h."""
    SlaPolicy.objects.create(
        name="Resolve in 4 h", kind="incident", metric="resolution", target=4 * H, calendar=calendar
    )
    a = _raise(requester, network_team, "A")
    now(3 * H + H / 2)
    b = _raise(requester, network_team, "B")
    now(6 * H)
    c = _raise(requester, network_team, "C")
    sla_sweep(now=now(7 * H))
    return a.ticket, b.ticket, c.ticket


def _row(html: str, number: str) -> str:
    match = re.search(rf"<tr [^>]*data-number=\"{number}\".*?</tr>", html, re.S)
    assert match, f"{number} not listed"
    return match.group(0)


def test_queue_sla_column_colours_breached_at_risk_and_plain(client, manager, three_deadlines):
    a, b, c = three_deadlines
    client.force_login(manager)

    html = client.get("/desk/").content.decode()

    assert ">SLA left</a></th>" in html
    assert "sla-breached" in _row(html, a.number)
    assert "Breached" in _row(html, a.number)
    assert "sla-at-risk" in _row(html, b.number)
    assert "in 30 min" in _row(html, b.number)
    assert "sla-ok" in _row(html, c.number)
    assert "in 3 h" in _row(html, c.number)


def test_breaching_soon_lists_running_unbreached_clocks_nearest_first(
    client, manager, agent, requester, network_team, database_team, calendar, now
):
    slow = SlaPolicy.objects.create(
        name="Database 8 h",
        kind="incident",
        metric="resolution",
        target=8 * H,
        calendar=calendar,
        order=10,
    )
    slow.teams.set([database_team])
    SlaPolicy.objects.create(
        name="Others 2 h",
        kind="incident",
        metric="resolution",
        target=2 * H,
        calendar=calendar,
        order=20,
        pause_statuses=["on_hold"],
    )
    late = _raise(requester, database_team, "created first, due last").ticket  # due T0 + 8 h
    now(H)
    paused = _raise(requester, network_team, "paused")
    incident_transition(
        incident=paused,
        by=agent,
        target=IncidentStatus.ON_HOLD,
        on_hold_reason=OnHoldReason.AWAITING_VENDOR,
    )
    breached = _raise(requester, network_team, "breached").ticket  # due T0 + 3 h
    now(2 * H + H / 2)
    soon = _raise(requester, network_team, "created last, due first").ticket  # due T0 + 4 h 30
    sla_sweep(now=now(3 * H + timedelta(seconds=1)))
    client.force_login(manager)

    html = client.get("/desk/?queue=breaching").content.decode()

    assert '<h1 id="queue-title">Breaching soon</h1>' in html
    assert 'id="nav-breaching" aria-current="page"' in html
    listed = re.findall(r">((?:INC)\d+)</a></td>", html)
    assert listed == [soon.number, late.number]
    assert breached.number not in listed
    assert paused.ticket.number not in listed


def test_breaching_soon_orders_by_due(client, manager, requester, network_team, policies, now):
    first = _raise(requester, network_team, "first").ticket
    now(H / 4)
    second = _raise(requester, network_team, "second").ticket
    client.force_login(manager)
    html = client.get("/desk/?queue=breaching").content.decode()
    # both tickets have response (1 h) and resolution clocks: the nearest deadline counts
    assert re.findall(r">((?:INC)\d+)</a></td>", html) == [first.number, second.number]
    html = client.get("/desk/?queue=breaching&sort=-sla").content.decode()
    assert re.findall(r">((?:INC)\d+)</a></td>", html) == [second.number, first.number]


@pytest.mark.parametrize("url", ["/desk/?page_size=50", "/desk/?queue=breaching"])
def test_queue_queries_stay_constant_with_clocks(
    client, manager, requester, network_team, policies, url
):
    client.force_login(manager)
    for i in range(10):
        _raise(requester, network_team, f"Issue {i}")
    client.get(url)
    ten = _count(client, url)
    for i in range(40):
        _raise(requester, network_team, f"More {i}")
    assert _count(client, url) == ten


def test_timeline_marks_outside_hours_holidays_and_the_journal_entry_of_each_pause(
    client, agent, requester, network_team, time_machine
):
    from datetime import UTC, date, datetime, timedelta

    from incidents.choices import IncidentStatus, OnHoldReason
    from incidents.services import incident_create, incident_transition
    from slas.models import BusinessCalendar, Holiday, SlaPolicy

    office = BusinessCalendar.objects.create(
        name="Tl office", timezone="UTC", hours={str(d): [["09:00", "17:00"]] for d in range(5)}
    )
    Holiday.objects.create(calendar=office, date=date(2026, 11, 24), name="Demo holiday")
    SlaPolicy.objects.create(
        name="Tl",
        kind="incident",
        metric="resolution",
        target=timedelta(hours=40),
        calendar=office,
        pause_statuses=["on_hold"],
    )
    time_machine.move_to(datetime(2026, 11, 23, 15, 0, tzinfo=UTC), tick=False)  # Monday 15:00
    incident = incident_create(
        requester=requester, by=requester, title="timeline", team=network_team
    )
    time_machine.move_to(datetime(2026, 11, 25, 10, 0, tzinfo=UTC), tick=False)  # Wednesday 10:00
    incident_transition(
        incident=incident,
        by=agent,
        target=IncidentStatus.ON_HOLD,
        on_hold_reason=OnHoldReason.AWAITING_CALLER,
    )
    time_machine.move_to(datetime(2026, 11, 25, 11, 0, tzinfo=UTC), tick=False)
    client.force_login(agent)
    page = client.get(f"/desk/incidents/{incident.pk}/").content.decode()
    assert "sla-seg-offhours" in page  # Monday night
    assert "sla-seg-holiday" in page  # Tuesday
    assert "Holiday " in page
    assert (
        "Running Mon 23 Nov 15:00:00 UTC – Wed 25 Nov 10:00:00 UTC, 3 h working time counted"
        in page
    )
    pause = incident.ticket.events.filter(type="status_changed").last()
    assert f"journal entry #{pause.pk}" in page
