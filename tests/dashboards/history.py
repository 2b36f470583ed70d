"""Random ticket histories written straight into the raw tables, and the dashboards' figures
recomputed from those raw rows in plain Python (the oracle the rollups are compared with).

Histories bypass the services on purpose: they must reach states the services only reach over
days (breached clocks, reopens, late resolutions) and put every instant where the test wants
it. They keep the one invariant the change detection relies on: a ticket's `updated_at` is at
or after every instant its figures are dated by."""

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dashboards.queries.reader import Measures, percentile
from dashboards.scope import Scope
from incidents.models import Incident
from slas.models import SlaClock
from tickets.choices import EventType
from tickets.models import Ticket, TicketEvent

US = timedelta(microseconds=1)


@dataclass
class World:
    requester: Any
    agent: Any
    teams: list[Any]
    services: list[Any]
    orgs: list[Any]
    categories: list[Any]
    policies: dict[str, Any]


def _clock(
    ticket: Ticket,
    metric: str,
    policy: Any,
    *,
    started: datetime,
    state: str,
    stopped: datetime | None,
    elapsed: timedelta,
) -> SlaClock:
    return SlaClock.objects.create(
        ticket=ticket,
        metric=metric,
        policy=policy,
        state=state,
        target=policy.target,
        started_at=started,
        running_since=None if stopped or state in ("paused", "cancelled") else started,
        elapsed=elapsed,
        stopped_at=stopped,
        breached_at=stopped if state == "breached" else None,
    )


def _event(ticket: Ticket, type_: str, at: datetime, *, actor: Any = None, code: str = "") -> None:
    event = TicketEvent.objects.create(
        ticket=ticket, type=type_, actor=actor, data={"code": code} if code else {}
    )
    TicketEvent.objects.filter(pk=event.pk).update(created_at=at)


