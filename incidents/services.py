"""Incident use cases. The portal, desk, API and Celery tasks call only these.

Every function is one transaction: it locks the ticket row, checks the optimistic-locking
version when the caller passes one, writes the journal, and queues side effects after commit."""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import Team, User
from catalogue.models import Service
from core.exceptions import DomainError
from slas.services import sla_clocks_sync
from tickets import events
from tickets.assignment import assignee_pick
from tickets.choices import TicketKind
from tickets.models import TicketEvent
from tickets.services import (
    attachments_add,
    ticket_change_fields,
    ticket_create,
    ticket_lock,
    ticket_reply,
    ticket_save,
    ticket_set_status,
)

from .choices import (
    DEFAULT_MATRIX,
    Channel,
    IncidentStatus,
    Level,
    OnHoldReason,
    OutageKind,
    ResolutionCode,
)
from .models import Category, Incident, Outage, PriorityMatrixCell, RoutingRule
from .workflow import INCIDENT_WORKFLOW, OPEN_STATUSES


def _sync_slas(incident: Incident) -> None:
    """Clocks follow every change in the same transaction (no signals: an explicit call)."""
    sla_clocks_sync(ticket=incident.ticket, status=incident.status)


# ------------------------------------------------------------------ priority and routing
def priority_from_matrix(*, impact: str, urgency: str) -> tuple[int, dict[str, Any]]:
    """Priority from the admin-edited impact × urgency matrix (ITIL default for a missing cell)."""
    cell = PriorityMatrixCell.objects.filter(impact=impact, urgency=urgency).first()
    priority = cell.priority if cell else DEFAULT_MATRIX[(Level(impact), Level(urgency))]
    reason = {
        "source": "matrix",
        "impact": impact,
        "urgency": urgency,
        "priority": priority,
        "text": f"{Level(impact).label} impact × {Level(urgency).label} urgency → P{priority}",
    }
    return priority, reason


def route(*, category: Category | None, service: Service | None) -> tuple[Team | None, dict]:
    """First active routing rule matching the category (or its parent) and/or the service;
    else the service's support team; else unrouted (triage pool)."""
    category_ids = {c.pk for c in (category, getattr(category, "parent", None)) if c}
    for rule in RoutingRule.objects.filter(active=True).select_related("team"):
        if rule.category_id and rule.category_id not in category_ids:
            continue
        if rule.service_id and (service is None or rule.service_id != service.pk):
            continue
        return rule.team, {
            "source": "rule",
            "rule": rule.name,
            "rule_id": rule.pk,
            "team": rule.team.name,
        }
    if service is not None and service.support_team_id:
        team = service.support_team
        return team, {"source": "service", "service": service.name, "team": team.name}
    return None, {"source": "none", "text": "No rule matched: left for triage."}


def _auto_assign(*, incident: Incident, team: Team, by: Any) -> None:
    locked_team = Team.objects.select_for_update().get(pk=team.pk)
    decision = assignee_pick(team=locked_team, at=timezone.now())
    incident.assignment_reason = decision.explain()
    if decision.assignee is not None:
        ticket_change_fields(
            ticket=incident.ticket,
            by=by,
            changes={"assignee": decision.assignee},
            reason=f"auto-assigned, {locked_team.get_assignment_method_display().lower()}",
        )
        locked_team.last_assigned = decision.assignee
        locked_team.save(update_fields=["last_assigned"])


