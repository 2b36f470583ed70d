"""From the journal to notifications: who hears about a journal entry, and what they read.

Every service writes its changes to the journal (tickets/events.py). `record()` also writes an
EventDispatch row (a transactional outbox, with the PostgreSQL transaction id) for the entries
that may interest someone, and queues `dispatch_event_task` after commit. The dispatcher then
picks recipients by rule and calls `notify()` with a dedupe key per (entry, rule), so
dispatching twice notifies once.

Rules (the actor never hears about their own action):
- created: the requester gets an acknowledgement (incidents and requests); the assignee, or
  the team when nobody is assigned, hears about the new ticket.
- assignee / team changed: the new assignee; the new team while nobody is assigned.
- public reply: requester and assignee (the team when an unassigned ticket gets a requester
  reply), and the ticket's watchers.
- work note: only the agents @mentioned who may see the ticket; requesters never.
- status changed: requester, assignee and watchers ("resolved" carries the satisfaction
  survey, to the requester only; a change moving to scheduled is "change_scheduled"); only the
  last move of one transaction, and none in the transaction that created the ticket (the
  acknowledgement says enough).
- system codes: sla (warning, breach) → assignee (escalation rules notify others directly);
  approval_requested and sent_to_cab → pending approvers; approval_approved /
  approval_rejected / approval_decided / authorised / retrospective_rejection → requester and
  assignee; schedule_override and any code with "conflict" → assignee and team lead; csat with
  a bad rating → assignee and team lead. Unknown codes notify nobody.

Requesters only ever read public journal text. A person a service already told directly in
the same transaction (same PostgreSQL transaction id) is not told again.
"""

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .choices import ApprovalDecision, EventType, TicketKind, TicketState
from .models import Approval, EventDispatch, Notification, Ticket, TicketEvent
from .notifications import notify

logger = logging.getLogger(__name__)

#: Kinds whose requester is an end user who hears about progress (tasks and changes are
#: internal work: their "requester" is not waiting on them).
REQUESTER_KINDS = frozenset({TicketKind.INCIDENT, TicketKind.REQUEST})
APPROVAL_REQUESTED_CODES = frozenset({"approval_requested", "sent_to_cab"})
APPROVAL_DECIDED_CODES = frozenset(
    {
        "approval_approved",
        "approval_rejected",
        "approval_decided",
        "authorised",
        "retrospective_rejection",
    }
)
MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9_.+-]*[A-Za-z0-9_])")


def wants_dispatch(event: TicketEvent) -> bool:
    """Cheap test at write time: does any rule look at this entry? (No outbox row otherwise.)"""
    if event.type == EventType.FIELD_CHANGED:
        return event.data.get("field") in ("assignee", "team")
    if event.type == EventType.WORK_NOTE:
        return "@" in event.body
    if event.type == EventType.SYSTEM:
        return _system_rule(event) is not None
    return event.type in (
        EventType.CREATED,
        EventType.COMMENT,
        EventType.STATUS_CHANGED,
    )


def enqueue_dispatch(event: TicketEvent) -> None:
    """Outbox row in the caller's transaction; the task after commit. A lost task (broker
    down at commit) is caught by the sweep, which re-dispatches rows older than a minute."""
    if not wants_dispatch(event):
        return
    from .tasks import dispatch_event_task

    EventDispatch.objects.create(event=event, ticket_id=event.ticket_id, type=event.type)
    transaction.on_commit(partial(dispatch_event_task.delay, event_id=event.pk), robust=True)


def dispatch_event(*, event_id: int) -> int:
    """Turn one journal entry into notifications; returns how many were created.

    Idempotent: the outbox row is locked (skip_locked) and marked dispatched in the same
    transaction, and every notification has a dedupe key, so a repeated or concurrent run adds
    nothing."""
    try:
        with transaction.atomic():
            row = (
                EventDispatch.objects.select_for_update(skip_locked=True)
                .filter(event_id=event_id, dispatched_at__isnull=True)
                .first()
            )
            if row is None:
                return 0
            event = TicketEvent.objects.select_related(
                "ticket__requester", "ticket__assignee", "ticket__team__lead", "actor"
            ).get(pk=event_id)
            plan = Plan(event=event, txid=row.txid)
            _rules(plan)
            sent = plan.send()
            row.dispatched_at = timezone.now()
            row.save(update_fields=["dispatched_at"])
    except Exception:
        # Kept for the sweep to retry; the count shows in admin when a rule keeps failing.
        EventDispatch.objects.filter(event_id=event_id).update(attempts=F("attempts") + 1)
        raise
    return sent


