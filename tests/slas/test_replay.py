"""Replay and what-if: the journal simulator must agree with the live engine."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.choices import IncidentStatus, OnHoldReason, ResolutionCode
from incidents.services import incident_create, incident_transition
from slas.calendar import business_time_between
from slas.models import ClockReplay, SlaClock, SlaPolicy
from slas.replay import Rules, clock_replay, policy_whatif, simulate_clock
from slas.services import sla_sweep, worked

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

HOLD, RESUME, RESOLVE, REOPEN = "hold", "resume", "resolve", "reopen"


def _apply(incident, agent, step):
    status = incident.status
    if step == HOLD and status in (IncidentStatus.NEW, IncidentStatus.IN_PROGRESS):
        incident_transition(
            incident=incident,
            by=agent,
            target=IncidentStatus.ON_HOLD,
            on_hold_reason=OnHoldReason.AWAITING_CALLER,
        )
    elif step == RESUME and status == IncidentStatus.ON_HOLD:
        incident_transition(incident=incident, by=agent, target=IncidentStatus.IN_PROGRESS)
    elif step == RESOLVE and status in (
        IncidentStatus.NEW,
        IncidentStatus.IN_PROGRESS,
        IncidentStatus.ON_HOLD,
    ):
        incident_transition(
            incident=incident,
            by=agent,
            target=IncidentStatus.RESOLVED,
            resolution_code=ResolutionCode.FIXED,
            resolution_notes="ok",
        )
    elif step == REOPEN and status == IncidentStatus.RESOLVED:
        incident_transition(incident=incident, by=agent, target=IncidentStatus.IN_PROGRESS)
    incident.refresh_from_db()


steps = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=600), st.sampled_from([HOLD, RESUME, RESOLVE, REOPEN])
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=steps)
def test_segments_sum_to_elapsed_and_replay_agrees_with_the_engine(
    history, office, requester, agent
):
    # one policy for every example (examples share the test transaction)
    SlaPolicy.objects.get_or_create(
        name="generated",
        defaults={
            "kind": "incident",
            "metric": "resolution",
            "target": timedelta(hours=6),
            "calendar": office,
            "pause_statuses": ["on_hold"],
        },
    )
    at = T0
    with time_machine.travel(at, tick=False) as traveller:
        incident = incident_create(requester=requester, by=requester, title="generated")
        for minutes, step in history:
            at += timedelta(minutes=minutes)
            traveller.move_to(at)
            _apply(incident, agent, step)
        at += timedelta(minutes=30)
        traveller.move_to(at)
        clock = SlaClock.objects.select_related("policy__calendar", "ticket").get(
            ticket_id=incident.pk, metric="resolution"
        )
        # the timeline's running segments sum exactly to the clock's working time
        calendar = clock.policy.calendar.calendar
        total = sum(
            (
                business_time_between(calendar, s.started_at, s.ended_at or at)
                for s in clock.segments.filter(running=True)
            ),
            timedelta(0),
        )
        assert total == worked(clock, at)
        # and, once the sweep has run as beat would, an independent replay from the
        # journal finds nothing to change
        sla_sweep()
        assert clock_replay(clock_id=clock.pk).differences == {}


def test_replay_dry_run_finds_an_injected_discrepancy_and_apply_fixes_only_that_clock(
    make_policy, requester, agent, manager, time_machine
):
    time_machine.move_to(T0, tick=False)
    make_policy(target=timedelta(hours=4))
    broken, fine = (
        incident_create(requester=requester, by=requester, title=t) for t in ("broken", "fine")
    )
    time_machine.move_to(T0 + timedelta(hours=1), tick=False)
    incident_transition(
        incident=broken,
        by=agent,
        target=IncidentStatus.ON_HOLD,
        on_hold_reason=OnHoldReason.AWAITING_VENDOR,
    )
    time_machine.move_to(T0 + timedelta(hours=5), tick=False)
    incident_transition(incident=broken, by=agent, target=IncidentStatus.IN_PROGRESS)
    sla_sweep()  # what beat does every second: "fine" is now properly breached
    # a bug lost the pause: elapsed overstated by 4 h and a bogus breach recorded
    bad = SlaClock.objects.get(ticket_id=broken.pk)
    SlaClock.objects.filter(pk=bad.pk).update(
        elapsed=timedelta(hours=5), breached_at=T0 + timedelta(hours=4), state="breached"
    )
    good = SlaClock.objects.get(ticket_id=fine.pk)
    # dry run
    result = clock_replay(clock_id=bad.pk)
    assert result.differences["state"] == ("breached", "running")
    assert not result.applied
    assert SlaClock.objects.get(pk=bad.pk).state == "breached"
    # apply
    assert clock_replay(clock_id=bad.pk, apply=True, by=manager).applied
    fixed = SlaClock.objects.get(pk=bad.pk)
    assert (fixed.state, fixed.breached_at, fixed.elapsed) == ("running", None, timedelta(hours=1))
    assert fixed.due_at == T0 + timedelta(hours=8)
    assert ClockReplay.objects.get(clock=fixed).before["state"] == "breached"
    assert broken.ticket.events.filter(data__code="sla_replay").exists()
    assert clock_replay(clock_id=good.pk).differences == {}
    assert SlaClock.objects.get(pk=good.pk).updated_at == good.updated_at


def test_whatif_counts_outcome_changes_on_a_hand_built_history_of_50_tickets(
    make_policy, requester, agent, time_machine
):
    # given: 25 tickets resolved after 3 h and 25 after 5 h, on a 4 h target
    policy = make_policy(target=timedelta(hours=4), warning_thresholds=[])
    for i in range(50):
        time_machine.move_to(T0 + timedelta(minutes=i), tick=False)
        incident = incident_create(requester=requester, by=requester, title=f"h{i}")
        time_machine.move_to(T0 + timedelta(minutes=i, hours=3 if i % 2 else 5), tick=False)
        incident_transition(
            incident=incident,
            by=agent,
            target=IncidentStatus.RESOLVED,
            resolution_code=ResolutionCode.FIXED,
            resolution_notes="ok",
        )
    time_machine.move_to(T0 + timedelta(days=1), tick=False)
    current = policy_whatif(policy=policy, rules=Rules.of(policy))
    looser = policy_whatif(
        policy=policy, rules=Rules(timedelta(hours=6), policy.calendar.calendar, frozenset())
    )
    tighter = policy_whatif(
        policy=policy, rules=Rules(timedelta(hours=2), policy.calendar.calendar, frozenset())
    )
    # then
    assert (current.closed_clocks, current.met_to_breached, current.breached_to_met) == (50, 0, 0)
    assert (looser.met_to_breached, looser.breached_to_met) == (0, 25)
    assert (tighter.met_to_breached, tighter.breached_to_met) == (25, 0)


def test_simulated_clock_matches_the_stored_one_for_a_clock_paused_twice(
    make_policy, requester, agent, time_machine
):
    time_machine.move_to(T0, tick=False)
    make_policy(target=timedelta(hours=8))
    incident = incident_create(requester=requester, by=requester, title="twice")
    for h, target in (
        (1, IncidentStatus.ON_HOLD),
        (2, IncidentStatus.IN_PROGRESS),
        (3, IncidentStatus.ON_HOLD),
        (5, IncidentStatus.IN_PROGRESS),
    ):
        time_machine.move_to(T0 + timedelta(hours=h), tick=False)
        incident_transition(
            incident=incident, by=agent, target=target, on_hold_reason=OnHoldReason.AWAITING_CALLER
        )
    clock = SlaClock.objects.select_related("ticket", "policy__calendar").get(ticket_id=incident.pk)
    simulated = simulate_clock(clock, until=T0 + timedelta(hours=6))
    assert [(r, why) for r, _, _, why in simulated.segments] == [
        (True, "started"),
        (False, "status on_hold"),
        (True, "status in_progress"),
        (False, "status on_hold"),
        (True, "status in_progress"),
    ]
    assert simulated.worked == timedelta(hours=3)
    assert simulated.due_at == clock.due_at == T0 + timedelta(hours=11)
