"""Rebuild clocks from the journal: the SLA replay and the what-if preview.

`simulate` walks a ticket's status changes (journal entries carry the status and the
envelope state after each change) under a policy's rules and returns what the clock should
say. `clock_replay` compares that with the stored clock (a dry run reports the differences)
and, when applied, rewrites the clock and its segments, keeping the old figures in a
ClockReplay row and a journal entry. `policy_whatif` runs the same simulation with proposed
policy settings over open clocks and recently stopped ones."""

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from tickets import events
from tickets.choices import EventType
from tickets.models import TicketEvent

from .calendar import Calendar, add_business_time, business_time_between, next_opening
from .choices import ClockState, Metric
from .models import ClockReplay, ClockSegment, SlaClock, SlaEvent, SlaPolicy

CANCELLING = frozenset({"cancelled", "rejected"})
#: Fallback for journal entries written before they carried the envelope state.
STOPPING_STATUSES = frozenset({"resolved", "closed", "fulfilled"})


@dataclass(frozen=True)
class Rules:
    """What the simulation needs of a policy (a saved one, or proposed settings)."""

    target: timedelta
    calendar: Calendar
    pause_statuses: frozenset[str]

    @classmethod
    def of(cls, policy: SlaPolicy) -> "Rules":
        return cls(policy.target, policy.calendar.calendar, frozenset(policy.pause_statuses))


@dataclass
class Simulated:
    state: str
    worked: timedelta
    stopped_at: datetime | None
    breached_at: datetime | None
    due_at: datetime | None
    segments: list[tuple[bool, datetime, datetime | None, str]] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "worked_s": round(self.worked.total_seconds(), 3),
            "stopped_at": _iso(self.stopped_at),
            "breached_at": _iso(self.breached_at),
            "due_at": _iso(self.due_at) if self.stopped_at is None else None,
        }


def _iso(value: datetime | None) -> str | None:
    """Instants compared in UTC: the same moment in two zones is no difference."""
    return value.astimezone(UTC).isoformat() if value else None


def _position(metric: str, status: str, state: str, responded: bool, rules: Rules) -> str:
    if status in CANCELLING:
        return "cancelled"
    if (state in ("resolved", "closed")) or (not state and status in STOPPING_STATUSES):
        return "stopped"
    if metric == Metric.RESPONSE and responded:
        return "stopped"
    if status in rules.pause_statuses:
        return "paused"
    return "running"


def history(ticket_id: int) -> tuple[str | None, list[tuple[datetime, str, str]]]:
    """(initial status, [(at, new status, new state)]) from the journal."""
    rows = list(
        TicketEvent.objects.filter(ticket_id=ticket_id, type=EventType.STATUS_CHANGED)
        .order_by("created_at", "pk")
        .values_list("created_at", "data")
    )
    initial = rows[0][1].get("old") if rows else None
    return initial, [(at, d.get("new", ""), d.get("state", "")) for at, d in rows]


def simulate(
    *,
    metric: str,
    rules: Rules,
    started_at: datetime,
    initial_status: str,
    changes: Iterable[tuple[datetime, str, str]],
    responded_at: datetime | None,
    until: datetime,
) -> Simulated:
    """The clock a ticket's history implies under `rules`, as of `until`."""
    points: list[tuple[datetime, str | None, str]] = [
        (at, status, state) for at, status, state in changes if started_at <= at <= until
    ]
    if metric == Metric.RESPONSE and responded_at and started_at <= responded_at <= until:
        points.append((responded_at, None, ""))
    points.sort(key=lambda p: p[0])
    status, state, responded = initial_status, "", False
    position = _position(metric, status, state, responded, rules)
    segments: list[tuple[bool, datetime, datetime | None, str]] = []
    if position in ("running", "paused"):
        segments.append((position == "running", started_at, None, "started"))
    stopped_at = None
    for at, new_status, new_state in points:
        if new_status is None:
            responded = True
        else:
            status, state = new_status, new_state
        new_position = _position(metric, status, state, responded, rules)
        if new_position == position:
            continue
        if segments and segments[-1][2] is None:
            running, start, _, reason = segments[-1]
            segments[-1] = (running, start, at, reason)
        if new_position in ("running", "paused"):
            segments.append((new_position == "running", at, None, f"status {status}"))
            stopped_at = None
        else:
            stopped_at = at
        position = new_position
    return _figures(position, segments, stopped_at, rules, until)