# ------------------------------------------------------------------ plan
@dataclass
class Message:
    name: str
    users: list[Any]
    subject: str
    body: str = ""
    internal_body: str | None = None  # what agents read instead (never requesters)
    check_visibility: bool = True
    coalesce: bool = False
    include_actor: bool = False


@dataclass
class Plan:
    """The notifications one journal entry produces."""

    event: TicketEvent
    txid: int
    messages: list[Message] = field(default_factory=list)

    @property
    def ticket(self) -> Ticket:
        return self.event.ticket

    def add(self, name: str, users: Iterable[Any], subject: str, body: str = "", **kw: Any) -> None:
        people = [u for u in users if u is not None]
        if people:
            self.messages.append(Message(name, people, subject, body, **kw))

    def send(self) -> int:
        told: set[int] | None = None
        sent = 0
        for message in self.messages:
            users = self._recipients(message)
            if message.coalesce:
                if told is None:
                    told = self._told_in_same_transaction()
                users = [u for u in users if u.pk not in told]
            agents = [u for u in users if u.is_agent]
            others = [u for u in users if not u.is_agent]
            key = f"ev{self.event.pk}:{message.name}"
            for group, body in (
                (agents, message.body if message.internal_body is None else message.internal_body),
                (others, message.body),
            ):
                sent += len(
                    notify(
                        recipients=group,
                        ticket=self.ticket,
                        event=message.name,
                        subject=message.subject,
                        body=body,
                        dedupe_key=key,
                        source_event=self.event,
                    )
                )
        return sent

    def _recipients(self, message: Message) -> list[Any]:
        actor_id = None if message.include_actor else self.event.actor_id
        users = [u for u in message.users if u.is_active and u.pk != actor_id]
        if message.check_visibility:
            users = [u for u in users if _can_see(u, self.ticket)]
        return users

    def same_transaction(self, type: str) -> list[int]:
        """Ids of this ticket's journal entries of `type` written in the same transaction."""
        return list(
            EventDispatch.objects.filter(ticket=self.ticket, txid=self.txid, type=type)
            .order_by("event_id")
            .values_list("event_id", flat=True)
        )

    def _told_in_same_transaction(self) -> set[int]:
        """People a service notified directly (not through the journal) in the transaction
        that wrote this entry: e.g. servicerequests tells the requester "fulfilled"."""
        return set(
            Notification.objects.filter(
                ticket=self.ticket, txid=self.txid, source_event__isnull=True
            ).values_list("recipient_id", flat=True)
        )


def _can_see(user: Any, ticket: Ticket) -> bool:
    return Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists()


def _team_members(ticket: Ticket) -> list[Any]:
    if ticket.team_id is None:
        return []
    return list(ticket.team.members.filter(is_active=True))


def _team_lead(ticket: Ticket) -> Any:
    return ticket.team.lead if ticket.team_id else None


def _watchers(ticket: Ticket, *, besides: Iterable[Any] = ()) -> list[Any]:
    """The ticket's active watchers, minus people already in another message of the plan
    (a watcher who is also the requester is told once, in the requester's words)."""
    skip = {u.pk for u in besides if u is not None}
    return [u for u in ticket.watchers.filter(is_active=True) if u.pk not in skip]


def _kind_label(ticket: Ticket) -> str:
    return str(TicketKind(ticket.kind).label).lower()


