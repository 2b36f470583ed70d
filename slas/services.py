"""SLA clocks.

`sla_clocks_sync` starts, pauses, resumes, stops and re-targets a ticket's clocks inside
the transaction of the ticket change that causes it. `sla_sweep` (Celery beat, every
second) claims the clocks whose `next_check_at` has come (`FOR UPDATE SKIP LOCKED`) and
records warnings, breaches and escalations, each exactly once. `escalation_run` performs
one escalation; it is idempotent and the sweep re-enqueues any whose message was lost."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import holidays as holidays_lib
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone

from tickets import events
from tickets.choices import EventType, TicketState
from tickets.models import Ticket, TicketEvent
from tickets.notifications import notify
from tickets.services import ticket_change_fields, ticket_lock, ticket_save

from .calendar import add_business_time, business_time_between, next_opening
from .choices import Action, ClockState, Metric, SlaEventType, Trigger
from .models import (
    BusinessCalendar,
    ClockSegment,
    EscalationEvent,
    EscalationRule,
    Holiday,
    RecalculationJob,
    SlaClock,
    SlaEvent,
    SlaPolicy,
    WhatIfRun,
)
from .olas import ola_clocks_sync, ola_sweep

#: Kind statuses that cancel every clock (a cancelled incident, a rejected request…).
CANCELLING_STATUSES = frozenset({"cancelled", "rejected"})
_TINY = timedelta(microseconds=1)
RUNNING, PAUSED, STOPPED, CANCELLED = "running", "paused", "stopped", "cancelled"


# ------------------------------------------------------------------ policy choice
def _conditions(policy: SlaPolicy, ticket: Ticket) -> tuple[list[str], str | None]:
    """The policy's conditions in words: those the ticket meets, and the first it fails."""
    met: list[str] = []
    if policy.priorities:
        wanted = ", ".join(f"P{p}" for p in sorted(policy.priorities))
        if ticket.priority not in policy.priorities:
            return met, f"priority P{ticket.priority} is not {wanted}"
        met.append(f"priority P{ticket.priority} is one of {wanted}")
    for attr, related, label in (
        ("service", "services", "service"),
        ("team", "teams", "team"),
        ("organization", "organizations", "organisation"),
    ):
        allowed = {obj.pk: str(obj) for obj in getattr(policy, related).all()}
        if not allowed:
            continue
        if getattr(ticket, f"{attr}_id") not in allowed:
            return met, f"{label} is not one of {', '.join(sorted(allowed.values()))}"
        met.append(f"{label} {allowed[getattr(ticket, f'{attr}_id')]} is in the list")
    if not met:
        met.append(f"applies to every {ticket.get_kind_display().lower()}")
    return met, None


#: Everything `_active_policies` reads, as text, hashed: the policies of a kind with their
#: calendar stamp, and the names of their services, teams and organisations (the match
#: reasons quote them). Any edit, however it is made (service, admin, queryset update,
#: M2M add), changes it.
_POLICY_STAMP_SQL = """
SELECT md5(coalesce(string_agg(line, '|' ORDER BY line), '')) FROM (
    SELECT p::text || c.version || c.updated_at::text AS line
    FROM slas_slapolicy p JOIN slas_businesscalendar c ON c.id = p.calendar_id
    WHERE p.kind = %(kind)s
    UNION ALL
    SELECT 's' || x.slapolicy_id || ':' || o.id || ':' || o.name
    FROM slas_slapolicy_services x JOIN catalogue_service o ON o.id = x.service_id
    JOIN slas_slapolicy p ON p.id = x.slapolicy_id WHERE p.kind = %(kind)s
    UNION ALL
    SELECT 't' || x.slapolicy_id || ':' || o.id || ':' || o.name
    FROM slas_slapolicy_teams x JOIN accounts_team o ON o.id = x.team_id
    JOIN slas_slapolicy p ON p.id = x.slapolicy_id WHERE p.kind = %(kind)s
    UNION ALL
    SELECT 'o' || x.slapolicy_id || ':' || o.id || ':' || o.name
    FROM slas_slapolicy_organizations x JOIN accounts_organization o ON o.id = x.organization_id
    JOIN slas_slapolicy p ON p.id = x.slapolicy_id WHERE p.kind = %(kind)s
) lines
"""
#: kind → (stamp, policies): this process's copy, reused while the stamp is unchanged.
_POLICY_CACHE: dict[str, tuple[str, list[SlaPolicy]]] = {}


