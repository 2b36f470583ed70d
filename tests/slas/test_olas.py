"""Team OLAs: one clock per team hold, in sequence, separate from the customer SLA."""

from datetime import UTC, datetime, timedelta

import pytest

from incidents.choices import IncidentStatus, OnHoldReason, ResolutionCode
from incidents.services import incident_assign, incident_create, incident_transition
from slas.models import OlaClock, OlaPolicy
from slas.services import sla_sweep
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_ola_hand_offs_across_three_teams(time_machine, always, requester):
    # given three teams with OLAs of 1 h, 2 h and 30 min
    teams = [TeamFactory(name=n) for n in ("L1", "L2", "L3")]
    for team, hours in zip(teams, (1, 2, 0.5), strict=True):
        OlaPolicy.objects.create(
            team=team, target=timedelta(hours=hours), calendar=always, pause_statuses=["on_hold"]
        )
    agent = UserFactory(username="olaagent", roles=["agent"])
    for team in teams:
        MembershipFactory(team=team, user=agent)
    time_machine.move_to(T0, tick=False)
    incident = incident_create(requester=requester, by=requester, title="hops", team=teams[0])
    # when: L1 holds it 40 min, L2 holds 3 h with a 2 h pause, L3 resolves after 45 min
    time_machine.move_to(T0 + timedelta(minutes=40), tick=False)
    incident_assign(incident=incident, by=agent, team=teams[1])
    time_machine.move_to(T0 + timedelta(minutes=50), tick=False)
    incident_transition(
        incident=incident,
        by=agent,
        target=IncidentStatus.ON_HOLD,
        on_hold_reason=OnHoldReason.AWAITING_VENDOR,
    )
    time_machine.move_to(T0 + timedelta(minutes=170), tick=False)
    incident_transition(incident=incident, by=agent, target=IncidentStatus.IN_PROGRESS)
    time_machine.move_to(T0 + timedelta(minutes=220), tick=False)
    incident_assign(incident=incident, by=agent, team=teams[2])
    time_machine.move_to(T0 + timedelta(minutes=251), tick=False)
    assert sla_sweep().ola_breaches == 1  # L3's 30 min ran out at 250 min
    time_machine.move_to(T0 + timedelta(minutes=265), tick=False)
    incident_transition(
        incident=incident,
        by=agent,
        target=IncidentStatus.RESOLVED,
        resolution_code=ResolutionCode.FIXED,
        resolution_notes="done",
    )
    # then: three clocks in order, each measuring only its own hold, paused time excluded
    clocks = list(OlaClock.objects.filter(ticket_id=incident.pk).order_by("started_at"))
    assert [(c.team.name, c.elapsed, c.state) for c in clocks] == [
        ("L1", timedelta(minutes=40), "met"),
        ("L2", timedelta(minutes=60), "met"),
        ("L3", timedelta(minutes=45), "breached"),
    ]
    assert [c.stop_reason for c in clocks] == ["handed to L2", "handed to L3", "resolved"]
    assert clocks[2].breached_at == T0 + timedelta(minutes=250)
    assert incident.ticket.events.filter(data__code="ola", body__contains="L3").exists()


def test_no_ola_policy_no_ola_clock(requester, network_team):
    incident = incident_create(requester=requester, by=requester, title="x", team=network_team)
    assert not OlaClock.objects.filter(ticket_id=incident.pk).exists()


def test_desk_sla_card_lists_team_olas(client, always, requester, agent, network_team):
    OlaPolicy.objects.create(team=network_team, target=timedelta(hours=2), calendar=always)
    incident = incident_create(
        requester=requester, by=requester, title="ola shown", team=network_team
    )
    client.force_login(agent)
    page = client.get(f"/desk/incidents/{incident.pk}/").content.decode()
    assert 'id="ola-clocks"' in page
    assert "Network" in page.split('id="ola-clocks"')[1]
