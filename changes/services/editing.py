"""Drafting and editing changes, assignment, links to incidents and the conversation."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Team, User
from catalogue.models import Service
from core.exceptions import DomainError
from tickets import events
from tickets.choices import TicketKind
from tickets.models import Ticket, TicketEvent, TicketLink
from tickets.services import ticket_change_fields, ticket_create, ticket_reply, ticket_save

from ..choices import ChangeImpact, ChangeType, Risk
from ..conflicts import conflicts_of
from ..models import Change, StandardChangeTemplate
from ..workflow import ASSESSABLE_STATUSES, BOOKED_STATUSES, EDITABLE_STATUSES
from ._common import (
    DETAIL_TEXT_FIELDS,
    ENVELOPE_FIELDS,
    FIXES,
    PLAN_FIELDS,
    UPDATABLE,
    WINDOW_FIELDS,
    S,
    _booking_lock,
    _check_window,
    _lock,
    _note,
    _priority,
    _require_clear_or_override,
    _short,
    _stamp,
    _sync_slas,
)


@transaction.atomic
def change_create(
    *,
    by: User,
    title: str,
    type: str = ChangeType.NORMAL,
    description: str = "",
    requester: User | None = None,
    template: StandardChangeTemplate | None = None,
    services: Iterable[Service] = (),
    team: Team | None = None,
    assignee: User | None = None,
    impact: str | None = None,
    justification: str = "",
    implementation_plan: str = "",
    backout_plan: str = "",
    test_plan: str = "",
    configuration_items: str = "",
    planned_start: datetime | None = None,
    planned_end: datetime | None = None,
) -> Change:
    """Draft a change. From a standard template it is a standard change with the template's
    fixed risk, plans (unless given), services and team; otherwise normal or emergency, low
    risk until the questionnaire is answered."""
    if not title.strip():
        raise DomainError("Say in a few words what will change.", field="title")
    services = list(services)
    if template is not None:
        if not template.active:
            raise DomainError("That standard change template is retired.", field="template")
        type = ChangeType.STANDARD
        implementation_plan = implementation_plan or template.implementation_plan
        backout_plan = backout_plan or template.backout_plan
        test_plan = test_plan or template.test_plan
        services = services or list(template.services.all())
        team = team or template.team
        impact = impact or template.impact
    elif type == ChangeType.STANDARD:
        raise DomainError("A standard change starts from a standard template.", field="template")
    if type not in ChangeType.values:
        raise DomainError("Choose standard, normal or emergency.", field="type")
    impact = impact or ChangeImpact.MEDIUM
    if assignee is not None and not assignee.is_agent:
        raise DomainError(f"{assignee} is not an agent.", field="assignee")
    _check_window(planned_start, planned_end)
    if team is None and services and services[0].support_team_id:
        team = services[0].support_team
    ticket = ticket_create(
        kind=TicketKind.CHANGE,
        title=title,
        description=description,
        requester=requester or by,
        by=by,
        priority=_priority(type, impact),
        team=team,
        assignee=assignee,
        service=services[0] if services else None,
        data={"type": type, "template": template.name if template else None},
    )
    if template is not None:
        risk = template.risk
        risk_reason = {
            "source": "template",
            "text": f"Fixed by the standard change “{template.name}”",
        }
    else:
        risk = Risk.LOW
        risk_reason = {"source": "questionnaire", "score": 0, "text": "Not assessed yet"}
    change = Change.objects.create(
        ticket=ticket,
        type=type,
        template=template,
        configuration_items=configuration_items.strip(),
        justification=justification.strip(),
        implementation_plan=implementation_plan.strip(),
        backout_plan=backout_plan.strip(),
        test_plan=test_plan.strip(),
        planned_start=planned_start,
        planned_end=planned_end,
        risk=risk,
        risk_reason=risk_reason,
        impact=impact,
    )
    change.services.set(services)
    _sync_slas(change)
    return change


def _apply_detail_field(locked: Change, by: User, name: str, value: Any) -> bool:
    old = getattr(locked, name)
    if old == value:
        return False
    setattr(locked, name, value)
    if name in WINDOW_FIELDS:
        old_shown, new_shown = _stamp(old), _stamp(value)
    elif name in ("impact", "type"):
        old_shown, new_shown = str(old), str(value)
    else:
        old_shown, new_shown = _short(old) or None, _short(value) or None
    label = Change._meta.get_field(name).verbose_name
    events.field_changed(
        ticket=locked.ticket,
        actor=by,
        field=name,
        label=str(label).capitalize(),
        old=old_shown,
        new=new_shown,
    )
    return True


def _check_editable(locked: Change, fields: Mapping[str, Any]) -> None:
    if locked.status not in EDITABLE_STATUSES:
        raise DomainError(f"A change in {locked.get_status_display()} can no longer be edited.")
    if "type" in fields and fields["type"] != locked.type:
        if locked.status != S.DRAFT:
            raise DomainError("The type can only change while the change is a draft.", field="type")
        if ChangeType.STANDARD in (fields["type"], locked.type):
            raise DomainError("Standard changes come from a template.", field="type")
    plans = [f for f in PLAN_FIELDS if f in fields and fields[f] != getattr(locked, f)]
    if plans and locked.template_id is not None:
        raise DomainError("The plans of a standard change are the template's.", field=plans[0])
    if plans and locked.status not in ASSESSABLE_STATUSES:
        raise DomainError(
            "The plans were assessed as they are: they cannot change after assessment.",
            field=plans[0],
        )


def _update_services(locked: Change, by: User, services: Sequence[Service]) -> bool:
    current = list(locked.services.order_by("name"))
    if {s.pk for s in current} == {s.pk for s in services}:
        return False
    locked.services.set(services)
    events.field_changed(
        ticket=locked.ticket,
        actor=by,
        field="services",
        label="Services",
        old=", ".join(s.name for s in current) or None,
        new=", ".join(sorted(s.name for s in services)) or None,
    )
    first = sorted(services, key=lambda s: s.name)[0] if services else None
    ticket_change_fields(ticket=locked.ticket, by=by, changes={"service": first})
    return True


@transaction.atomic
def change_update(
    *,
    change: Change,
    by: User,
    expected_version: int | None = None,
    override_reason: str = "",
    **fields: Any,
) -> Change:
    """Edit descriptive fields, plans, services and the planned window. Every changed field is
    journalled. Moving a booked change's window or services re-checks conflicts: a new
    conflict needs a change manager's override."""
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise DomainError(f"Cannot change {', '.join(sorted(unknown))} here.")
    if "title" in fields and not str(fields["title"]).strip():
        raise DomainError("The title cannot be empty.", field="title")
    locked = _lock(change, expected_version)
    _check_editable(locked, fields)
    booked = locked.status in BOOKED_STATUSES
    if booked:
        _booking_lock()
    start = fields.get("planned_start", locked.planned_start)
    end = fields.get("planned_end", locked.planned_end)
    _check_window(start, end)
    if booked and (start is None or end is None):
        raise DomainError("A scheduled change keeps a planned window.", field="planned_start")
    if booked and end is not None and end != locked.planned_end and end <= timezone.now():
        raise DomainError("A booked window cannot move into the past.", field="planned_end")
    envelope = {k: str(v).strip() for k, v in fields.items() if k in ENVELOPE_FIELDS}
    changed = ticket_change_fields(ticket=locked.ticket, by=by, changes=envelope)
    detail_changed = [
        name
        for name in (*DETAIL_TEXT_FIELDS, *WINDOW_FIELDS, "impact", "type")
        if name in fields
        and _apply_detail_field(
            locked, by, name, fields[name].strip() if name in DETAIL_TEXT_FIELDS else fields[name]
        )
    ]
    services_changed = "services" in fields and _update_services(locked, by, fields["services"])
    if {"impact", "type"} & set(detail_changed):
        changed += ticket_change_fields(
            ticket=locked.ticket,
            by=by,
            changes={"priority": _priority(locked.type, locked.impact)},
            reason="follows the change's type and impact",
        )
    if detail_changed:
        locked.save(update_fields=detail_changed)
    if booked and (services_changed or set(WINDOW_FIELDS) & set(detail_changed)):
        _require_clear_or_override(
            change=locked, by=by, conflicts=conflicts_of(locked), override_reason=override_reason
        )
    if (detail_changed or services_changed) and not changed:
        ticket_save(ticket=locked.ticket, fields=[])  # someone else's open form is now stale
    _sync_slas(locked)
    return locked