def _active_policies(kind: str) -> list[SlaPolicy]:
    """The active policies of a kind in precedence order, with calendar and conditions.

    Every ticket write syncs its clocks, and loading the policies took four queries and
    about 10 ms of ORM work per create (issue #12). One query now hashes what they are made
    of; the process keeps the loaded policies while that hash is unchanged. The instances are
    shared between calls: read them, never modify them."""
    with connection.cursor() as cursor:
        cursor.execute(_POLICY_STAMP_SQL, {"kind": kind})
        (stamp,) = cursor.fetchone()
    cached = _POLICY_CACHE.get(kind)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    policies = list(
        SlaPolicy.objects.filter(active=True, kind=kind)
        .select_related("calendar")
        .prefetch_related("services", "teams", "organizations")
        .order_by("order", "pk")
    )
    _POLICY_CACHE[kind] = (stamp, policies)
    return policies


def policy_for(
    *, ticket: Ticket, metric: str, policies: list[SlaPolicy] | None = None
) -> tuple[SlaPolicy | None, dict[str, Any]]:
    """The policy that applies (first match by precedence) and why, including the
    higher-precedence policies that did not match and the condition each failed."""
    skipped = []
    for policy in policies if policies is not None else _active_policies(ticket.kind):
        if policy.metric != metric:
            continue
        matched, failed = _conditions(policy, ticket)
        if failed is None:
            return policy, {
                "policy": policy.name,
                "policy_id": policy.pk,
                "version": policy.version,
                "matched": matched,
                "skipped": skipped,
            }
        skipped.append({"policy": policy.name, "policy_id": policy.pk, "failed": failed})
    return None, {"policy": None, "skipped": skipped}


# ------------------------------------------------------------------ clock arithmetic
def worked(clock: SlaClock, at: datetime) -> timedelta:
    """Working time on the clock at `at` (exact, never rounded)."""
    total = clock.elapsed
    if clock.running_since is not None and at > clock.running_since:
        total += business_time_between(clock.policy.calendar.calendar, clock.running_since, at)
    return total


def _position(clock: SlaClock) -> str:
    if clock.state == ClockState.CANCELLED:
        return CANCELLED
    if clock.stopped_at is not None:
        return STOPPED
    if clock.paused_at is not None:
        return PAUSED
    return RUNNING


def _desired(metric: str, ticket: Ticket, status: str, policy: SlaPolicy) -> tuple[str, str]:
    if status in CANCELLING_STATUSES:
        return CANCELLED, f"status {status}"
    done = ticket.state in (TicketState.RESOLVED, TicketState.CLOSED)
    if metric == Metric.RESPONSE and ticket.first_responded_at is not None:
        return STOPPED, "first response"
    if done:
        return STOPPED, f"ticket {ticket.get_state_display().lower()}"
    if status in policy.pause_statuses:
        return PAUSED, f"status {status}"
    return RUNNING, f"status {status}"


def _close_segment(clock: SlaClock, at: datetime) -> None:
    if clock.running_since is not None:
        clock.elapsed = worked(clock, at)
        clock.running_since = None
    ClockSegment.objects.filter(clock=clock, ended_at__isnull=True).update(ended_at=at)


def _open_segment(clock: SlaClock, *, running: bool, at: datetime, reason: str) -> None:
    # The status change that caused this stretch was journalled just before, in this transaction.
    cause = (
        TicketEvent.objects.filter(ticket_id=clock.ticket_id, type=EventType.STATUS_CHANGED)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        if reason.startswith("status")
        else None
    )
    ClockSegment.objects.create(
        clock=clock, running=running, started_at=at, reason=reason[:100], journal_event_id=cause
    )


def _instant(clock: SlaClock, amount: timedelta) -> datetime:
    """When working time on a running clock reaches `amount` (its next working instant if
    it already has)."""
    assert clock.running_since is not None
    calendar = clock.policy.calendar.calendar
    left = amount - clock.elapsed
    if left <= timedelta(0):
        return next_opening(calendar, clock.running_since)
    return add_business_time(calendar, clock.running_since, left)


def breach_instant(clock: SlaClock) -> datetime:
    """A breach is the first instant working time exceeds the target: the deadline itself,
    or the next opening when the deadline falls on a closing time."""
    assert clock.due_at is not None
    return next_opening(clock.policy.calendar.calendar, clock.due_at)