# ------------------------------------------------------------------ create and update
@transaction.atomic
def incident_create(
    *,
    requester: User,
    by: User,
    title: str,
    description: str = "",
    channel: Channel = Channel.PORTAL,
    impact: str = Level.MEDIUM,
    urgency: str = Level.MEDIUM,
    service: Service | None = None,
    category: Category | None = None,
    subcategory: Category | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    uploads: Iterable[UploadedFile] = (),
) -> Incident:
    """Raise an incident: priority from the matrix, team from routing (unless given), fair
    auto-assignment inside the team (unless an assignee is given), attachments checked."""
    if not title.strip():
        raise DomainError("Describe the problem in a few words.", field="title")
    if subcategory is not None and subcategory.parent_id != getattr(category, "pk", None):
        raise DomainError("The subcategory does not belong to the category.", field="subcategory")
    if assignee is not None and not assignee.is_agent:
        raise DomainError(f"{assignee} is not an agent.", field="assignee")
    if (
        assignee is not None
        and team is not None
        and not team.members.filter(pk=assignee.pk).exists()
    ):
        raise DomainError(f"{assignee} is not a member of {team}.", field="assignee")
    priority, priority_reason = priority_from_matrix(impact=impact, urgency=urgency)
    routing_reason: dict[str, Any] = {"source": "manual", "team": team.name} if team else {}
    if team is None:
        team, routing_reason = route(category=subcategory or category, service=service)
    ticket = ticket_create(
        kind=TicketKind.INCIDENT,
        title=title,
        description=description,
        requester=requester,
        by=by,
        priority=priority,
        team=team,
        assignee=assignee,
        service=service,
        data={"channel": channel, "priority": priority_reason["text"]},
    )
    incident = Incident.objects.create(
        ticket=ticket,
        channel=channel,
        impact=impact,
        urgency=urgency,
        category=category,
        subcategory=subcategory,
        priority_reason=priority_reason,
        routing_reason=routing_reason,
    )
    uploads = list(uploads)
    if uploads:
        first = TicketEvent.objects.filter(ticket=ticket).first()
        attachments_add(ticket=ticket, by=by, uploads=uploads, event=first)
    if team is not None:
        events.system(
            ticket=ticket, code="routed", body=_routing_text(routing_reason), data=routing_reason
        )
        if assignee is None:
            _auto_assign(incident=incident, team=team, by=None)
            incident.save(update_fields=["assignment_reason"])  # only auto-assignment sets it
    _sync_slas(incident)
    return incident


def _routing_text(reason: dict[str, Any]) -> str:
    if reason.get("source") == "rule":
        return f"Routed to {reason['team']} by rule “{reason['rule']}”."
    if reason.get("source") == "service":
        return f"Routed to {reason['team']}, the support team of {reason['service']}."
    if reason.get("source") == "manual":
        return f"Team {reason['team']} chosen on creation."
    return reason.get("text", "")


def _lock(incident: Incident, expected_version: int | None) -> Incident:
    ticket = ticket_lock(ticket_id=incident.pk, expected_version=expected_version)
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    locked.ticket = ticket
    return locked