# ------------------------------------------------------------------ rules
def _rules(plan: Plan) -> None:
    handler = {
        EventType.CREATED: _on_created,
        EventType.FIELD_CHANGED: _on_field_changed,
        EventType.COMMENT: _on_comment,
        EventType.WORK_NOTE: _on_work_note,
        EventType.STATUS_CHANGED: _on_status_changed,
        EventType.SYSTEM: _on_system,
    }.get(plan.event.type)
    if handler is not None:
        handler(plan)


def _on_created(plan: Plan) -> None:
    ticket = plan.ticket
    if ticket.kind in REQUESTER_KINDS:
        via_email = (plan.event.data or {}).get("channel") == "email"
        plan.add(
            "ticket_created",
            [ticket.requester],
            f"We received your {_kind_label(ticket)}: {ticket.title}",
            f"Your {_kind_label(ticket)} {ticket.number} is recorded"
            f"{' from your e-mail' if via_email else ''}. We will keep you posted here.\n"
            "Reply to this e-mail to add information.",
            include_actor=True,  # the requester raised it: the acknowledgement is for them
        )
    assigned_later = TicketEvent.objects.filter(
        ticket=ticket, type=EventType.FIELD_CHANGED, data__field="assignee"
    ).exists()
    if ticket.assignee_id and not assigned_later:
        plan.add(
            "assigned", [ticket.assignee], f"Assigned to you: {ticket.title}", ticket.description
        )
    elif ticket.assignee_id is None and ticket.team_id:
        plan.add(
            "team_assigned",
            _team_members(ticket),
            f"New in the {ticket.team} queue: {ticket.title}",
            ticket.description,
        )


def _on_field_changed(plan: Plan) -> None:
    ticket, data = plan.ticket, plan.event.data
    new = data.get("new") if isinstance(data.get("new"), dict) else None
    if new is None:
        return
    if data.get("field") == "assignee" and ticket.assignee_id == new.get("id"):
        plan.add(
            "assigned",
            [ticket.assignee],
            f"Assigned to you: {ticket.title}",
            plan.event.body or ticket.description,
        )
    elif data.get("field") == "team" and ticket.team_id == new.get("id") and not ticket.assignee_id:
        plan.add(
            "team_assigned",
            _team_members(ticket),
            f"Assigned to {ticket.team}: {ticket.title}",
            plan.event.body or ticket.description,
        )


def _on_comment(plan: Plan) -> None:
    ticket, event = plan.ticket, plan.event
    actor = event.actor
    users = [ticket.assignee]
    if ticket.kind in REQUESTER_KINDS or ticket.kind == TicketKind.CHANGE:
        users.append(ticket.requester)
    if ticket.assignee_id is None and actor is not None and actor.pk == ticket.requester_id:
        users += _team_members(ticket)
    users += _watchers(ticket)  # notify() skips anyone listed twice
    files = event.attachments.count()
    extra = f"\n\n({files} attachment{'s' if files != 1 else ''})" if files else ""
    plan.add(
        "reply",
        users,
        f"New reply from {actor or 'the service desk'}: {ticket.title}",
        event.body + extra,
    )


def _on_work_note(plan: Plan) -> None:
    names = {m.lower() for m in MENTION.findall(plan.event.body)}
    if not names:
        return
    q = Q()
    for name in names:
        q |= Q(username__iexact=name)
    mentioned = [u for u in get_user_model().objects.filter(q, is_active=True) if u.is_agent]
    actor = plan.event.actor
    # Agents only, and the work note travels only in the agents' body: requesters never.
    plan.add(
        "mention",
        mentioned,
        f"{actor or 'Someone'} mentioned you in a work note: {plan.ticket.title}",
        "",
        internal_body=plan.event.body,
    )