def _threshold_amount(clock: SlaClock, percent: int) -> timedelta:
    return clock.target * percent / 100


def _schedule(clock: SlaClock) -> None:
    """Recompute due_at and next_check_at from the clock's position."""
    position = _position(clock)
    if position in (STOPPED, CANCELLED):
        clock.next_check_at = None
        return
    candidates: list[datetime] = []
    if position == RUNNING and not clock.is_breached:
        clock.due_at = _instant(clock, clock.target)
        candidates.append(breach_instant(clock) + _TINY)  # once working time exceeds target
        for percent in sorted(set(clock.policy.warning_thresholds) - set(clock.warnings)):
            candidates.append(_instant(clock, _threshold_amount(clock, percent)))
    elif position == PAUSED and not clock.is_breached:
        clock.due_at = None  # unknown while paused
    if clock.is_breached:
        fired = set(clock.escalations.values_list("rule_id", flat=True))
        for rule in _rules(clock.policy):
            if rule.trigger == Trigger.BREACH and rule.delay and rule.pk not in fired:
                candidates.append(clock.breached_at + rule.delay)
    clock.next_check_at = min(candidates) if candidates else None


def _rules(policy: SlaPolicy) -> list[EscalationRule]:
    return [r for r in policy.escalation_rules.all() if r.active]


def _move(clock: SlaClock, desired: str, reason: str, at: datetime) -> None:
    """Change a clock's position; accumulates working time at every boundary."""
    position = _position(clock)
    if desired == position:
        return
    _close_segment(clock, at)
    if desired != CANCELLED and not clock.is_breached and clock.elapsed > clock.target:
        # The deadline passed before the sweep saw it (a pause or stop in between): it is
        # still a breach, at the instant working time really reached the target.
        _record_breach(clock, planned=_crossing(clock, clock.target, strict=True), now=at)
    if desired == RUNNING:
        if position in (STOPPED, CANCELLED):
            reason = f"reopened ({reason})"
        clock.stopped_at = None
        clock.paused_at = None
        clock.running_since = at
        clock.state = ClockState.BREACHED if clock.is_breached else ClockState.RUNNING
        _open_segment(clock, running=True, at=at, reason=reason)
    elif desired == PAUSED:
        clock.paused_at = at
        clock.stopped_at = None
        clock.state = ClockState.BREACHED if clock.is_breached else ClockState.PAUSED
        _open_segment(clock, running=False, at=at, reason=reason)
    elif desired == STOPPED:
        clock.paused_at = None
        clock.stopped_at = at
        clock.state = ClockState.BREACHED if clock.is_breached else ClockState.MET
    else:
        clock.state = ClockState.CANCELLED
        clock.stopped_at = at
        clock.paused_at = None
        EscalationEvent.objects.filter(clock=clock, done_at__isnull=True).update(cancelled_at=at)


# ------------------------------------------------------------------ sync
def sla_clocks_sync(*, ticket: Ticket, status: str, at: datetime | None = None) -> list[SlaClock]:
    """Bring a ticket's clocks in line with its current state, in the caller's transaction.

    Starts missing clocks, pauses/resumes on pause statuses, stops on first response or
    resolution, restarts on reopen (same clock, paused time excluded), cancels on
    cancellation, and switches to another policy when priority/service/team changed,
    keeping the working time already elapsed."""
    at = at or timezone.now()
    policies = _active_policies(ticket.kind)
    clocks = {
        c.metric: c
        for c in SlaClock.objects.select_for_update()
        .filter(ticket=ticket)
        .select_related("policy__calendar")
    }
    result = []
    for metric in Metric.values:
        policy, reason = policy_for(ticket=ticket, metric=metric, policies=policies)
        clock = clocks.get(metric)
        if clock is None:
            if policy is None:
                continue
            desired, why = _desired(metric, ticket, status, policy)
            if desired in (STOPPED, CANCELLED):
                continue
            clock = _start(ticket=ticket, metric=metric, policy=policy, reason=reason, at=at)
            if desired == RUNNING:
                # _start scheduled and saved it running: the move below would be a no-op and
                # the save a second, identical write (one round-trip per clock on every create).
                result.append(clock)
                continue
        elif policy is None:
            if clock.is_open:
                _move(clock, CANCELLED, "no policy applies any more", at)
                _note(ticket, f"{clock.get_metric_display()} SLA cancelled: no policy applies.")
            _schedule(clock)
            clock.save()
            result.append(clock)
            continue
        elif policy.pk != clock.policy_id and clock.is_open:
            _retarget(clock, policy, reason, at)
        desired, why = _desired(metric, ticket, status, clock.policy)
        _move(clock, desired, why, at)
        _schedule(clock)
        clock.save()
        result.append(clock)
    ola_clocks_sync(ticket=ticket, status=status, paused=False, at=at)
    return result