@transaction.atomic
def change_assign(
    *,
    change: Change,
    by: User,
    team: Team | None = None,
    assignee: User | None = None,
    expected_version: int | None = None,
) -> Change:
    """Give the change to a team and/or an implementer (an agent of that team)."""
    locked = _lock(change, expected_version)
    team = team or locked.ticket.team
    if assignee is not None and not assignee.is_agent:
        raise DomainError(f"{assignee} is not an agent.", field="assignee")
    if (
        assignee is not None
        and team is not None
        and not team.members.filter(pk=assignee.pk).exists()
    ):
        raise DomainError(f"{assignee} is not a member of {team}.", field="assignee")
    changes: dict[str, Any] = {"team": team}
    if assignee is not None or team != locked.ticket.team:
        changes["assignee"] = assignee
    ticket_change_fields(ticket=locked.ticket, by=by, changes=changes)
    _sync_slas(locked)
    return locked


@transaction.atomic
def change_link_incident(*, change: Change, by: User, incident: Ticket) -> TicketLink:
    """Record that this change fixes an incident (a typed TicketLink, journalled on both)."""
    if incident.kind != TicketKind.INCIDENT:
        raise DomainError(f"{incident.number} is not an incident.", field="incident")
    locked = _lock(change, None)
    link, created = TicketLink.objects.get_or_create(
        source=locked.ticket, target=incident, kind=FIXES, defaults={"created_by": by}
    )
    if created:
        _note(
            locked.ticket,
            actor=by,
            code="link_fixes",
            body=f"{by} linked {incident.number}: this change fixes it.",
            data={"target": incident.number},
        )
        _note(
            incident,
            actor=by,
            code="fixed_by_change",
            body=f"Change {locked.ticket.number} is meant to fix this incident.",
            data={"change": locked.ticket.number},
        )
        ticket_save(ticket=locked.ticket, fields=[])
    return link


@transaction.atomic
def change_unlink_incident(*, change: Change, by: User, incident: Ticket) -> None:
    """Remove a "fixes" link."""
    locked = _lock(change, None)
    deleted, _ = TicketLink.objects.filter(
        source=locked.ticket, target=incident, kind=FIXES
    ).delete()
    if deleted:
        _note(
            locked.ticket,
            actor=by,
            code="unlink_fixes",
            body=f"{by} removed the link to {incident.number}.",
        )
        ticket_save(ticket=locked.ticket, fields=[])


@transaction.atomic
def change_comment(
    *,
    change: Change,
    by: User,
    body: str,
    public: bool = True,
    uploads: Iterable[Any] = (),
    time_spent_minutes: int | None = None,
) -> TicketEvent:
    """A reply on the change (public) or an internal work note (agents only)."""
    if not public and not by.is_agent:
        raise DomainError("Only agents can write work notes.")
    event = ticket_reply(
        ticket=change.ticket,
        by=by,
        body=body,
        public=public,
        uploads=uploads,
        time_spent_minutes=time_spent_minutes,
    )
    change.ticket.refresh_from_db()
    _sync_slas(change)
    return event