def _figures(
    position: str, segments: list, stopped_at: datetime | None, rules: Rules, until: datetime
) -> Simulated:
    worked = closed = timedelta(0)  # all running time / running time of closed segments
    breached_at = None
    for running, start, end, _ in segments:
        if not running:
            continue
        piece = business_time_between(rules.calendar, start, end or until)
        if breached_at is None and worked + piece > rules.target:
            left = rules.target - worked  # first instant working time exceeds the target
            reached = add_business_time(rules.calendar, start, left) if left else start
            breached_at = next_opening(rules.calendar, reached)
        worked += piece
        closed += piece if end is not None else timedelta(0)
    due_at = breached_at
    if due_at is None and position == "running":
        due_at = add_business_time(rules.calendar, segments[-1][1], rules.target - closed)
    states = {"cancelled": ClockState.CANCELLED, "stopped": ClockState.MET}
    state = states.get(position, ClockState.PAUSED if position == "paused" else ClockState.RUNNING)
    if breached_at is not None and position != "cancelled":
        state = ClockState.BREACHED
    return Simulated(str(state), worked, stopped_at, breached_at, due_at, segments)


def simulate_clock(
    clock: SlaClock, *, rules: Rules | None = None, until: datetime | None = None
) -> Simulated:
    ticket = clock.ticket
    initial, changes = history(ticket.pk)
    return simulate(
        metric=clock.metric,
        rules=rules or Rules.of(clock.policy),
        started_at=clock.started_at,
        initial_status=initial or str(ticket.detail.status),
        changes=changes,
        responded_at=ticket.first_responded_at,
        until=until or timezone.now(),
    )


def stored_figures(clock: SlaClock, at: datetime) -> dict[str, Any]:
    from .services import worked

    return {
        "state": clock.state,
        "worked_s": round(worked(clock, at).total_seconds(), 3),
        "stopped_at": _iso(clock.stopped_at),
        "breached_at": _iso(clock.breached_at),
        # after a stop the deadline is informational only: compared for open clocks
        "due_at": _iso(clock.due_at) if clock.stopped_at is None else None,
    }


#: A clock and the journal entry that moved it are written in one transaction but stamped
#: by separate clock reads, microseconds to milliseconds apart: not a discrepancy.
TOLERANCE_S = 1.0


def _differs(a: Any, b: Any) -> bool:
    if a is None or b is None or (isinstance(a, str) and not a[:4].isdigit()):
        return a != b
    if isinstance(a, int | float):
        return abs(a - b) >= TOLERANCE_S
    return (
        abs((datetime.fromisoformat(a) - datetime.fromisoformat(b)).total_seconds()) >= TOLERANCE_S
    )


@dataclass
class ReplayResult:
    clock_id: int
    ticket: str
    metric: str
    differences: dict[str, tuple[Any, Any]]
    applied: bool = False


def clock_replay(*, clock_id: int, apply: bool = False, by: Any = None) -> ReplayResult:
    """Compare a clock with its replay from the journal; with `apply`, rewrite it (the old
    figures stay in a ClockReplay row and the journal)."""
    with transaction.atomic():
        clock = (
            SlaClock.objects.select_for_update(of=("self",))
            .select_related("ticket", "policy__calendar")
            .get(pk=clock_id)
        )
        now = timezone.now()
        simulated = simulate_clock(clock, until=now)
        before, after = stored_figures(clock, now), simulated.figures()
        diffs = {k: (before[k], after[k]) for k in before if _differs(before[k], after[k])}
        result = ReplayResult(clock.pk, clock.ticket.number, clock.metric, diffs)
        if not apply or not diffs:
            return result
        _rewrite(clock, simulated, now)
        ClockReplay.objects.create(clock=clock, before=before, after=after, by=by)
        events.system(
            ticket=clock.ticket,
            code="sla_replay",
            body=f"{clock.get_metric_display()} SLA rebuilt from the journal: "
            + "; ".join(f"{k} {a} → {b}" for k, (a, b) in diffs.items()),
            data={"before": before, "after": after},
        )
        result.applied = True
        return result