def _start(
    *, ticket: Ticket, metric: str, policy: SlaPolicy, reason: dict, at: datetime
) -> SlaClock:
    clock = SlaClock(
        ticket=ticket,
        metric=metric,
        policy=policy,
        target=policy.target,
        started_at=at,
        running_since=at,
        match_reason=reason,
        policy_version=policy.version,
        calendar_version=policy.calendar.version,
    )
    _schedule(clock)  # deadline and next check in the INSERT (a running, unbreached clock)
    clock.save()
    _open_segment(clock, running=True, at=at, reason="started")
    _note(
        ticket,
        f"{clock.get_metric_display()} SLA: {explain(reason)}",
        data={"policy_id": policy.pk},
    )
    return clock


def explain(reason: dict[str, Any]) -> str:
    """A match reason in one sentence, for the journal and the API."""
    if not reason.get("policy"):
        return "no policy applies."
    matched = "; ".join(reason.get("matched", []))
    text = f"“{reason['policy']}” v{reason.get('version', 1)} applies: {matched}."
    skipped = reason.get("skipped") or []
    if skipped:
        text += " Not " + "; not ".join(f"“{s['policy']}” ({s['failed']})" for s in skipped) + "."
    return text


def _retarget(clock: SlaClock, policy: SlaPolicy, reason: dict, at: datetime) -> None:
    """Switch to another policy, keeping elapsed working time (counted on the old calendar
    up to now) and the breach history."""
    old, old_elapsed = clock.policy, clock.elapsed
    running = clock.running_since is not None
    _close_segment(clock, at)
    clock.policy = policy
    clock.policy_version = policy.version
    clock.calendar_version = policy.calendar.version
    clock.target = policy.target
    clock.match_reason = reason
    if policy.retroactive:
        # Count the clock's whole running history again under the new policy's calendar:
        # paused stretches stay excluded, nothing is reset silently.
        clock.elapsed = _history_worked(clock)
        clock.warnings = []
    else:
        clock.warnings = [t for t in clock.warnings if t in policy.warning_thresholds]
    if running:
        clock.running_since = at
        _open_segment(clock, running=True, at=at, reason=f"policy changed to {policy.name}")
    how = (
        f"counted again from {clock.started_at:%Y-%m-%d %H:%M %Z} (retroactive): {clock.elapsed}"
        if policy.retroactive
        else f"{old_elapsed} of working time carried over"
    )
    _note(
        clock.ticket,
        f"{clock.get_metric_display()} SLA now follows “{policy.name}” v{policy.version} "
        f"(target {policy.target}) instead of “{old.name}”; {how}. {explain(reason)}",
        data={"policy_id": policy.pk, "previous_policy_id": old.pk},
    )


def _running_segments(clock: SlaClock) -> list[tuple[datetime, datetime | None]]:
    return list(
        ClockSegment.objects.filter(clock=clock, running=True)
        .order_by("started_at", "pk")
        .values_list("started_at", "ended_at")
    )


def _history_worked(clock: SlaClock, until: datetime | None = None) -> timedelta:
    """Working time of all closed running segments under the clock's current calendar."""
    calendar = clock.policy.calendar.calendar
    total = timedelta(0)
    for start, end in _running_segments(clock):
        if end is not None:
            total += business_time_between(calendar, start, min(end, until) if until else end)
    return total


def _crossing(clock: SlaClock, amount: timedelta, *, strict: bool = False) -> datetime:
    """The instant working time reached `amount` (`strict`: first exceeded it), walking the
    running segments in order, so a threshold crossed before a pause keeps its real instant."""
    calendar = clock.policy.calendar.calendar
    acc = timedelta(0)
    for start, end in _running_segments(clock):
        stop = end or (clock.running_since and timezone.now())
        piece = business_time_between(calendar, start, stop) if stop else timedelta(0)
        if acc + piece > amount or (not strict and acc + piece == amount):
            left = amount - acc
            reached = add_business_time(calendar, start, left) if left else start
            return next_opening(calendar, reached) if strict else reached
        acc += piece
    return _instant(clock, amount)