@transaction.atomic
def incident_update(
    *, incident: Incident, by: User, expected_version: int | None = None, **fields: Any
) -> Incident:
    """Change descriptive fields. Impact/urgency recompute the priority unless an agent
    overrode it. Every changed field gets a journal entry with old and new values."""
    allowed = {
        "title",
        "description",
        "service",
        "category",
        "subcategory",
        "impact",
        "urgency",
        "channel",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise DomainError(f"Cannot change {', '.join(sorted(unknown))} here.")
    locked = _lock(incident, expected_version)
    ticket = locked.ticket
    category = fields.get("category", locked.category)
    subcategory = fields.get("subcategory", locked.subcategory)
    if subcategory is not None and subcategory.parent_id != getattr(category, "pk", None):
        raise DomainError("The subcategory does not belong to the category.", field="subcategory")
    envelope = {k: v for k, v in fields.items() if k in {"title", "description", "service"}}
    if "title" in envelope and not str(envelope["title"]).strip():
        raise DomainError("The title cannot be empty.", field="title")
    changed = ticket_change_fields(ticket=ticket, by=by, changes=envelope)
    detail_changed = []
    for name in ("category", "subcategory", "impact", "urgency", "channel"):
        if name not in fields or getattr(locked, name) == fields[name]:
            continue
        old = getattr(locked, name)
        setattr(locked, name, fields[name])
        events.field_changed(
            ticket=ticket,
            actor=by,
            field=name,
            label=name.capitalize(),
            old=str(old) if old is not None else None,
            new=str(fields[name]) if fields[name] is not None else None,
        )
        detail_changed.append(name)
    if {"impact", "urgency"} & set(detail_changed) and not locked.priority_overridden:
        priority, reason = priority_from_matrix(impact=locked.impact, urgency=locked.urgency)
        locked.priority_reason = reason
        detail_changed.append("priority_reason")
        changed += ticket_change_fields(
            ticket=ticket, by=by, changes={"priority": priority}, reason=reason["text"]
        )
    if detail_changed:
        locked.save(update_fields=detail_changed)
        if not changed:  # the envelope version still moves: someone else's form is now stale
            ticket_save(ticket=ticket, fields=[])
    _sync_slas(locked)
    return locked


@transaction.atomic
def incident_override_priority(
    *, incident: Incident, by: User, priority: int, reason: str, expected_version: int | None = None
) -> Incident:
    """An agent sets the priority by hand; the reason is required and goes into the journal."""
    if not reason.strip():
        raise DomainError("Say why the priority differs from the matrix.", field="reason")
    if priority not in (1, 2, 3, 4):
        raise DomainError("Priority must be P1 to P4.", field="priority")
    locked = _lock(incident, expected_version)
    locked.priority_overridden = True
    locked.priority_reason = {
        "source": "override",
        "priority": priority,
        "by": str(by),
        "by_id": by.pk,
        "reason": reason.strip(),
        "text": f"Set to P{priority} by {by}: {reason.strip()}",
    }
    locked.save(update_fields=["priority_overridden", "priority_reason"])
    ticket_change_fields(
        ticket=locked.ticket, by=by, changes={"priority": priority}, reason=reason.strip()
    )
    _sync_slas(locked)
    return locked


# ------------------------------------------------------------------ assignment
@transaction.atomic
def incident_assign(
    *,
    incident: Incident,
    by: User,
    team: Team | None = None,
    assignee: User | None = None,
    expected_version: int | None = None,
    auto: bool = False,
) -> Incident:
    """Reassign to a team and/or a person. `auto=True` lets the team's method pick the person."""
    locked = _lock(incident, expected_version)
    ticket = locked.ticket
    team = team or ticket.team
    if (
        assignee is not None
        and team is not None
        and not team.members.filter(pk=assignee.pk).exists()
    ):
        raise DomainError(f"{assignee} is not a member of {team}.", field="assignee")
    if assignee is not None and not assignee.is_agent:
        raise DomainError(f"{assignee} is not an agent.", field="assignee")
    changes: dict[str, Any] = {"team": team}
    if team != ticket.team and assignee is None:
        changes["assignee"] = None
    if assignee is not None:
        changes["assignee"] = assignee
        locked.assignment_reason = {
            "method": "manual",
            "chosen": {"id": assignee.pk, "name": str(assignee)},
            "by": str(by),
        }
    if team != ticket.team:
        locked.routing_reason = {"source": "manual", "team": str(team), "by": str(by)}
    ticket_change_fields(ticket=ticket, by=by, changes=changes)
    if auto and team is not None:
        _auto_assign(incident=locked, team=team, by=by)
    locked.save(update_fields=["assignment_reason", "routing_reason"])
    if locked.status == IncidentStatus.NEW and ticket.assignee_id is not None:
        ticket_set_status(
            ticket=ticket,
            detail=locked,
            workflow=INCIDENT_WORKFLOW,
            target=IncidentStatus.IN_PROGRESS,
            by=by,
        )
    _sync_slas(locked)
    return locked


# ------------------------------------------------------------------ transitions
@transaction.atomic
def incident_transition(
    *,
    incident: Incident,
    by: User,
    target: IncidentStatus,
    note: str = "",
    on_hold_reason: str = "",
    resolution_code: str = "",
    resolution_notes: str = "",
    expected_version: int | None = None,
) -> Incident:
    """Move an incident through its lifecycle; the table in workflow.py decides what is allowed.
    On hold needs a reason; resolve needs a resolution code and notes. Resolving a parent
    resolves its open children with the same resolution."""
    target = IncidentStatus(target)
    locked = _lock(incident, expected_version)
    fields = []
    if target == IncidentStatus.ON_HOLD:
        if on_hold_reason not in OnHoldReason.values:
            raise DomainError("Choose why the incident is on hold.", field="on_hold_reason")
        locked.on_hold_reason = on_hold_reason
        note = note or OnHoldReason(on_hold_reason).label
        fields.append("on_hold_reason")
    elif locked.on_hold_reason:
        locked.on_hold_reason = ""
        fields.append("on_hold_reason")
    if target == IncidentStatus.RESOLVED:
        if resolution_code not in ResolutionCode.values:
            raise DomainError("Choose a resolution code.", field="resolution_code")
        if not resolution_notes.strip():
            raise DomainError(
                "Write resolution notes the caller can read.", field="resolution_notes"
            )
        locked.resolution_code = resolution_code
        locked.resolution_notes = resolution_notes.strip()
        fields += ["resolution_code", "resolution_notes"]
        note = note or resolution_notes.strip()
    ticket_set_status(
        ticket=locked.ticket,
        detail=locked,
        workflow=INCIDENT_WORKFLOW,
        target=target,
        by=by,
        note=note,
    )
    if fields:
        locked.save(update_fields=fields)
    _sync_slas(locked)
    if target == IncidentStatus.RESOLVED:
        _resolve_children(parent=locked, by=by)
    return locked


def _resolve_children(*, parent: Incident, by: User) -> None:
    children = Incident.objects.filter(parent=parent, status__in=OPEN_STATUSES).order_by("pk")
    for child in children:
        incident_transition(
            incident=child,
            by=by,
            target=IncidentStatus.RESOLVED,
            resolution_code=parent.resolution_code,
            resolution_notes=parent.resolution_notes,
            note=f"Resolved with parent {parent.ticket.number}.",
        )


def reopen_deadline(incident: Incident) -> Any:
    resolved_at = incident.ticket.resolved_at
    if resolved_at is None:
        return None
    return resolved_at + timedelta(days=settings.INCIDENT_REOPEN_WINDOW_DAYS)


@transaction.atomic
def incident_reopen(
    *, incident: Incident, by: User, reason: str, expected_version: int | None = None
) -> Incident:
    """Back to in progress. The caller may reopen only within the reopen window; agents any time
    before closure."""
    if not reason.strip():
        raise DomainError("Tell us what is still wrong.", field="reason")
    incident = _lock(incident, expected_version)  # decide on the current row, not the caller's copy
    if not by.is_agent:
        deadline = reopen_deadline(incident)
        if deadline is None or timezone.now() > deadline:
            raise DomainError(
                "This incident can no longer be reopened "
                f"(window: {settings.INCIDENT_REOPEN_WINDOW_DAYS} days). "
                "Please raise a new one."
            )
    locked = incident_transition(
        incident=incident,
        by=by,
        target=IncidentStatus.IN_PROGRESS,
        note=reason,
        expected_version=expected_version,
    )
    events.system(ticket=locked.ticket, code="reopened", body=f"Reopened by {by}.", public=True)
    return locked


@transaction.atomic
def incident_confirm(
    *, incident: Incident, by: User, expected_version: int | None = None
) -> Incident:
    """The caller confirms the resolution: the incident closes."""
    return incident_transition(
        incident=incident,
        by=by,
        target=IncidentStatus.CLOSED,
        note="Resolution confirmed by the caller.",
        expected_version=expected_version,
    )


def incidents_auto_close(*, now: Any = None) -> int:
    """Close incidents resolved more than INCIDENT_AUTO_CLOSE_DAYS ago. Each in its own
    transaction; safe to run twice (a closed incident is skipped)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.INCIDENT_AUTO_CLOSE_DAYS)
    ids = list(
        Incident.objects.filter(status=IncidentStatus.RESOLVED, ticket__resolved_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    closed = 0
    for pk in ids:
        with transaction.atomic():
            incident = (
                Incident.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=IncidentStatus.RESOLVED)
                .first()
            )
            if incident is None:
                continue
            incident_transition(
                incident=incident,
                by=None,
                target=IncidentStatus.CLOSED,
                note=f"Closed automatically {settings.INCIDENT_AUTO_CLOSE_DAYS} days after "
                "resolution.",
            )
            closed += 1
    return closed


# ------------------------------------------------------------------ conversation
@transaction.atomic
@transaction.atomic
def incident_comment(
    *,
    incident: Incident,
    by: User,
    body: str,
    public: bool = True,
    uploads: Iterable[UploadedFile] = (),
    time_spent_minutes: int | None = None,
) -> TicketEvent:
    """A public reply (requester or agent) or an internal work note (agents only). The first
    public agent reply stamps first_responded_at."""
    if not public and not by.is_agent:
        raise DomainError("Only agents can write work notes.")
    event = ticket_reply(
        ticket=incident.ticket,
        by=by,
        body=body,
        public=public,
        uploads=uploads,
        time_spent_minutes=time_spent_minutes,
    )
    if public:  # the first public agent reply stops the response clock
        incident.refresh_from_db(fields=["status"])
        _sync_slas(incident)
    return event


# ------------------------------------------------------------------ major, parent/child
@transaction.atomic
def incident_mark_major(
    *, incident: Incident, by: User, major: bool = True, expected_version: int | None = None
) -> Incident:
    locked = _lock(incident, expected_version)
    if locked.is_major == major:
        return locked
    locked.is_major = major
    locked.save(update_fields=["is_major"])
    events.field_changed(
        ticket=locked.ticket,
        actor=by,
        field="is_major",
        label="Major incident",
        old=not major,
        new=major,
    )
    ticket_save(ticket=locked.ticket, fields=[])
    return locked


@transaction.atomic
def incident_link_child(*, parent: Incident, child: Incident, by: User) -> Incident:
    """Make `child` follow `parent` (it will be resolved with it)."""
    if parent.pk == child.pk:
        raise DomainError("An incident cannot be its own parent.", field="child")
    if parent.parent_id is not None:
        raise DomainError(
            f"{parent.ticket.number} is itself a child; link to its parent instead.", field="child"
        )
    if Incident.objects.filter(parent=child).exists():
        raise DomainError(f"{child.ticket.number} has children of its own.", field="child")
    locked = _set_parent(child=child, parent=parent, by=by)
    events.system(
        ticket=parent.ticket, code="child_linked", body=f"{locked.ticket.number} linked as a child."
    )
    return locked


@transaction.atomic
def incident_unlink_child(*, child: Incident, by: User) -> Incident:
    """Detach a child from its parent."""
    return _set_parent(child=child, parent=None, by=by)


def _set_parent(*, child: Incident, parent: Incident | None, by: User) -> Incident:
    """Lock the child, change its parent and journal old → new (no-op when unchanged)."""
    locked = _lock(child, None)
    if locked.parent_id == getattr(parent, "pk", None):
        return locked
    old = locked.parent.ticket.number if locked.parent_id else None
    locked.parent = parent
    locked.save(update_fields=["parent"])
    events.field_changed(
        ticket=locked.ticket,
        actor=by,
        field="parent",
        label="Parent incident",
        old=old,
        new=parent.ticket.number if parent else None,
    )
    ticket_save(ticket=locked.ticket, fields=[])
    return locked


# ------------------------------------------------------------------ outages
@transaction.atomic
def incident_outage_record(
    *,
    incident: Incident,
    by: User,
    service: Service,
    kind: str,
    started_at: Any,
    ended_at: Any = None,
    note: str = "",
) -> Outage:
    """Log that a service was down or degraded, for availability figures."""
    if kind not in OutageKind.values:
        raise DomainError("Choose full outage or degraded.", field="kind")
    if ended_at is not None and ended_at <= started_at:
        raise DomainError("The outage must end after it starts.", field="ended_at")
    if started_at > timezone.now():
        raise DomainError("An outage cannot start in the future.", field="started_at")
    locked = _lock(incident, None)
    outage = Outage.objects.create(
        incident=locked,
        service=service,
        kind=kind,
        started_at=started_at,
        ended_at=ended_at,
        note=note.strip(),
        recorded_by=by,
    )
    events.system(
        ticket=locked.ticket,
        code="outage_recorded",
        body=f"{OutageKind(kind).label} of {service} recorded from {started_at:%Y-%m-%d %H:%M}"
        + (f" to {ended_at:%Y-%m-%d %H:%M}" if ended_at else " (ongoing)")
        + ".",
        data={"outage_id": outage.pk, "service": service.name, "kind": kind},
    )
    ticket_save(ticket=locked.ticket, fields=[])
    return outage
