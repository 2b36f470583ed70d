"""Team OLAs: a clock per team hold of a ticket. Started when a team gets the ticket,
stopped when it hands it on or the ticket is resolved; paused like SLAs. Synced from
`sla_clocks_sync`, swept for breaches like SLA clocks."""

from datetime import datetime, timedelta

from django.db import transaction

from tickets import events
from tickets.choices import TicketState
from tickets.models import Ticket

from .calendar import add_business_time, business_time_between, next_opening
from .models import OlaClock, OlaPolicy

_TINY = timedelta(microseconds=1)


def _worked(clock: OlaClock, at: datetime) -> timedelta:
    total = clock.elapsed
    if clock.running_since is not None and at > clock.running_since:
        total += business_time_between(clock.policy.calendar.calendar, clock.running_since, at)
    return total


def _fold(clock: OlaClock, at: datetime) -> None:
    clock.elapsed = _worked(clock, at)
    clock.running_since = None
    if clock.breached_at is None and clock.elapsed > clock.target:
        _breach(clock, at)


def _breach(clock: OlaClock, at: datetime) -> None:
    calendar = clock.policy.calendar.calendar
    clock.breached_at = next_opening(calendar, clock.due_at) if clock.due_at else at
    events.system(
        ticket=clock.ticket,
        code="ola",
        body=f"OLA of {clock.team} breached (target {clock.target}).",
        data={"ola": "breach", "team_id": clock.team_id},
    )


def _schedule(clock: OlaClock) -> None:
    if clock.running_since is None or clock.stopped_at or clock.breached_at:
        clock.next_check_at = None
        if clock.running_since is None and not clock.breached_at:
            clock.due_at = None
        return
    calendar = clock.policy.calendar.calendar
    left = clock.target - clock.elapsed
    clock.due_at = (
        add_business_time(calendar, clock.running_since, left)
        if left > timedelta(0)
        else next_opening(calendar, clock.running_since)
    )
    clock.next_check_at = next_opening(calendar, clock.due_at) + _TINY


def ola_clocks_sync(*, ticket: Ticket, status: str, paused: bool, at: datetime) -> None:
    """Hand-offs stop the previous team's clock; the holding team's clock follows status."""
    done = ticket.state in (TicketState.RESOLVED, TicketState.CLOSED)
    open_clock = (
        OlaClock.objects.select_for_update()
        .select_related("policy__calendar", "team")
        .filter(ticket=ticket, stopped_at__isnull=True)
        .first()
    )
    if open_clock is not None and (done or open_clock.team_id != ticket.team_id):
        _fold(open_clock, at)
        open_clock.stopped_at = at
        open_clock.stop_reason = "resolved" if done else f"handed to {ticket.team or 'no team'}"
        _schedule(open_clock)
        open_clock.save()
        open_clock = None
    if open_clock is None:
        if done or ticket.team_id is None:
            return
        policy = (
            OlaPolicy.objects.select_related("calendar")
            .filter(team_id=ticket.team_id, active=True)
            .first()
        )
        if policy is None:
            return
        open_clock = OlaClock(
            ticket=ticket,
            team_id=ticket.team_id,
            policy=policy,
            target=policy.target,
            started_at=at,
            running_since=at,
        )
    is_paused = paused or status in open_clock.policy.pause_statuses
    if is_paused and open_clock.running_since is not None:
        _fold(open_clock, at)
        open_clock.paused_at = at
    elif not is_paused and open_clock.running_since is None:
        open_clock.paused_at = None
        open_clock.running_since = at
    _schedule(open_clock)
    open_clock.save()


def ola_sweep(*, now: datetime, batch_size: int = 500) -> int:
    """Record OLA breaches that are due (SKIP LOCKED, like the SLA sweep)."""
    with transaction.atomic():
        clocks = list(
            OlaClock.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(next_check_at__lte=now)
            .select_related("policy__calendar", "team", "ticket")[:batch_size]
        )
        breached = 0
        for clock in clocks:
            if _worked(clock, now) > clock.target:
                _breach(clock, now)
                breached += 1
            _schedule(clock)
            clock.save()
    return breached