def _instant(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = int((end - start) / US)
    return start + rng.randint(0, max(span, 0)) * US


def add_ticket(rng: random.Random, world: World, *, start: datetime, now: datetime) -> Ticket:
    """One ticket created in [start, now] with a random but consistent history."""
    created = _instant(rng, start, now)
    kind = rng.choice(["incident", "incident", "request", "change"])
    state = rng.choice(["open", "on_hold", "resolved", "closed"])
    resolved = _instant(rng, created, now) if state in ("resolved", "closed") else None
    ticket = Ticket.objects.create(
        kind=kind,
        number=f"T{uuid.uuid4().hex[:12]}",
        title="History",
        requester=world.requester,
        organization=rng.choice([*world.orgs, None]),
        team=rng.choice([*world.teams, None]),
        service=rng.choice([*world.services, None]),
        assignee=rng.choice([world.agent, None]),
        priority=rng.randint(1, 4),
        state=state,
        resolved_at=resolved,
    )
    if kind == "incident":
        Incident.objects.create(
            ticket=ticket,
            category=rng.choice([*world.categories, None]),
            channel=rng.choice(["portal", "phone", "email"]),
        )
    latest = resolved or created
    for metric in ("response", "resolution"):
        if rng.random() < 0.2:
            continue  # no policy applied
        if metric == "resolution" and resolved:
            stopped = resolved
        elif rng.random() < 0.5:
            stopped = _instant(rng, created, now)
        else:
            stopped = None
        if stopped is not None:
            clock_state = rng.choice(["met", "breached"])
            elapsed = rng.randint(0, int((stopped - created) / US)) * US
        else:
            clock_state = rng.choice(["running", "paused", "breached", "cancelled"])
            elapsed = timedelta(0)
        _clock(
            ticket,
            metric,
            world.policies[metric],
            started=created,
            state=clock_state,
            stopped=stopped,
            elapsed=elapsed,
        )
        latest = max(latest, stopped or created)
    for _ in range(rng.randint(0, 3)):
        at = _instant(rng, created, latest)
        actor = rng.choice([world.agent, world.requester, None])
        _event(ticket, EventType.COMMENT, at, actor=actor)
    if rng.random() < 0.2:
        _event(ticket, EventType.SYSTEM, _instant(rng, created, latest), code="reopened")
    touch(ticket, created=created, updated=_instant(rng, latest, now))
    return ticket


def touch(ticket: Ticket, *, updated: datetime, created: datetime | None = None) -> None:
    values: dict[str, Any] = {"updated_at": updated}
    if created is not None:
        values["created_at"] = created
    Ticket.objects.filter(pk=ticket.pk).update(**values)
    SlaClock.objects.filter(ticket=ticket).update(updated_at=updated)


def mutate(rng: random.Random, world: World, ticket: Ticket, *, start: datetime, now: datetime):
    """A later change to a ticket, at an instant in [start, now]: reassign, resolve, reopen or
    reply, as the services would (envelope saved)."""
    ticket.refresh_from_db()
    at = _instant(rng, max(start, ticket.created_at), now)
    change = rng.choice(["reassign", "resolve", "reopen", "reply"])
    if change == "reassign":
        Ticket.objects.filter(pk=ticket.pk).update(
            team=rng.choice([*world.teams, None]), priority=rng.randint(1, 4)
        )
    elif change == "resolve" and ticket.resolved_at is None:
        Ticket.objects.filter(pk=ticket.pk).update(state="resolved", resolved_at=at)
        clock = SlaClock.objects.filter(ticket=ticket, metric="resolution").first()
        if clock is not None and clock.state != "cancelled":
            SlaClock.objects.filter(pk=clock.pk).update(
                state=rng.choice(["met", "breached"]),
                stopped_at=at,
                elapsed=rng.randint(0, int((at - clock.started_at) / US)) * US,
            )
    elif change == "reopen" and ticket.resolved_at is not None:
        Ticket.objects.filter(pk=ticket.pk).update(state="open", resolved_at=None)
        SlaClock.objects.filter(ticket=ticket, metric="resolution").exclude(
            state="cancelled"
        ).update(state="running", stopped_at=None, running_since=at)
        _event(ticket, EventType.SYSTEM, at, code="reopened")
    else:
        _event(ticket, EventType.COMMENT, at, actor=world.agent)
    touch(ticket, updated=at)


# ------------------------------------------------------------------ the oracle
@dataclass
class Raw:
    by_day: dict[date, Measures]
    by_team: dict[Any, Measures]
    by_priority: dict[int, Measures]
    values: dict[str, list[int]]
    created_by: dict[str, dict[Any, int]]

    @property
    def totals(self) -> Measures:
        return sum(self.by_day.values(), Measures())

    def p90(self) -> dict[str, int | None]:
        return {k: percentile(v) for k, v in self.values.items()}


def _journal(ticket: Ticket) -> tuple[int, int]:
    """Reopens, and public replies by someone other than the requester."""
    events = list(ticket.events.all())
    reopens = sum(1 for e in events if e.type == "system" and e.data.get("code") == "reopened")
    replies = sum(
        1
        for e in events
        if e.type == "comment" and e.actor_id is not None and e.actor_id != ticket.requester_id
    )
    return reopens, replies


def _dimensions(ticket: Ticket) -> dict[str, Any]:
    incident = getattr(ticket, "incident", None)
    return {
        "kind": ticket.kind,
        "service_id": ticket.service_id,
        "organization_id": ticket.organization_id,
        "category_id": incident.category_id if incident else None,
        "channel": incident.channel if incident else "",
    }


def _stopped_clocks(ticket: Ticket):
    """(prefix, stop instant, measures, working µs, calendar µs) of each met/breached clock."""
    for clock in ticket.sla_clocks.all():
        if clock.stopped_at is None or clock.state not in ("met", "breached"):
            continue
        prefix = "resp" if clock.metric == "response" else "res"
        work = clock.elapsed // US
        cal = (clock.stopped_at - clock.started_at) // US
        measures = Measures(
            **{
                f"{prefix}_met": int(clock.state == "met"),
                f"{prefix}_breached": int(clock.state == "breached"),
                f"{prefix}_work_sum": work,
                f"{prefix}_cal_sum": cal,
            }
        )
        yield prefix, clock.stopped_at, measures, work, cal


def raw_figures(*, zone: str, first: date, last: date, scope: Scope) -> Raw:
    """The rollup measures recomputed ticket by ticket from the raw rows."""
    tz = ZoneInfo(zone)
    by_day: dict[date, Measures] = defaultdict(Measures)
    by_team: dict[Any, Measures] = defaultdict(Measures)
    by_priority: dict[int, Measures] = defaultdict(Measures)
    values: dict[str, list[int]] = {k: [] for k in ("resp_work", "resp_cal", "res_work", "res_cal")}
    created_by: dict[str, dict[Any, int]] = defaultdict(lambda: defaultdict(int))

    def add(instant: datetime | None, ticket: Ticket, m: Measures) -> bool:
        if instant is None or not first <= instant.astimezone(tz).date() <= last:
            return False
        by_day[instant.astimezone(tz).date()] += m
        by_team[ticket.team_id] += m
        by_priority[ticket.priority] += m
        return True

    tickets = Ticket.objects.filter(scope.q()).select_related("incident")
    for ticket in tickets.prefetch_related("sla_clocks", "events"):
        reopens, replies = _journal(ticket)
        if add(ticket.created_at, ticket, Measures(created=1)):
            for column, value in _dimensions(ticket).items():
                created_by[column][value] += 1
        first_contact = int(reopens == 0 and replies <= 1)
        resolution = Measures(resolved=1, reopened=int(reopens > 0), fcr=first_contact)
        add(ticket.resolved_at, ticket, resolution)
        for prefix, stopped, measures, work, cal in _stopped_clocks(ticket):
            if add(stopped, ticket, measures):
                values[f"{prefix}_work"].append(work)
                values[f"{prefix}_cal"].append(cal)
    created = {column: dict(counts) for column, counts in created_by.items()}
    return Raw(dict(by_day), dict(by_team), dict(by_priority), values, created)