def _on_status_changed(plan: Plan) -> None:
    ticket, data = plan.ticket, plan.event.data
    # One transaction that moves a ticket several times (submitted → approved → in
    # fulfilment) tells only the last status; one that also created it tells nothing more
    # than the acknowledgement (unless it resolved it).
    moves = plan.same_transaction(EventType.STATUS_CHANGED)
    if moves and moves[-1] != plan.event.pk:
        return
    created_now = bool(plan.same_transaction(EventType.CREATED))
    if created_now and data.get("state") != TicketState.RESOLVED:
        return
    label = data.get("new_label") or data.get("new")
    requester = [ticket.requester] if ticket.kind in REQUESTER_KINDS else []
    note = plan.event.body if plan.event.public else ""
    if ticket.kind == TicketKind.CHANGE and data.get("new") == "scheduled":
        plan.add(
            "change_scheduled",
            [ticket.requester, ticket.assignee],
            f"Change scheduled: {ticket.title}",
            note,
            coalesce=True,
        )
        plan.add(
            "status_changed",
            _watchers(ticket, besides=[ticket.requester, ticket.assignee]),
            f"{ticket.number} is now {label}",
            note,
            coalesce=True,
        )
        return
    if data.get("state") == TicketState.RESOLVED and requester:
        plan.add(
            "resolved",
            requester,
            f"Resolved: {ticket.title}",
            note or f"We have resolved your {_kind_label(ticket)}.",
            coalesce=True,
        )
        plan.add(
            "status_changed",
            [ticket.assignee, *_watchers(ticket, besides=requester)],
            f"{ticket.number} is now {label}",
            note,
            coalesce=True,
        )
        return
    plan.add(
        "status_changed",
        [*requester, ticket.assignee, *_watchers(ticket)],
        f"{ticket.number} is now {label}",
        note,
        coalesce=True,
    )


def _system_rule(event: TicketEvent) -> str | None:
    """Which system-event rule applies (None: no one is told, no outbox row is written)."""
    data = event.data or {}
    code = str(data.get("code", ""))
    if code == "sla":
        return "sla" if data.get("sla") in ("warning", "breach") else None
    if code in APPROVAL_REQUESTED_CODES:
        return "approval_requested"
    if code in APPROVAL_DECIDED_CODES:
        return "approval_decided"
    if code == "schedule_override" or "conflict" in code:
        return "change_conflict"
    if code == "csat" and data.get("rating") == "bad":
        return "csat_bad"
    return None


def _on_system(plan: Plan) -> None:
    ticket, event = plan.ticket, plan.event
    rule = _system_rule(event)
    public_body = event.body if event.public else ""
    if rule == "sla":
        kind = event.data["sla"]
        # The assignee only: who else hears (team lead, manager…) is what escalation
        # rules configure, and they notify directly.
        plan.add(
            f"sla_{kind}",
            [ticket.assignee],
            f"SLA {'warning' if kind == 'warning' else 'breached'}: {ticket.title}",
            "",
            internal_body=event.body,
        )
    elif rule == "approval_requested":
        plan.add(
            "approval_requested",
            _pending_approvers(ticket, event.data.get("approval_ids")),
            f"Approval needed: {ticket.title}",
            public_body,
            check_visibility=False,  # approvers decide from "My approvals", not the ticket
            coalesce=True,
        )
    elif rule == "approval_decided":
        plan.add(
            "approval_decided",
            [ticket.requester, ticket.assignee],
            f"Approval decided: {ticket.title}",
            public_body,
            internal_body=event.body,
            coalesce=True,
        )
    elif rule == "change_conflict":
        plan.add(
            "change_conflict",
            [ticket.assignee, _team_lead(ticket)],
            f"Schedule conflict: {ticket.title}",
            "",
            internal_body=event.body,
            coalesce=True,
        )
    elif rule == "csat_bad":
        plan.add(
            "csat_bad",
            [ticket.assignee, _team_lead(ticket)],
            f"Unhappy customer: {ticket.title}",
            "",
            internal_body=event.body,
        )
    else:
        logger.debug("No notification rule for system code %r", event.data.get("code"))


def _pending_approvers(ticket: Ticket, approval_ids: Any) -> list[Any]:
    rows = Approval.objects.filter(ticket=ticket, decision=ApprovalDecision.PENDING)
    if isinstance(approval_ids, list) and approval_ids:
        rows = rows.filter(pk__in=approval_ids)
    people: list[Any] = []
    for row in rows.select_related("approver", "approver_team"):
        if row.approver is not None:
            people.append(row.approver)
        elif row.approver_team is not None:
            people += list(row.approver_team.members.filter(is_active=True))
    return people