def _note(ticket: Ticket, body: str, data: dict | None = None) -> None:
    events.system(ticket=ticket, code="sla", body=body, data=data)


# ------------------------------------------------------------------ sweep
@dataclass
class SweepResult:
    claimed: int = 0
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    requeued: int = 0
    ola_breaches: int = 0


def sla_sweep(*, now: datetime | None = None, batch_size: int = 500) -> SweepResult:
    """Claim due clocks (`next_check_at <= now`, partial index, SKIP LOCKED, one batch per
    transaction) and record what is due. Several sweepers may run at once."""
    now = now or timezone.now()
    result = SweepResult()
    while True:
        with transaction.atomic():
            clocks = list(
                SlaClock.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(next_check_at__lte=now)
                .select_related("ticket", "policy__calendar")
                .prefetch_related(
                    Prefetch(
                        "policy__escalation_rules",
                        queryset=EscalationRule.objects.filter(active=True),
                    )
                )
                .order_by("next_check_at")[:batch_size]
            )
            for clock in clocks:
                _process(clock, now, result)
        result.claimed += len(clocks)
        if len(clocks) < batch_size:
            break
    result.requeued = _requeue_lost_escalations(now)
    result.ola_breaches = ola_sweep(now=now)
    return result


def _process(clock: SlaClock, now: datetime, result: SweepResult) -> None:
    if clock.running_since is not None and not clock.is_breached:
        worked_now = worked(clock, now)
        for percent in sorted(set(clock.policy.warning_thresholds) - set(clock.warnings)):
            amount = _threshold_amount(clock, percent)
            if worked_now < amount:
                continue
            planned = _instant(clock, amount)
            if planned <= clock.running_since:  # crossed in an earlier segment
                planned = _crossing(clock, amount)
            SlaEvent.objects.get_or_create(
                clock=clock,
                type=SlaEventType.WARNING,
                threshold=percent,
                defaults={"planned_at": planned, "recorded_at": now},
            )
            clock.warnings = [*clock.warnings, percent]
            _note(
                clock.ticket,
                f"{clock.get_metric_display()} SLA at {percent}% of {clock.target}.",
                data={"sla": "warning", "threshold": percent, "metric": clock.metric},
            )
            result.warnings += 1
            result.escalations += _fire(clock, Trigger.WARNING, percent, planned, now)
        if worked_now > clock.target:
            planned = breach_instant(clock) if clock.due_at else now
            if planned <= clock.running_since:
                planned = _crossing(clock, clock.target, strict=True)
            _record_breach(clock, planned=planned, now=now)
            result.breaches += 1
    if clock.is_breached and clock.is_open:
        result.escalations += _fire_delayed(clock, now)
    _schedule(clock)
    clock.save()


def _record_breach(clock: SlaClock, *, planned: datetime, now: datetime) -> None:
    clock.breached_at = planned
    if clock.state in (ClockState.RUNNING, ClockState.PAUSED):
        clock.state = ClockState.BREACHED
    SlaEvent.objects.get_or_create(
        clock=clock,
        type=SlaEventType.BREACH,
        threshold=100,
        defaults={"planned_at": planned, "recorded_at": now},
    )
    _note(
        clock.ticket,
        f"{clock.get_metric_display()} SLA breached "
        f"(target {clock.target}, due {planned:%Y-%m-%d %H:%M:%S %Z}).",
        data={"sla": "breach", "metric": clock.metric},
    )
    _fire(clock, Trigger.BREACH, None, planned, now, delay=timedelta(0))


def _fire(
    clock: SlaClock,
    trigger: str,
    threshold: int | None,
    planned: datetime,
    now: datetime,
    delay: timedelta | None = None,
) -> int:
    fired = 0
    for rule in _rules(clock.policy):
        if rule.trigger != trigger:
            continue
        if trigger == Trigger.WARNING and rule.threshold != threshold:
            continue
        if delay is not None and rule.delay != delay:
            continue
        fired += _escalate(clock, rule, planned, now)
    return fired


def _fire_delayed(clock: SlaClock, now: datetime) -> int:
    fired = 0
    for rule in _rules(clock.policy):
        if rule.trigger == Trigger.BREACH and rule.delay and clock.breached_at + rule.delay <= now:
            fired += _escalate(clock, rule, clock.breached_at + rule.delay, now)
    return fired


