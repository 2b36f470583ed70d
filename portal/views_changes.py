"""Portal "Change approvals": CAB members who do not work in the desk see and decide the
changes waiting for them here. Visibility is Change.objects.visible_to (which lets an
approver see the change); the decision goes through changes.services.change_decide."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from changes import permissions, services
from changes.conflicts import conflicts_of
from changes.models import Change
from changes.windows import zone
from core.exceptions import DomainError
from tickets.choices import ApprovalDecision, TicketKind
from tickets.models import Approval


class DecisionForm(forms.Form):
    approval = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        choices=[(ApprovalDecision.APPROVED, "Approve"), (ApprovalDecision.REJECTED, "Reject")]
    )
    comment = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Your comment"
    )


def _addressed_to(user: Any) -> Q:
    return Q(approver=user) | Q(approver_team_id__in=list(user.team_ids))


def change_approvals(request: HttpRequest) -> HttpResponse:
    """What waits on me, and what I decided lately."""
    user = request.user
    base = Approval.objects.filter(ticket__kind=TicketKind.CHANGE).filter(_addressed_to(user))
    pending = [
        a
        for a in base.filter(decision=ApprovalDecision.PENDING)
        .select_related("ticket__change", "ticket__requester")
        .order_by("ticket__change__planned_start", "pk")
        if permissions.can_decide(user, a.ticket.change, a)
    ]
    decided = (
        base.filter(decided_by=user)
        .exclude(decision=ApprovalDecision.PENDING)
        .select_related("ticket__change")
        .order_by("-decided_at", "-pk")[:20]
    )
    with timezone.override(zone(user.time_zone)):
        return render(
            request,
            "portal/changes/approvals.html",
            {"pending": pending, "decided": decided},
        )


def _change(request: HttpRequest, pk: int) -> Change:
    queryset = Change.objects.visible_to(request.user).select_related(
        "ticket__requester", "ticket__team", "template"
    )
    return get_object_or_404(queryset, pk=pk)


def _render(
    request: HttpRequest, change: Change, form: DecisionForm | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    approvals = list(
        Approval.objects.filter(ticket_id=change.pk)
        .select_related("approver", "approver_team")
        .order_by("stage", "pk")
    )
    mine = [a for a in approvals if permissions.can_decide(user, change, a)]
    context = {
        "change": change,
        "ticket": change.ticket,
        "approvals": approvals,
        "mine": mine,
        "form": form or DecisionForm(),
        "conflicts": conflicts_of(change) if change.is_open else None,
    }
    with timezone.override(zone(user.time_zone)):
        return render(request, "portal/changes/approval.html", context, status=status)


def change_approval_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The change as a CAB member needs it: plans, risk, window, conflicts, other votes."""
    return _render(request, _change(request, pk))


@require_POST
def change_approval_decide(request: HttpRequest, pk: int) -> HttpResponse:
    change = _change(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _render(request, change, form, status=422)
    approval = Approval.objects.filter(pk=form.cleaned_data["approval"], ticket_id=pk).first()
    if approval is None or not permissions.can_decide(request.user, change, approval):
        raise PermissionDenied
    try:
        services.change_decide(
            change=change,
            approval=approval,
            by=request.user,
            decision=form.cleaned_data["decision"],
            comment=form.cleaned_data["comment"],
        )
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _render(request, change, form, status=422)
    verb = "approved" if form.cleaned_data["decision"] == ApprovalDecision.APPROVED else "rejected"
    messages.success(request, f"You {verb} {change.ticket.number}.")
    return redirect("portal:change-approvals")
