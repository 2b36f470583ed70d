"""Typed constructors for journal entries (Saleor events.py style). Services call these;
nothing else writes TicketEvent rows."""

from typing import Any

from .choices import EventType
from .dispatch import enqueue_dispatch
from .models import Ticket, TicketEvent


def record(
    *,
    ticket: Ticket,
    type: EventType,
    actor: Any = None,
    public: bool = False,
    body: str = "",
    data: dict[str, Any] | None = None,
    time_spent_minutes: int | None = None,
) -> TicketEvent:
    event = TicketEvent.objects.create(
        ticket=ticket,
        type=type,
        actor=actor,
        public=public,
        body=body,
        data=data or {},
        time_spent_minutes=time_spent_minutes,
    )
    # Notifications follow the journal: an outbox row now, dispatched after commit.
    enqueue_dispatch(event)
    return event


def created(*, ticket: Ticket, actor: Any, data: dict[str, Any] | None = None) -> TicketEvent:
    return record(ticket=ticket, type=EventType.CREATED, actor=actor, public=True, data=data)


def comment(
    *, ticket: Ticket, actor: Any, body: str, time_spent_minutes: int | None = None
) -> TicketEvent:
    return record(
        ticket=ticket,
        type=EventType.COMMENT,
        actor=actor,
        public=True,
        body=body,
        time_spent_minutes=time_spent_minutes,
    )


def work_note(
    *, ticket: Ticket, actor: Any, body: str, time_spent_minutes: int | None = None
) -> TicketEvent:
    return record(
        ticket=ticket,
        type=EventType.WORK_NOTE,
        actor=actor,
        public=False,
        body=body,
        time_spent_minutes=time_spent_minutes,
    )


def field_changed(
    *,
    ticket: Ticket,
    actor: Any,
    field: str,
    label: str,
    old: Any,
    new: Any,
    public: bool = False,
    reason: str = "",
) -> TicketEvent:
    return record(
        ticket=ticket,
        type=EventType.FIELD_CHANGED,
        actor=actor,
        public=public,
        body=reason,
        data={"field": field, "label": label, "old": old, "new": new},
    )


def status_changed(
    *,
    ticket: Ticket,
    actor: Any,
    old: str,
    new: str,
    old_label: str,
    new_label: str,
    note: str = "",
    state: str = "",
) -> TicketEvent:
    """`state` is the envelope state after the change: SLA replay reads it from the journal."""
    return record(
        ticket=ticket,
        type=EventType.STATUS_CHANGED,
        actor=actor,
        public=True,
        body=note,
        data={
            "old": old,
            "new": new,
            "old_label": old_label,
            "new_label": new_label,
            "state": state,
        },
    )


def system(
    *, ticket: Ticket, code: str, body: str = "", public: bool = False, data: dict | None = None
) -> TicketEvent:
    return record(
        ticket=ticket,
        type=EventType.SYSTEM,
        public=public,
        body=body,
        data={"code": code, **(data or {})},
    )