def _escalate(clock: SlaClock, rule: EscalationRule, planned: datetime, now: datetime) -> int:
    """Create the escalation row (unique per clock and rule) and enqueue it after commit."""
    from .tasks import run_escalation_task

    event, created = EscalationEvent.objects.get_or_create(
        clock=clock,
        rule=rule,
        defaults={"planned_at": planned, "recorded_at": now, "enqueued_at": now},
    )
    if created:
        transaction.on_commit(partial(run_escalation_task.delay, event_id=event.pk))
    return int(created)


def _requeue_lost_escalations(now: datetime) -> int:
    """An escalation whose task never finished (worker killed, Redis restarted) is enqueued
    again; the task's idempotency keeps it exactly once."""
    from .tasks import run_escalation_task

    cutoff = now - timedelta(seconds=settings.SLA_ESCALATION_RETRY_SECONDS)
    with transaction.atomic():
        lost = list(
            EscalationEvent.objects.select_for_update(skip_locked=True)
            .filter(done_at__isnull=True, cancelled_at__isnull=True, enqueued_at__lt=cutoff)
            .order_by("enqueued_at")[:200]
        )
        for event in lost:
            event.enqueued_at = now
            event.save(update_fields=["enqueued_at"])
            transaction.on_commit(partial(run_escalation_task.delay, event_id=event.pk))
    return len(lost)


# ------------------------------------------------------------------ escalation actions
@transaction.atomic
def escalation_run(*, event_id: int) -> str:
    """Perform one escalation exactly once. Returns what happened (for logs and admin)."""
    event = (
        EscalationEvent.objects.select_for_update(of=("self",))
        .select_related("clock__ticket", "rule__team", "clock__policy")
        .filter(pk=event_id)
        .first()
    )
    if event is None or event.done_at is not None or event.cancelled_at is not None:
        return "already done"
    clock, rule = event.clock, event.rule
    now = timezone.now()
    event.attempts += 1
    if not clock.is_open:
        event.cancelled_at = now
        event.outcome = "ticket no longer running against this SLA"
        event.save(update_fields=["cancelled_at", "attempts", "outcome"])
        return event.outcome
    ticket = ticket_lock(ticket_id=clock.ticket_id)
    outcome = ACTIONS[rule.action](ticket=ticket, clock=clock, rule=rule, event=event)
    event.done_at = now
    event.outcome = outcome[:200]
    event.save(update_fields=["done_at", "attempts", "outcome"])
    _note(ticket, f"Escalation: {outcome}", data={"sla": "escalation", "rule_id": rule.pk})
    return outcome


def _message(ticket: Ticket, clock: SlaClock, event: EscalationEvent) -> tuple[str, str]:
    what = "breached" if event.rule.trigger == Trigger.BREACH else f"at {event.rule.threshold}%"
    subject = f"{clock.get_metric_display()} SLA {what}: {ticket.title}"
    body = (
        f"{ticket.number} {ticket.title}\n{clock.get_metric_display()} target {clock.target}, "
        f"due {clock.due_at:%Y-%m-%d %H:%M %Z}.\n{settings.SITE_URL}{ticket.get_absolute_url()}"
    )
    return subject, body


def _notify(
    users: list[Any], ticket: Ticket, clock: SlaClock, event: EscalationEvent, who: str
) -> str:
    subject, body = _message(ticket, clock, event)
    sent = notify(
        recipients=users,
        ticket=ticket,
        event="sla_escalation",
        subject=subject,
        body=body,
        dedupe_key=f"escalation-{event.pk}",
    )
    return f"notified {who} ({len(sent)})" if sent else f"nobody to notify ({who})"


def _resync(ticket: Ticket) -> None:
    detail = ticket.detail
    sla_clocks_sync(ticket=ticket, status=str(detail.status))


def _act_assignee(
    *, ticket: Ticket, clock: SlaClock, rule: EscalationRule, event: EscalationEvent
) -> str:
    return _notify([ticket.assignee], ticket, clock, event, "assignee")


def _act_team_lead(
    *, ticket: Ticket, clock: SlaClock, rule: EscalationRule, event: EscalationEvent
) -> str:
    lead = ticket.team.lead if ticket.team_id else None
    return _notify([lead], ticket, clock, event, "team lead")


