"""Approval: the rows each stage needs (with fallbacks, never the requester), decisions,
rejection, reminders after N working hours, and delegation while away."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Team, User
from catalogue import formdef
from catalogue.choices import Approver, TeamRule
from core.exceptions import DomainError
from slas.calendar import business_time_between
from tickets import events
from tickets.choices import ApprovalDecision, TicketKind
from tickets.models import Approval
from tickets.notifications import notify
from tickets.services import (
    ticket_save,
)

from .. import approvals as approval_rules
from ..choices import RequestStatus
from ..models import ServiceRequest
from .common import (
    ApprovalClosed,
    NotAllowed,
    _lock,
    _set_status,
    _sync,
    _tell,
    expected_delivery,
    request_calendar,
    request_policies,
)
from .fulfilment import (
    _tasks_create,
)

R = RequestStatus


def _eligible_members(team: Team, requester: Any) -> list[User]:
    return list(team.members.filter(is_active=True).exclude(pk=requester.pk).order_by("pk"))


def _stage_person(stage: Mapping[str, Any], request: ServiceRequest) -> tuple[Any, str]:
    """The one person a manager, service-owner or named-person stage asks, and why there
    may be none."""
    approver = stage.get("approver")
    people = User.objects.select_related("delegate")  # fresh rows: delegation may just have changed
    if approver == Approver.MANAGER:
        manager_id = User.objects.filter(pk=request.ticket.requester_id).values("manager_id")
        return people.filter(pk__in=manager_id).first(), "no manager is on record for the requester"
    if approver == Approver.SERVICE_OWNER:
        owner_id = request.item.service.owner_id if request.item.service_id else None
        return people.filter(pk=owner_id).first(), "the item's service has no owner"
    return people.filter(pk=stage.get("user_id")).first(), "the named approver is gone"


def _stage_rows(
    stage: Mapping[str, Any], request: ServiceRequest
) -> tuple[list[dict[str, Any]], str]:
    """The Approval rows that one stage needs, and a note when a fallback was used. Nobody
    approves their own request: when the stage's approver is the requester, missing or
    inactive, the request's team approves instead (any one member)."""
    requester = request.ticket.requester
    if stage.get("approver") == Approver.TEAM:
        team = Team.objects.filter(pk=stage.get("team_id")).first()
        members = _eligible_members(team, requester) if team is not None else []
        if members and stage.get("team_rule") == TeamRule.ALL:
            return [{"approver": m, "approver_team": team} for m in members], ""
        if members:
            return [{"approver": None, "approver_team": team}], ""
        why = "the approving team has nobody else in it"
    else:
        person, why = _stage_person(stage, request)
        if person is not None and person.is_active and person.pk != requester.pk:
            return [{"approver": person, "approver_team": None}], ""
        if person is not None:
            why = (
                "the requester cannot approve their own request"
                if person.pk == requester.pk
                else f"{person} is no longer active"
            )
    fallback = request.ticket.team
    if fallback is not None and _eligible_members(fallback, requester):
        note = f" {stage.get('label', 'The approver')}: {why}, so the {fallback} team approves."
        return [{"approver": None, "approver_team": fallback}], note
    raise DomainError(
        f"This item needs approval by {stage.get('label', 'someone')}, but {why} and no team "
        "can approve instead. Ask the service desk.",
        field="item",
    )


def _approver_people(rows: Iterable[Approval]) -> list[Any]:
    """Everyone to tell that an approval waits on them (with active delegates)."""
    people: list[Any] = []
    for row in rows:
        if row.approver_id is not None:
            people.append(row.approver)
            if approval_rules.delegation_active(row.approver):
                people.append(row.approver.delegate)
        elif row.approver_team_id is not None:
            people += list(row.approver_team.members.filter(is_active=True))
    return people


def _start_stage(request: ServiceRequest, number: int) -> None:
    stages = request.item_snapshot.get("approval") or []
    stage = stages[number - 1]
    rows, note = _stage_rows(stage, request)
    request.approval_stage = number
    request.save(update_fields=["approval_stage"])
    created = [Approval.objects.create(ticket=request.ticket, stage=number, **row) for row in rows]
    who = ", ".join(approval_rules.approver_label(a) for a in created)
    events.system(
        ticket=request.ticket,
        code="approval_requested",
        public=True,
        body=f"Waiting for approval, stage {number} of {len(stages)} ({stage.get('label')}): "
        f"{who}.{note}",
        data={"stage": number, "approval_ids": [a.pk for a in created]},
    )
    requester = request.ticket.requester
    notify(
        recipients=[p for p in _approver_people(created) if p.pk != requester.pk],
        ticket=request.ticket,
        event="approval_requested",
        subject=f"Approval needed: {request.item_name} for {request.requested_for}",
        body=f"{requester} ordered {request.item_name}. Please approve or reject it in "
        f"“My approvals”: {settings.SITE_URL}/approvals/",
        dedupe_key=f"approval-requested-{request.pk}-{number}",
    )