def _rewrite(clock: SlaClock, simulated: Simulated, now: datetime) -> None:
    from .services import _schedule

    open_segment = (
        simulated.segments[-1] if simulated.segments and simulated.segments[-1][2] is None else None
    )
    running_now = bool(open_segment and open_segment[0])
    closed_worked = simulated.worked
    if running_now:
        closed_worked -= business_time_between(clock.policy.calendar.calendar, open_segment[1], now)
    clock.elapsed = closed_worked
    clock.running_since = open_segment[1] if running_now else None
    clock.paused_at = open_segment[1] if open_segment and not open_segment[0] else None
    clock.stopped_at = simulated.stopped_at
    clock.breached_at = simulated.breached_at
    clock.due_at = simulated.due_at  # _schedule refines it for running clocks
    clock.state = simulated.state
    ClockSegment.objects.filter(clock=clock).delete()
    ClockSegment.objects.bulk_create(
        ClockSegment(clock=clock, running=r, started_at=s, ended_at=e, reason=why[:100])
        for r, s, e, why in simulated.segments
    )
    if simulated.breached_at is not None:
        SlaEvent.objects.get_or_create(
            clock=clock,
            type="breach",
            threshold=100,
            defaults={"planned_at": simulated.breached_at, "recorded_at": now},
        )
    _schedule(clock)
    clock.save()


def replay_many(*, clocks: Iterable[SlaClock], apply: bool, by: Any = None) -> list[ReplayResult]:
    return [clock_replay(clock_id=c.pk, apply=apply, by=by) for c in clocks]


# ------------------------------------------------------------------ what-if
@dataclass
class WhatIf:
    open_clocks: int = 0
    deadlines_earlier: int = 0
    deadlines_later: int = 0
    open_newly_breached: int = 0
    closed_clocks: int = 0
    met_to_breached: int = 0
    breached_to_met: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def policy_whatif(
    *, policy: SlaPolicy, rules: Rules, days: int = 30, progress: Any = None
) -> WhatIf:
    """How open clocks' deadlines and recently stopped clocks' outcomes would change under
    `rules`. Computed from the journal; writes nothing."""
    now = timezone.now()
    result = WhatIf()
    clocks = SlaClock.objects.filter(policy=policy).select_related("ticket", "policy__calendar")
    open_q = clocks.filter(stopped_at__isnull=True).exclude(state=ClockState.CANCELLED)
    closed_q = clocks.filter(stopped_at__gte=now - timedelta(days=days)).exclude(
        state=ClockState.CANCELLED
    )
    todo = list(open_q) + list(closed_q)
    for n, clock in enumerate(todo, 1):
        current = simulate_clock(clock, until=now)
        proposed = simulate_clock(clock, rules=rules, until=now)
        if clock.stopped_at is None:
            result.open_clocks += 1
            if proposed.state == ClockState.BREACHED and current.state != ClockState.BREACHED:
                result.open_newly_breached += 1
            if current.due_at and proposed.due_at:
                result.deadlines_earlier += proposed.due_at < current.due_at
                result.deadlines_later += proposed.due_at > current.due_at
        else:
            result.closed_clocks += 1
            was, will = current.state == ClockState.BREACHED, proposed.state == ClockState.BREACHED
            result.met_to_breached += (not was) and will
            result.breached_to_met += was and not will
            if was != will and len(result.examples) < 20:
                result.examples.append(
                    {
                        "ticket": clock.ticket.number,
                        "metric": clock.metric,
                        "from": current.state,
                        "to": proposed.state,
                    }
                )
        if progress is not None and n % 50 == 0:
            progress(n, len(todo))
    if progress is not None:
        progress(len(todo), len(todo))
    return result