def _act_manager(
    *, ticket: Ticket, clock: SlaClock, rule: EscalationRule, event: EscalationEvent
) -> str:
    manager = ticket.assignee.manager if ticket.assignee_id else None
    return _notify([manager], ticket, clock, event, "assignee's manager")


def _act_users(
    *, ticket: Ticket, clock: SlaClock, rule: EscalationRule, event: EscalationEvent
) -> str:
    return _notify(list(rule.users.all()), ticket, clock, event, "named users")


def _act_team(
    *, ticket: Ticket, clock: SlaClock, rule: EscalationRule, event: EscalationEvent
) -> str:
    return _notify(list(rule.team.members.all()), ticket, clock, event, f"team {rule.team}")


def _act_reassign(
    *, ticket: Ticket, clock: SlaClock, rule: EscalationRule, event: EscalationEvent
) -> str:
    ticket_change_fields(
        ticket=ticket,
        by=None,
        changes={"team": rule.team, "assignee": None},
        reason="SLA escalation",
    )
    _resync(ticket)
    return f"reassigned to {rule.team}"


def _act_raise(
    *, ticket: Ticket, clock: SlaClock, rule: EscalationRule, event: EscalationEvent
) -> str:
    if ticket.priority <= 1:
        return "priority already P1"
    ticket_change_fields(
        ticket=ticket, by=None, changes={"priority": ticket.priority - 1}, reason="SLA escalation"
    )
    _resync(ticket)
    return f"priority raised to P{ticket.priority}"


def _act_flag(
    *, ticket: Ticket, clock: SlaClock, rule: EscalationRule, event: EscalationEvent
) -> str:
    if rule.flag not in ticket.tags:
        ticket.tags = [*ticket.tags, rule.flag]
        ticket_save(ticket=ticket, fields=["tags"])
    return f"flagged “{rule.flag}”"


ACTIONS = {
    Action.NOTIFY_ASSIGNEE: _act_assignee,
    Action.NOTIFY_TEAM_LEAD: _act_team_lead,
    Action.NOTIFY_MANAGER: _act_manager,
    Action.NOTIFY_USERS: _act_users,
    Action.NOTIFY_TEAM: _act_team,
    Action.REASSIGN_TEAM: _act_reassign,
    Action.RAISE_PRIORITY: _act_raise,
    Action.SET_FLAG: _act_flag,
}


# ------------------------------------------------------------------ policy and calendar edits
def sla_policy_deactivated(*, policy: SlaPolicy, at: datetime | None = None) -> int:
    """Stop a deactivated policy's clocks and their pending escalations at once (no stale
    notifications); each ticket is re-synced so another policy may take over."""
    at = at or timezone.now()
    open_clocks = SlaClock.objects.filter(policy=policy, stopped_at__isnull=True).exclude(
        state=ClockState.CANCELLED
    )
    EscalationEvent.objects.filter(clock__in=open_clocks, done_at__isnull=True).update(
        cancelled_at=at
    )
    open_clocks.update(next_check_at=None)
    count = 0
    for ticket_id in open_clocks.values_list("ticket_id", flat=True):
        with transaction.atomic():
            ticket = ticket_lock(ticket_id=ticket_id)
            _resync(ticket)
        count += 1
    return count


def sla_clocks_recalculate(*, clock_ids: list[int], at: datetime | None = None) -> int:
    """Re-derive deadlines of open clocks after a policy or calendar edit. Closed segments
    keep the working time they counted (history stays); the open segment and what is left
    follow the rules now in force."""
    at = at or timezone.now()
    done = 0
    for clock_id in clock_ids:
        with transaction.atomic():
            clock = (
                SlaClock.objects.select_for_update()
                .select_related("policy__calendar", "ticket")
                .filter(pk=clock_id, stopped_at__isnull=True)
                .exclude(state=ClockState.CANCELLED)
                .first()
            )
            if clock is None:
                continue
            # The open segment keeps its start: worked() re-measures it under the current
            # calendar, and warning/breach instants stay where they really fall.
            clock.target = clock.policy.target
            clock.policy_version = clock.policy.version  # open clocks move forward only
            clock.calendar_version = clock.policy.calendar.version
            _schedule(clock)
            clock.save()
            done += 1
    return done


def recalculation_request(
    *, policy: SlaPolicy | None = None, calendar: BusinessCalendar | None = None
) -> RecalculationJob | None:
    """Queue a recalculation of the open clocks an edit affects (after commit); None when
    there are none."""
    job = RecalculationJob(policy=policy, calendar=calendar)
    if not job.open_clocks().exists():
        return None
    job.save()
    from .tasks import recalculate_clocks_task

    transaction.on_commit(partial(recalculate_clocks_task.delay, job_id=job.pk))
    return job


