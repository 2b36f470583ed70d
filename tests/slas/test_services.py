"""Clock lifecycle through the incident services, and the sweep, on PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.choices import IncidentStatus, Level, OnHoldReason, ResolutionCode
from incidents.services import (
    incident_comment,
    incident_create,
    incident_override_priority,
    incident_reopen,
    incident_transition,
)
from slas.choices import Action, ClockState, Trigger
from slas.models import EscalationEvent, EscalationRule, SlaClock, SlaEvent, SlaPolicy
from slas.services import escalation_run, sla_policy_deactivated, sla_sweep, worked
from tickets.models import Notification

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def at(time_machine):
    time_machine.move_to(T0, tick=False)

    def move(**delta):
        time_machine.move_to(T0 + timedelta(**delta), tick=False)
        return T0 + timedelta(**delta)

    return move


@pytest.fixture
def raise_incident(requester, network_team):
    def make(**kw):
        kw.setdefault("title", "Printer on fire")
        return incident_create(requester=requester, by=requester, team=network_team, **kw)

    return make


def clock(incident, metric="resolution"):
    return SlaClock.objects.get(ticket_id=incident.pk, metric=metric)


def resolve(incident, by):
    return incident_transition(
        incident=incident,
        by=by,
        target=IncidentStatus.RESOLVED,
        resolution_code=ResolutionCode.FIXED,
        resolution_notes="done",
    )


def test_clock_starts_with_the_matching_policy_and_explains_precedence(
    at, make_policy, raise_incident
):
    general = make_policy(target=timedelta(hours=8), order=100, name="Standard")
    p1 = make_policy(target=timedelta(hours=2), order=10, priorities=[1], name="P1 fast")
    incident = raise_incident()  # medium x medium -> P3
    c = clock(incident)
    assert c.policy == general
    assert c.state == ClockState.RUNNING
    assert c.due_at == T0 + timedelta(hours=8)
    assert c.match_reason["skipped"] == [
        {"policy": "P1 fast", "policy_id": p1.pk, "failed": "priority P3 is not P1"}
    ]


def test_no_policy_no_clock(at, raise_incident):
    assert not SlaClock.objects.filter(ticket_id=raise_incident().pk).exists()


def test_on_hold_pauses_and_resume_excludes_the_paused_time(at, make_policy, raise_incident, agent):
    make_policy(target=timedelta(hours=8))
    incident = raise_incident()
    at(hours=1)
    incident_transition(
        incident=incident,
        by=agent,
        target=IncidentStatus.ON_HOLD,
        on_hold_reason=OnHoldReason.AWAITING_CALLER,
    )
    c = clock(incident)
    assert (c.state, c.elapsed, c.due_at, c.next_check_at) == (
        ClockState.PAUSED,
        timedelta(hours=1),
        None,
        None,
    )
    at(hours=3)
    incident_transition(incident=incident, by=agent, target=IncidentStatus.IN_PROGRESS)
    c = clock(incident)
    assert c.state == ClockState.RUNNING
    assert c.due_at == T0 + timedelta(hours=10)  # 8 h target + 2 h paused
    assert [(s.running, s.reason) for s in c.segments.all()] == [
        (True, "started"),
        (False, "status on_hold"),
        (True, "status in_progress"),
    ]
    paused = c.segments.get(running=False)
    assert paused.journal_event.data["new"] == "on_hold"  # the journal entry that paused it


def test_response_clock_stops_at_the_first_public_agent_reply_only(
    at, make_policy, raise_incident, agent, requester
):
    make_policy(metric="response", target=timedelta(hours=1))
    incident = raise_incident()
    at(minutes=10)
    incident_comment(incident=incident, by=agent, body="internal", public=False)
    incident_comment(incident=incident, by=requester, body="hello?")
    assert clock(incident, "response").state == ClockState.RUNNING
    at(minutes=20)
    incident_comment(incident=incident, by=agent, body="On it")
    c = clock(incident, "response")
    assert (c.state, c.elapsed, c.stopped_at) == (
        ClockState.MET,
        timedelta(minutes=20),
        T0 + timedelta(minutes=20),
    )


def test_resolve_stops_and_reopen_restarts_the_same_clock(
    at, make_policy, raise_incident, agent, requester
):
    make_policy(target=timedelta(hours=8))
    incident = raise_incident()
    at(hours=2)
    resolve(incident, agent)
    first = clock(incident)
    assert (first.state, first.elapsed) == (ClockState.MET, timedelta(hours=2))
    at(hours=5)
    incident_reopen(incident=incident, by=requester, reason="still broken")
    again = clock(incident)
    assert again.pk == first.pk
    assert again.state == ClockState.RUNNING
    assert again.due_at == T0 + timedelta(hours=11)  # 6 h left from hour 5


def test_priority_change_retargets_keeping_elapsed_time(at, make_policy, raise_incident, agent):
    make_policy(target=timedelta(hours=8), order=100, name="Standard")
    make_policy(target=timedelta(hours=2), order=10, priorities=[1], name="P1 fast")
    incident = raise_incident()
    at(minutes=30)
    incident_override_priority(incident=incident, by=agent, priority=1, reason="CEO")
    c = clock(incident)
    assert c.policy.name == "P1 fast"
    assert c.elapsed == timedelta(minutes=30)
    assert c.due_at == T0 + timedelta(hours=2)
    assert incident.ticket.events.filter(data__code="sla", body__contains="P1 fast").exists()


def test_office_hours_calendar_counts_only_working_time(at, make_policy, office, raise_incident):
    make_policy(target=timedelta(hours=8), calendar=office)
    incident = raise_incident()  # Monday 10:00 UTC = 11:00 Berlin
    assert clock(incident).due_at == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # Tue 11:00 Berlin


def test_sweep_records_warnings_and_breach_once_with_planned_and_recorded_instants(
    at, make_policy, raise_incident
):
    make_policy(target=timedelta(hours=4))
    incident = raise_incident()
    at(hours=3, minutes=1)  # past 50 % and 75 %
    assert sla_sweep().warnings == 2
    assert sla_sweep().warnings == 0
    at(hours=4, seconds=30)
    result = sla_sweep()
    assert (result.warnings, result.breaches) == (1, 1)
    c = clock(incident)
    assert c.state == ClockState.BREACHED
    assert c.breached_at == T0 + timedelta(hours=4)
    breach = SlaEvent.objects.get(clock=c, type="breach")
    assert breach.planned_at == T0 + timedelta(hours=4)
    assert breach.lateness == timedelta(seconds=30)
    assert sorted(SlaEvent.objects.filter(type="warning").values_list("threshold", flat=True)) == [
        50,
        75,
        90,
    ]
    assert sla_sweep().claimed == 0
    assert c.next_check_at is None


def test_a_clock_at_99_95_percent_is_not_breached(at, make_policy, raise_incident):
    make_policy(target=timedelta(hours=10), warning_thresholds=[])
    incident = raise_incident()
    at(hours=9, minutes=59, seconds=42)  # 99.95 %
    sla_sweep()
    assert clock(incident).breached_at is None


def test_a_deadline_passed_between_sweeps_is_still_a_breach_on_resolve(
    at, make_policy, raise_incident, agent
):
    make_policy(target=timedelta(hours=1))
    incident = raise_incident()
    at(hours=1, minutes=5)
    resolve(incident, agent)  # no sweep ran
    c = clock(incident)
    assert c.state == ClockState.BREACHED
    assert c.breached_at == T0 + timedelta(hours=1)
    assert c.stopped_at == T0 + timedelta(hours=1, minutes=5)


def test_breached_clock_stays_breached_after_resolution(at, make_policy, raise_incident, agent):
    make_policy(target=timedelta(hours=1))
    incident = raise_incident()
    at(hours=2)
    sla_sweep()
    resolve(incident, agent)
    c = clock(incident)
    assert (c.state, c.stopped_at) == (ClockState.BREACHED, T0 + timedelta(hours=2))


def test_cancelling_the_incident_cancels_clocks_and_pending_escalations(
    at, make_policy, raise_incident, agent
):
    policy = make_policy(target=timedelta(hours=1))
    EscalationRule.objects.create(
        policy=policy,
        trigger=Trigger.BREACH,
        delay=timedelta(hours=1),
        action=Action.RAISE_PRIORITY,
    )
    incident = raise_incident()
    incident_transition(incident=incident, by=agent, target=IncidentStatus.CANCELLED)
    c = clock(incident)
    assert (c.state, c.next_check_at) == (ClockState.CANCELLED, None)


def test_escalation_fires_exactly_once_even_if_run_twice(
    at, make_policy, raise_incident, agent, network_team
):
    network_team.lead = agent
    network_team.save()
    policy = make_policy(target=timedelta(hours=1))
    rule = EscalationRule.objects.create(
        policy=policy, trigger=Trigger.BREACH, action=Action.NOTIFY_TEAM_LEAD
    )
    incident = raise_incident()
    at(hours=1, seconds=1)
    assert sla_sweep().breaches == 1
    event = EscalationEvent.objects.get(rule=rule)
    assert escalation_run(event_id=event.pk) == "notified team lead (1)"
    assert escalation_run(event_id=event.pk) == "already done"
    assert Notification.objects.filter(recipient=agent, ticket_id=incident.pk).count() == 1


def test_breach_plus_delay_raises_priority_and_retargets(at, make_policy, raise_incident):
    policy = make_policy(target=timedelta(hours=1))
    EscalationRule.objects.create(
        policy=policy,
        trigger=Trigger.BREACH,
        delay=timedelta(minutes=30),
        action=Action.RAISE_PRIORITY,
    )
    raise_incident(impact=Level.LOW, urgency=Level.LOW)  # P4
    at(hours=1, minutes=1)
    sla_sweep()
    assert not EscalationEvent.objects.exists()
    at(hours=1, minutes=31)
    sla_sweep()
    event = EscalationEvent.objects.get()
    assert event.planned_at == T0 + timedelta(hours=1, minutes=30)
    assert escalation_run(event_id=event.pk) == "priority raised to P3"


def test_deactivating_a_policy_stops_its_clocks_at_once(at, make_policy, raise_incident):
    policy = make_policy(target=timedelta(hours=1))
    incident = raise_incident()
    SlaPolicy.objects.filter(pk=policy.pk).update(active=False)
    policy.refresh_from_db()
    assert sla_policy_deactivated(policy=policy) == 1
    c = clock(incident)
    assert (c.state, c.next_check_at) == (ClockState.CANCELLED, None)


def test_worked_time_is_exact(at, make_policy, raise_incident):
    make_policy(target=timedelta(hours=8))
    incident = raise_incident()
    assert worked(clock(incident), T0 + timedelta(hours=3, microseconds=7)) == timedelta(
        hours=3, microseconds=7
    )


def test_sweep_cost_follows_what_is_due_not_what_runs(at, make_policy, requester, network_team):
    make_policy(target=timedelta(days=30))
    for i in range(5):
        incident_create(requester=requester, by=requester, team=network_team, title=f"a{i}")
    with CaptureQueriesContext(connection) as few:
        sla_sweep()
    for i in range(40):
        incident_create(requester=requester, by=requester, team=network_team, title=f"b{i}")
    with CaptureQueriesContext(connection) as many:
        result = sla_sweep()
    assert result.claimed == 0
    assert len(many.captured_queries) == len(few.captured_queries)


def test_recalculation_after_a_calendar_edit_keeps_the_real_threshold_instants(
    at, make_policy, always, raise_incident
):
    from slas.services import sla_clocks_recalculate

    make_policy(target=timedelta(hours=4))
    incident = raise_incident()
    at(hours=3)
    always.hours = {str(d): [["00:00", "24:00"]] for d in range(7)}  # an edit that changes nothing
    always.save()
    sla_clocks_recalculate(clock_ids=[clock(incident).pk])
    sla_sweep()
    planned = dict(SlaEvent.objects.filter(type="warning").values_list("threshold", "planned_at"))
    assert planned == {50: T0 + timedelta(hours=2), 75: T0 + timedelta(hours=3)}
    assert clock(incident).due_at == T0 + timedelta(hours=4)


# ---------------------------------------------------------- explained, retroactive, versioned
def test_why_this_sla_lists_matched_and_failed_conditions_in_the_journal(
    at, make_policy, raise_incident
):
    make_policy(target=timedelta(hours=2), order=10, priorities=[1], name="P1 fast")
    make_policy(target=timedelta(hours=8), order=100, priorities=[3, 4], name="Standard")
    incident = raise_incident()
    reason = clock(incident).match_reason
    assert reason["matched"] == ["priority P3 is one of P3, P4"]
    assert reason["version"] == 1
    note = incident.ticket.events.get(data__code="sla", body__startswith="Resolution SLA")
    assert "“Standard” v1 applies: priority P3 is one of P3, P4." in note.body
    assert "Not “P1 fast” (priority P3 is not P1)." in note.body


def test_retroactive_policy_counts_from_the_start_excluding_paused_time(
    at, make_policy, office, raise_incident, agent
):
    # given: a P3 office-hours clock (Mon 10:00 UTC = 11:00 Berlin) paused for an hour
    make_policy(target=timedelta(hours=30), calendar=office, order=100, name="P3")
    make_policy(
        target=timedelta(hours=4), order=10, priorities=[1], name="P1 24x7", retroactive=True
    )
    incident = raise_incident()
    at(hours=1)
    incident_transition(
        incident=incident,
        by=agent,
        target=IncidentStatus.ON_HOLD,
        on_hold_reason=OnHoldReason.AWAITING_VENDOR,
    )
    at(hours=2)
    incident_transition(incident=incident, by=agent, target=IncidentStatus.IN_PROGRESS)
    at(hours=3)
    # when: raised to P1, whose policy is retroactive
    incident_override_priority(incident=incident, by=agent, priority=1, reason="outage")
    # then: 2 h of running time (3 h minus 1 h paused) count against the 4 h target
    c = clock(incident)
    assert (c.policy.name, c.elapsed) == ("P1 24x7", timedelta(hours=2))
    assert c.due_at == T0 + timedelta(hours=5)
    assert "retroactive" in incident.ticket.events.filter(data__code="sla").last().body


def test_forward_only_policy_carries_elapsed_time_over(
    at, make_policy, office, raise_incident, agent
):
    make_policy(target=timedelta(hours=30), calendar=office, order=100, name="P3")
    make_policy(target=timedelta(hours=4), order=10, priorities=[1], name="P1 24x7")
    incident = raise_incident()
    at(hours=3)
    incident_override_priority(incident=incident, by=agent, priority=1, reason="outage")
    c = clock(incident)
    assert c.elapsed == timedelta(hours=3)  # measured on the office calendar until the switch
    assert c.due_at == T0 + timedelta(hours=4)


def test_warning_crossed_before_a_pause_keeps_its_real_planned_instant(
    at, make_policy, raise_incident, agent
):
    make_policy(target=timedelta(hours=4), warning_thresholds=[50])
    incident = raise_incident()
    at(hours=3)
    incident_transition(
        incident=incident,
        by=agent,
        target=IncidentStatus.ON_HOLD,
        on_hold_reason=OnHoldReason.AWAITING_CALLER,
    )
    at(hours=4)
    incident_transition(incident=incident, by=agent, target=IncidentStatus.IN_PROGRESS)
    sla_sweep()
    assert SlaEvent.objects.get(type="warning").planned_at == T0 + timedelta(hours=2)


def test_policy_versions_move_open_clocks_forward_and_keep_closed_ones(
    at, make_policy, raise_incident, agent, manager
):
    from slas.models import PolicyVersion
    from slas.services import sla_clocks_recalculate, sla_policy_version

    policy = make_policy(target=timedelta(hours=8))
    sla_policy_version(policy=policy, by=manager, changed=[])
    open_one, closed_one = raise_incident(), raise_incident()
    resolve(closed_one, agent)
    # when: the target changes (version 2)
    policy.target = timedelta(hours=6)
    policy.save()
    assert sla_policy_version(policy=policy, by=manager, changed=["target"]) == 2
    assert sla_policy_version(policy=policy, by=manager, changed=["name"]) == 2  # cosmetic
    sla_clocks_recalculate(clock_ids=list(SlaClock.objects.values_list("pk", flat=True)))
    # then
    assert (clock(open_one).policy_version, clock(open_one).due_at) == (2, T0 + timedelta(hours=6))
    assert (clock(closed_one).policy_version, clock(closed_one).target) == (1, timedelta(hours=8))
    assert (
        PolicyVersion.objects.get(policy=policy, version=2).snapshot["target_seconds"] == 6 * 3600
    )


def test_requester_sees_a_plain_promise_without_internal_details(
    at, make_policy, raise_incident, client, requester
):
    make_policy(metric="response", target=timedelta(hours=1), name="Secret internal policy name")
    incident = raise_incident()
    client.force_login(requester)
    page = client.get(incident.ticket.portal_url).content.decode()
    assert "We aim to respond by Mon 23 Nov, 11:00 UTC." in page
    assert "Secret internal policy name" not in page


def test_pausing_after_the_deadline_before_any_sweep_still_records_the_breach(
    at, make_policy, raise_incident, agent
):
    # found by the replay property test: the pause used to hide the breach for good
    make_policy(target=timedelta(hours=2))
    incident = raise_incident()
    at(hours=2, minutes=1)
    incident_transition(
        incident=incident,
        by=agent,
        target=IncidentStatus.ON_HOLD,
        on_hold_reason=OnHoldReason.AWAITING_CALLER,
    )
    c = clock(incident)
    assert (c.state, c.breached_at) == (ClockState.BREACHED, T0 + timedelta(hours=2))
    assert SlaEvent.objects.get(clock=c, type="breach").planned_at == T0 + timedelta(hours=2)


def test_a_deadline_at_closing_time_breaches_at_the_next_opening_without_busy_sweeps(
    at, make_policy, office, raise_incident
):
    # Monday 11:00 Berlin + 6 working hours = 17:00 Berlin, the closing time
    make_policy(target=timedelta(hours=6), calendar=office, warning_thresholds=[])
    incident = raise_incident()
    c = clock(incident)
    assert c.due_at == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert c.next_check_at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC) + timedelta(microseconds=1)
    at(hours=10)  # the evening: nothing is due, nothing is claimed
    assert sla_sweep().claimed == 0
    at(days=1, minutes=5)  # Tuesday 09:05 Berlin
    assert sla_sweep().breaches == 1
    assert clock(incident).breached_at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_calendar_versions_move_open_clocks_forward_and_keep_closed_ones(
    at, make_policy, always, raise_incident, agent, manager
):
    from slas.models import CalendarVersion
    from slas.services import sla_calendar_version, sla_clocks_recalculate

    make_policy(target=timedelta(hours=8))
    assert sla_calendar_version(calendar=always, by=manager) == 1
    open_one, closed_one = raise_incident(), raise_incident()
    resolve(closed_one, agent)
    always.hours = {str(d): [["00:00", "12:00"]] for d in range(7)}  # mornings only now
    always.save()
    assert sla_calendar_version(calendar=always, by=manager) == 2
    assert sla_calendar_version(calendar=always, by=manager) == 2  # nothing changed
    sla_clocks_recalculate(clock_ids=list(SlaClock.objects.values_list("pk", flat=True)))
    assert clock(open_one).calendar_version == 2
    assert clock(closed_one).calendar_version == 1
    assert CalendarVersion.objects.get(calendar=always, version=2).snapshot["hours"]["0"] == [
        ["00:00", "12:00"]
    ]
