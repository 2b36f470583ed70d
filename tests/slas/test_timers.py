"""SLA timers on the real thing: Celery worker and beat on Redis, PostgreSQL, several sweepers."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from incidents.services import incident_create
from servicedesk.celery import app
from slas.choices import Action, Trigger
from slas.models import EscalationEvent, EscalationRule, SlaClock, SlaEvent
from slas.services import sla_sweep
from tests.conftest import wait_until
from tickets.models import Notification

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def breach_rule(make_policy, agent, network_team):
    network_team.lead = agent
    network_team.save()
    policy = make_policy(metric="resolution", target=timedelta(seconds=3), warning_thresholds=[])
    return EscalationRule.objects.create(
        policy=policy, trigger=Trigger.BREACH, action=Action.NOTIFY_TEAM_LEAD
    )


def test_breach_is_recorded_within_two_seconds_and_escalates_once(
    celery_worker_process, breach_rule, requester, network_team, agent
):
    # given a worker with an embedded beat ticking the sweep every second
    celery_worker_process(beat=True)
    incident = incident_create(
        requester=requester, by=requester, team=network_team, title="3-second SLA"
    )
    clock = SlaClock.objects.get(ticket_id=incident.pk)
    # when the deadline passes
    breach = wait_until(
        lambda: SlaEvent.objects.filter(clock=clock, type="breach").first(),
        timeout=20,
        message="no breach",
    )
    # then it was recorded within 2 s of the deadline, and the escalation fired once
    assert breach.planned_at == clock.due_at
    assert timedelta(0) <= breach.recorded_at - breach.planned_at < timedelta(seconds=2)
    wait_until(lambda: EscalationEvent.objects.filter(done_at__isnull=False).exists(), timeout=20)
    assert EscalationEvent.objects.count() == 1
    assert Notification.objects.filter(recipient=agent, event="sla_escalation").count() == 1


def test_killed_worker_between_claim_and_action_still_fires_exactly_once(
    celery_worker_process, breach_rule, requester, network_team, agent, monkeypatch
):
    # given: a first worker that only sweeps (the escalation queue is not consumed)
    sweeper = celery_worker_process(beat=True, queues="celery")
    incident = incident_create(
        requester=requester, by=requester, team=network_team, title="crash test"
    )
    wait_until(
        lambda: EscalationEvent.objects.filter(clock__ticket_id=incident.pk).exists(), timeout=20
    )
    # when: that worker dies (SIGKILL) after the claim, and the queued message is lost with it
    sweeper.kill()
    sweeper.wait(timeout=10)
    with app.connection_for_write() as conn:
        conn.default_channel.client.delete("escalations")
    event = EscalationEvent.objects.get()
    assert event.done_at is None
    # and a fresh worker starts (its sweep re-enqueues escalations not done after 1 s)
    celery_worker_process(beat=True, env={"SLA_ESCALATION_RETRY_SECONDS": "1"})
    # then: the action runs, exactly once
    wait_until(lambda: EscalationEvent.objects.filter(done_at__isnull=False).exists(), timeout=30)
    from slas.tasks import run_escalation_task

    run_escalation_task.delay(event_id=event.pk).get(timeout=20)  # a duplicate delivery too
    assert Notification.objects.filter(recipient=agent, event="sla_escalation").count() == 1
    assert EscalationEvent.objects.get().attempts == 1


def _due_clocks(n, policy, requester):
    """n tickets whose clocks are all past their deadline (data set up directly, fast)."""
    from tickets.models import Ticket

    now = timezone.now()
    tickets = Ticket.objects.bulk_create(
        Ticket(kind="incident", number=f"BULK{i:07d}", title=f"bulk {i}", requester=requester)
        for i in range(n)
    )
    SlaClock.objects.bulk_create(
        SlaClock(
            ticket=t,
            metric="resolution",
            policy=policy,
            target=policy.target,
            started_at=now - timedelta(hours=2),
            running_since=now - timedelta(hours=2),
            due_at=now - timedelta(hours=1),
            next_check_at=now - timedelta(hours=1),
        )
        for t in tickets
    )


def test_two_concurrent_sweepers_fire_each_breach_exactly_once(make_policy, requester):
    # given 1,000 clocks already due
    policy = make_policy(target=timedelta(hours=1), warning_thresholds=[])
    _due_clocks(1000, policy, requester)
    results = []

    def sweep():
        try:
            results.append(sla_sweep(batch_size=100))
        finally:
            connection.close()

    # when two sweepers race
    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    # then every clock breached once, and the work was shared
    assert sum(r.breaches for r in results) == 1000
    assert SlaEvent.objects.filter(type="breach").count() == 1000
    assert SlaClock.objects.filter(breached_at__isnull=True).count() == 0