@transaction.atomic
def holidays_import(
    *, calendar: BusinessCalendar, country: str, years: range, subdivision: str = ""
) -> int:
    """Add the public holidays of a country (and subdivision) for `years`; existing dates are
    kept. Returns how many were added. Touches the calendar so cached arithmetic is rebuilt."""
    found = holidays_lib.country_holidays(country, subdiv=subdivision or None, years=years)
    existing = set(calendar.holidays.filter(date__in=list(found)).values_list("date", flat=True))
    new = [
        Holiday(calendar=calendar, date=day, name=str(name)[:100])
        for day, name in sorted(found.items())
        if day not in existing
    ]
    Holiday.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        calendar.save(update_fields=["updated_at"])
    return len(new)


POLICY_MEASURE_FIELDS = (
    "target",
    "calendar",
    "warning_thresholds",
    "pause_statuses",
    "priorities",
    "services",
    "teams",
    "organizations",
    "retroactive",
    "metric",
    "kind",
)


def policy_snapshot(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "kind": policy.kind,
        "metric": policy.metric,
        "target_seconds": policy.target.total_seconds(),
        "calendar_id": policy.calendar_id,
        "calendar": str(policy.calendar),
        "warning_thresholds": list(policy.warning_thresholds),
        "pause_statuses": list(policy.pause_statuses),
        "priorities": list(policy.priorities),
        "service_ids": sorted(policy.services.values_list("pk", flat=True)),
        "team_ids": sorted(policy.teams.values_list("pk", flat=True)),
        "organization_ids": sorted(policy.organizations.values_list("pk", flat=True)),
        "retroactive": policy.retroactive,
    }


@transaction.atomic
def sla_policy_version(*, policy: SlaPolicy, by: Any, changed: list[str]) -> int:
    """Record a policy edit as a new version when it changes how clocks are measured (the
    first call records version 1). Returns the policy's current version."""
    from .models import PolicyVersion

    locked = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    has_any = PolicyVersion.objects.filter(policy=locked).exists()
    if has_any and not set(changed) & set(POLICY_MEASURE_FIELDS):
        return locked.version
    if has_any:
        locked.version += 1
        SlaPolicy.objects.filter(pk=locked.pk).update(version=locked.version)
    PolicyVersion.objects.create(
        policy=locked,
        version=locked.version,
        snapshot=policy_snapshot(locked),
        changed=sorted(changed),
        created_by=by,
    )
    policy.version = locked.version
    return locked.version


def whatif_request(
    *,
    policy: SlaPolicy,
    target: timedelta,
    calendar: BusinessCalendar,
    pause_statuses: list[str],
    days: int,
) -> "WhatIfRun":
    """Queue a what-if preview of proposed settings (computed after commit, with progress)."""
    from .models import WhatIfRun
    from .tasks import whatif_task

    run = WhatIfRun.objects.create(
        policy=policy,
        days=days,
        proposed={
            "target_seconds": target.total_seconds(),
            "calendar_id": calendar.pk,
            "calendar": str(calendar),
            "pause_statuses": pause_statuses,
        },
    )
    transaction.on_commit(partial(whatif_task.delay, run_id=run.pk))
    return run


@transaction.atomic
def sla_calendar_version(*, calendar: BusinessCalendar, by: Any) -> int:
    """Record the calendar as it is now as a new version (the first call records version 1).
    Open clocks move to it through the recalculation; stopped clocks keep theirs."""
    from .models import CalendarVersion

    locked = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    snapshot = {
        "timezone": locked.timezone,
        "hours": locked.hours,
        "holidays": [
            d.isoformat() for d in locked.holidays.order_by("date").values_list("date", flat=True)
        ],
    }
    latest = CalendarVersion.objects.filter(calendar=locked).order_by("-version").first()
    if latest is not None and latest.snapshot == snapshot:
        return locked.version
    if latest is not None:
        locked.version += 1
        BusinessCalendar.objects.filter(pk=locked.pk).update(version=locked.version)
    CalendarVersion.objects.create(
        calendar=locked, version=locked.version, snapshot=snapshot, created_by=by
    )
    calendar.version = locked.version
    return locked.version
