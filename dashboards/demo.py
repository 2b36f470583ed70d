"""Demo history for the dashboards: sixty days of resolved incidents with SLA outcomes,
reopens and replies, a few outages, a weekly report subscription, then a rebuild of the read
models. Idempotent (marked by the "demo-history" tag).

The history is written as raw rows, not through the services: the services stamp "now", and
a demo needs tickets that were answered after forty minutes and resolved two days later.
Working time is measured with each policy's own business calendar, so the figures are the
ones the SLA engine would have produced.

Team OLAs: each team gets an OLA policy (if it has none) and each history incident two
stretches: the Service Desk holds it until the first reply, then the service's support team
until resolution (one stretch when they are the same team), measured like the SLA clocks."""

import random
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Team, User
from catalogue.models import Service
from incidents.choices import Channel, OutageKind
from incidents.models import Category, Incident, Outage
from slas.calendar import business_time_between
from slas.models import BusinessCalendar, OlaClock, OlaPolicy, SlaPolicy
from tickets.choices import EventType, TicketKind, TicketState
from tickets.models import Ticket, TicketEvent
from tickets.services import ticket_number_next

from .models import ReportSubscription
from .rollups import rollups_rebuild

TAG = "demo-history"
DAYS = 60
TITLES = {
    "VPN": ["VPN drops", "Cannot connect to VPN", "VPN very slow"],
    "E-mail": ["Mail not arriving", "Outlook asks for password", "Shared mailbox missing"],
    "Wi-Fi": ["Wi-Fi down on floor 2", "Guest Wi-Fi portal broken"],
    "ERP": ["ERP report fails", "Invoice screen slow", "Cannot post journal"],
    "Laptops": ["Laptop will not boot", "Battery drains fast", "Docking station dead"],
    "Printing": ["Printer jammed", "Cannot print PDF"],
    "Customer database": ["Customer DB timeouts", "Search returns nothing"],
}


def _policy(priority: int, metric: str) -> SlaPolicy | None:
    return (
        SlaPolicy.objects.filter(kind=TicketKind.INCIDENT, metric=metric, active=True)
        .filter(priorities__contains=[priority])
        .select_related("calendar")
        .order_by("order", "pk")
        .first()
    )


def _clock(ticket: Ticket, metric: str, priority: int, start: datetime, stop: datetime) -> None:
    policy = _policy(priority, metric)
    if policy is None:
        return
    worked = business_time_between(policy.calendar.calendar, start, stop)
    breached = worked > policy.target
    ticket.sla_clocks.create(
        metric=metric,
        policy=policy,
        state="breached" if breached else "met",
        target=policy.target,
        started_at=start,
        elapsed=worked,
        stopped_at=stop,
        breached_at=stop if breached else None,
        match_reason={"policy": policy.name, "policy_id": policy.pk, "skipped": []},
    )


def _event(ticket: Ticket, type_: str, at: datetime, **fields: Any) -> None:
    event = TicketEvent.objects.create(ticket=ticket, type=type_, **fields)
    TicketEvent.objects.filter(pk=event.pk).update(created_at=at)


def _incident(
    rng: random.Random,
    *,
    created: datetime,
    service: Service,
    requester: User,
    agents: list[User],
    categories: list[Category],
) -> Ticket:
    priority = rng.choices([1, 2, 3, 4], weights=[1, 3, 8, 5])[0]
    agent = rng.choice(agents)
    responded = created + timedelta(minutes=rng.randint(3, 300 if priority > 2 else 40))
    resolved = responded + timedelta(minutes=int(rng.expovariate(1 / (60 * 20))) + 10)
    closed = resolved + timedelta(days=3)
    now = timezone.now()
    state = TicketState.CLOSED if closed < now else TicketState.RESOLVED
    ticket = Ticket.objects.create(
        kind=TicketKind.INCIDENT,
        number=ticket_number_next(kind=TicketKind.INCIDENT),
        title=rng.choice(TITLES.get(service.name, ["Something is broken"])),
        requester=requester,
        organization_id=requester.organization_id,
        team_id=service.support_team_id,
        assignee=agent,
        service=service,
        priority=priority,
        state=state,
        first_responded_at=responded,
        resolved_at=resolved,
        closed_at=closed if state == TicketState.CLOSED else None,
        tags=[TAG],
    )
    Incident.objects.create(
        ticket=ticket,
        status="closed" if state == TicketState.CLOSED else "resolved",
        channel=rng.choice([Channel.PORTAL, Channel.PORTAL, Channel.EMAIL, Channel.PHONE]),
        category=rng.choice(categories) if categories else None,
        resolution_code="fixed",
        resolution_notes="Fixed.",
    )
    _event(ticket, EventType.CREATED, created, actor=requester, public=True)
    _event(ticket, EventType.COMMENT, responded, actor=agent, public=True, body="On it.")
    if rng.random() < 0.3:
        _event(ticket, EventType.COMMENT, resolved, actor=agent, public=True, body="Try now?")
    if rng.random() < 0.08:
        _event(ticket, EventType.SYSTEM, resolved, data={"code": "reopened"}, public=True)
    _clock(ticket, "response", priority, created, responded)
    _clock(ticket, "resolution", priority, created, resolved)
    last = closed if state == TicketState.CLOSED else resolved
    Ticket.objects.filter(pk=ticket.pk).update(created_at=created, updated_at=last)
    return ticket