@transaction.atomic
def approval_decide(
    *, approval: Approval, by: User, approve: bool, comment: str = ""
) -> ServiceRequest:
    """Approve or reject one approval. Rejecting needs a reason and ends the request; the
    last approval of a stage starts the next stage, or fulfilment after the last one."""
    comment = comment.strip()
    problem = formdef.storable_text(comment)
    if problem:
        raise DomainError(problem, field="comment")
    if not approve and not comment:
        raise DomainError("Say why you reject it: the requester will read it.", field="comment")
    request = _lock(ServiceRequest(pk=approval.ticket_id))
    approval = (
        Approval.objects.select_for_update(of=("self",))
        .select_related("approver")
        .get(pk=approval.pk)
    )
    if (
        approval.decision != ApprovalDecision.PENDING
        or request.status != R.AWAITING_APPROVAL
        or approval.stage != request.approval_stage
    ):
        raise ApprovalClosed("This approval was already decided or is no longer needed.")
    if request.ticket.requester_id == by.pk or not approval_rules.may_decide(by, approval):
        raise NotAllowed("You cannot decide this approval.")
    approval.decision = ApprovalDecision.APPROVED if approve else ApprovalDecision.REJECTED
    approval.comment = comment
    approval.decided_by = by
    approval.decided_at = timezone.now()
    approval.save(update_fields=["decision", "comment", "decided_by", "decided_at"])
    _journal_decision(request, approval, by)
    if not approve:
        _reject(request, by, comment)
    elif request.ticket.approvals.filter(
        stage=approval.stage, decision=ApprovalDecision.PENDING
    ).exists():
        ticket_save(ticket=request.ticket, fields=[])  # others of an "every member" stage
    elif request.approval_stage < request.approval_stages_total:
        _start_stage(request, request.approval_stage + 1)
        ticket_save(ticket=request.ticket, fields=[])
    else:
        _approve(request, by=by, note="All approvals given.")
    _sync(request)
    return request


def _journal_decision(request: ServiceRequest, approval: Approval, by: Any) -> None:
    verb = "approved" if approval.decision == ApprovalDecision.APPROVED else "rejected"
    on_behalf = ""
    if approval.approver_id is not None and approval.approver_id != by.pk:
        on_behalf = f" on behalf of {approval.approver}"
    body = f"{by}{on_behalf} {verb} stage {approval.stage}."
    if approval.comment:
        body += f" “{approval.comment}”"
    events.system(
        ticket=request.ticket,
        code=f"approval_{verb}",
        public=True,
        body=body,
        data={"approval_id": approval.pk, "stage": approval.stage, "decision": approval.decision},
    )


def _cancel_pending_approvals(request: ServiceRequest) -> None:
    Approval.objects.filter(ticket=request.ticket, decision=ApprovalDecision.PENDING).update(
        decision=ApprovalDecision.CANCELLED, decided_at=timezone.now()
    )


def _reject(request: ServiceRequest, by: Any, reason: str) -> None:
    _cancel_pending_approvals(request)
    request.outcome_reason = reason
    request.save(update_fields=["outcome_reason"])
    _set_status(request, R.REJECTED, by, note=reason)
    _tell(
        request,
        event="rejected",
        subject=f"Not approved: {request.item_name}",
        body=f"{by} did not approve your request {request.ticket.number}: {reason}",
    )


def _approve(request: ServiceRequest, *, by: Any, note: str) -> None:
    now = timezone.now()
    _set_status(request, R.APPROVED, by, note=note)
    request.approved_at = now
    request.expected_delivery_at = expected_delivery(request, start=now)
    request.save(update_fields=["approved_at", "expected_delivery_at"])
    _set_status(request, R.IN_FULFILMENT, None)
    _tasks_create(request)
    if request.approval_stages_total:
        _tell(
            request,
            event="approved",
            subject=f"Approved: {request.item_name}",
            body=f"Your request {request.ticket.number} is approved and being prepared.",
        )


def approval_reminders_send(*, now: datetime | None = None) -> int:
    """Remind approvers who have not decided after each N working hours (N per item). The
    dedupe key (approval, round) makes each reminder exactly-once, however often this runs."""
    now = now or timezone.now()
    pending = (
        Approval.objects.filter(
            decision=ApprovalDecision.PENDING,
            ticket__kind=TicketKind.REQUEST,
            ticket__service_request__status=R.AWAITING_APPROVAL,
            ticket__service_request__item__approval_reminder_hours__gt=0,
        )
        .select_related(
            "ticket__service_request__item",
            "ticket__service_request__requested_for",
            "ticket__requester",
            "approver__delegate",
            "approver_team",
        )
        .order_by("pk")
    )
    sent = 0
    policies = request_policies()
    for approval in pending.iterator(chunk_size=200):
        request = approval.ticket.service_request
        hours = request.item.approval_reminder_hours
        calendar = request_calendar(approval.ticket, policies)[0]
        waited = business_time_between(calendar, approval.created_at, now)
        rounds = int(waited / timedelta(hours=hours))
        if rounds < 1:
            continue
        people = [p for p in _approver_people([approval]) if p.pk != approval.ticket.requester_id]
        sent += len(
            notify(
                recipients=people,
                ticket=approval.ticket,
                event="approval_reminder",
                subject=f"Reminder: approval needed for {request.item_name}",
                body=f"{approval.ticket.requester} is waiting for your decision on "
                f"{approval.ticket.number} (waiting {rounds * hours} working hours). "
                f"{settings.SITE_URL}/approvals/",
                dedupe_key=f"approval-reminder-{approval.pk}-{rounds}",
            )
        )
    return sent


@transaction.atomic
def delegation_set(
    *, user: User, delegate: User | None, start: date | None = None, end: date | None = None
) -> User:
    """Hand one's approvals to a delegate from `start` to `end` (inclusive; open ends allowed);
    no delegate ends the delegation."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if delegate is not None:
        if delegate.pk == user.pk:
            raise DomainError("Choose someone else.", field="delegate")
        if not delegate.is_active:
            raise DomainError(f"{delegate} is not active.", field="delegate")
        if start is not None and end is not None and end < start:
            raise DomainError("The end is before the start.", field="delegate_until")
    else:
        start = end = None
    locked.delegate, locked.delegate_from, locked.delegate_until = delegate, start, end
    locked.save(update_fields=["delegate", "delegate_from", "delegate_until"])
    return locked