#: OLA targets of the demo teams (working time); other teams get DEFAULT_OLA.
OLA_TARGETS = {
    "Service Desk": timedelta(hours=2),
    "Network": timedelta(hours=8),
    "Database": timedelta(hours=8),
    "Applications": timedelta(hours=12),
}
DEFAULT_OLA = timedelta(hours=8)


def _ola_policies(teams: dict[str, Team]) -> dict[int, OlaPolicy]:
    calendar = (
        BusinessCalendar.objects.filter(name__icontains="office").first()
        or BusinessCalendar.objects.order_by("pk").first()
    )
    if calendar is None:
        return {}
    policies = {}
    for name, team in teams.items():
        policy, _ = OlaPolicy.objects.get_or_create(
            team=team,
            defaults={
                "target": OLA_TARGETS.get(name, DEFAULT_OLA),
                "calendar": calendar,
                "pause_statuses": ["on_hold"],
            },
        )
        policies[team.pk] = policy
    return policies


def _ola_stretch(ticket: Ticket, policy: OlaPolicy, start: datetime, stop: datetime, how: str):
    worked = business_time_between(policy.calendar.calendar, start, stop)
    return OlaClock(
        ticket=ticket,
        team_id=policy.team_id,
        policy=policy,
        target=policy.target,
        started_at=start,
        elapsed=worked,
        stopped_at=stop,
        stop_reason=how,
        breached_at=stop if worked > policy.target else None,
    )


@transaction.atomic
def _olas(teams: dict[str, Team]) -> None:
    """OLA stretches for the history incidents that have none (see the module docstring)."""
    policies = _ola_policies(teams)
    desk = teams.get("Service Desk")
    if not policies or desk is None or desk.pk not in policies:
        return
    history = (
        Ticket.objects.filter(tags__contains=[TAG], resolved_at__isnull=False)
        .exclude(ola_clocks__isnull=False)
        .order_by("pk")
    )
    clocks = []
    for ticket in history.iterator(chunk_size=500):
        created, responded, resolved = (
            ticket.created_at,
            ticket.first_responded_at,
            ticket.resolved_at,
        )
        support = policies.get(ticket.team_id)
        if support is None or support.team_id == desk.pk or responded is None:
            clocks.append(_ola_stretch(ticket, policies[desk.pk], created, resolved, "resolved"))
            continue
        handed = f"handed to {support.team}"
        clocks.append(_ola_stretch(ticket, policies[desk.pk], created, responded, handed))
        clocks.append(_ola_stretch(ticket, support, responded, resolved, "resolved"))
    OlaClock.objects.bulk_create(clocks, batch_size=1000)


@transaction.atomic
def _history(people: dict[str, User], services: dict[str, Service]) -> None:
    rng = random.Random(2027)
    requesters = [u for k, u in people.items() if k in ("rita", "oscar")] or list(people.values())
    agents = [u for k, u in people.items() if k in ("alice", "ben", "nina", "dev")]
    agents = agents or list(people.values())
    categories = list(Category.objects.filter(parent=None))
    start = timezone.now().replace(hour=8, minute=0, second=0, microsecond=0)
    by_service: dict[str, list[Ticket]] = {}
    for day in range(DAYS, 0, -1):
        for _ in range(rng.randint(3, 9)):
            created = start - timedelta(days=day, minutes=-rng.randint(0, 9 * 60))
            service = rng.choice(list(services.values()))
            ticket = _incident(
                rng,
                created=created,
                service=service,
                requester=rng.choice(requesters),
                agents=agents,
                categories=categories,
            )
            by_service.setdefault(service.name, []).append(ticket)
            ticket.created_at = created  # the row was back-dated by an update
    outages = [
        ("VPN", 5, OutageKind.FULL),
        ("E-mail", 2, OutageKind.FULL),
        ("ERP", 9, OutageKind.DEGRADED),
        ("VPN", 3, OutageKind.DEGRADED),
    ]
    for name, hours, kind in outages:
        tickets = by_service.get(name)
        if not tickets:
            continue
        ticket = rng.choice(
            [t for t in tickets if t.resolved_at > t.created_at + timedelta(hours=hours)] or tickets
        )
        Outage.objects.create(
            incident_id=ticket.pk,
            service=services[name],
            kind=kind,
            started_at=ticket.created_at,
            ended_at=ticket.created_at + timedelta(hours=hours),
            note="Demo outage",
        )


def seed(*, people: dict[str, User], services: dict[str, Service], teams: dict[str, Team]) -> None:
    """Sixty days of history with team OLA stretches, Maria's weekly report, and the read
    models built."""
    if not Ticket.objects.filter(tags__contains=[TAG]).exists():
        _history(people, services)
    _olas(teams)
    manager = people.get("maria")
    if manager is not None:
        ReportSubscription.objects.get_or_create(
            user=manager, dashboard="overview", params={}, defaults={"weekday": 0}
        )
    rollups_rebuild()
