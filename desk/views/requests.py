"""Desk pages for service requests and their fulfilment tasks: the request queue and page
(answers as a readable form, approvals timeline, tasks with their states), the approvals
waiting on the agent, and the task queue and page that fulfilment teams work.

GET pages read through visible_to; each POST action validates a form, checks one predicate
and calls one service. With HTMX the panel is re-rendered in place; without JavaScript the
page redirects back (PRG)."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from core.views import FilteredListView
from servicerequests import permissions, services
from servicerequests.answers import answers_display
from servicerequests.approvals import approvals_waiting_on
from servicerequests.choices import TaskStatus
from servicerequests.filtersets import FulfilmentTaskFilterSet, ServiceRequestFilterSet
from servicerequests.models import FulfilmentTask, ServiceRequest
from servicerequests.progress import progress_for
from slas.models import SlaClock
from slas.querysets import clocks_for_display
from tickets.models import Approval
from tickets.timeline import timeline_for

from ..bulk import take_team
from ..forms import ReplyForm, VersionedForm
from ..forms import TeamAssignForm as AssignForm
from .actions import Action, Stale, anyone, run_action


# ------------------------------------------------------------------ forms
class ReasonForm(VersionedForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000
    )


class DecisionForm(forms.Form):
    approval = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=4000,
        help_text="Required to reject: the requester reads it.",
    )


class TaskTransitionForm(VersionedForm):
    target = forms.ChoiceField(choices=TaskStatus.choices)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


# ------------------------------------------------------------------ requests
class RequestListView(FilteredListView):
    """Request queue: open requests by default; ServiceRequestFilterSet shared with the API."""

    template_name = "desk/requests/list.html"
    filterset_class = ServiceRequestFilterSet
    sort_fields = {
        "number": "ticket__number",
        "priority": "ticket__priority",
        "age": "-ticket__created_at",
        "updated": "ticket__updated_at",
        "delivery": "expected_delivery_at",
    }
    default_sort = "priority"

    def get_base_queryset(self) -> QuerySet[ServiceRequest]:
        queryset = ServiceRequest.objects.visible_to(self.request.user).for_list().with_progress()
        if not self.request.GET.get("status"):
            queryset = queryset.open()
        return queryset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["waiting_on_me"] = approvals_waiting_on(self.request.user).count()
        return context


class ApprovalQueueView(FilteredListView):
    """Request approvals waiting on the agent (as approver, delegate or team member)."""

    template_name = "desk/requests/approvals.html"
    sort_fields = {"waiting": "created_at"}
    default_sort = "waiting"

    def get_base_queryset(self) -> QuerySet[Approval]:
        return approvals_waiting_on(self.request.user).select_related(
            "approver",
            "approver_team",
            "ticket__requester",
            "ticket__service_request__requested_for",
        )


def _request(request: HttpRequest, pk: int) -> ServiceRequest:
    queryset = ServiceRequest.objects.visible_to(request.user).select_related(
        "ticket__requester__organization",
        "ticket__assignee",
        "ticket__team",
        "ticket__service",
        "requested_for",
        "item",
    )
    return get_object_or_404(queryset, pk=pk)


def _clocks(ticket_id: int) -> QuerySet[SlaClock]:
    return clocks_for_display(SlaClock.objects.filter(ticket_id=ticket_id))


def _render_request(
    request: HttpRequest,
    sr: ServiceRequest,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
    stale: Stale | None = None,
) -> HttpResponse:
    """The request page: a constant number of queries whatever the journal, tasks or
    approvals hold."""
    ticket = sr.ticket
    approvals = list(
        Approval.objects.filter(ticket_id=sr.pk).select_related(
            "approver__delegate", "approver_team", "decided_by"
        )
    )
    tasks = list(
        sr.tasks.select_related("ticket__team", "ticket__assignee").order_by("order", "pk")
    )
    mine = [a for a in approvals if permissions.can_decide(request.user, a, sr)]
    version = {"version": ticket.version}
    forms_ = {
        "reply": ReplyForm(initial=version),
        "assign": AssignForm.for_ticket(ticket, version),
        "cancel": ReasonForm(initial=version),
        "decision": DecisionForm(initial={"approval": mine[0].pk} if mine else None),
        **(bound or {}),
    }
    context = {
        "stale": stale,
        "sr": sr,
        "ticket": ticket,
        "timeline": timeline_for(ticket=ticket, viewer=request.user),
        "answers": answers_display(sr.variables(), sr.answers),
        "approvals": approvals,
        "tasks": tasks,
        "progress": progress_for(sr, approvals=approvals, tasks=tasks),
        "my_approval": mine[0] if mine else None,
        "forms": forms_,
        "can_work": permissions.can_work(request.user, sr),
        "can_cancel": permissions.can_cancel(request.user, sr),
        "can_close": permissions.can_close(request.user, sr),
        "clocks": _clocks(sr.pk),
    }
    template = "desk/requests/_request.html" if request.htmx else "desk/requests/detail.html"
    return render(request, template, context, status=status)


def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_request(request, _request(request, pk))


def _reply(request: HttpRequest, sr: ServiceRequest, data: dict[str, Any]) -> None:
    services.service_request_comment(
        request=sr,
        by=request.user,
        body=data["body"],
        public=data["public"],
        uploads=data["attachments"],
        time_spent_minutes=data.get("time_spent_minutes"),
    )


def _assign(request: HttpRequest, sr: ServiceRequest, data: dict[str, Any]) -> None:
    services.service_request_assign(
        request=sr,
        by=request.user,
        team=data["team"],
        assignee=data["assignee"],
        expected_version=data["version"],
    )


def _take(request: HttpRequest, sr: ServiceRequest, data: dict[str, Any]) -> None:
    team = take_team(sr.ticket, request.user)
    services.service_request_assign(
        request=sr,
        by=request.user,
        team=team,
        assignee=request.user,
        expected_version=data["version"],
    )


def _cancel(request: HttpRequest, sr: ServiceRequest, data: dict[str, Any]) -> None:
    if not permissions.can_cancel(request.user, sr):
        raise PermissionDenied
    services.service_request_cancel(
        request=sr, by=request.user, reason=data["reason"], expected_version=data["version"]
    )


def _close(request: HttpRequest, sr: ServiceRequest, data: dict[str, Any]) -> None:
    if not permissions.can_close(request.user, sr):
        raise PermissionDenied
    services.service_request_close(request=sr, by=request.user, expected_version=data["version"])


def _decide(approve: bool) -> Callable[[HttpRequest, ServiceRequest, dict[str, Any]], None]:
    def run(request: HttpRequest, sr: ServiceRequest, data: dict[str, Any]) -> None:
        approval = (
            Approval.objects.filter(ticket_id=sr.pk, pk=data["approval"])
            .select_related("approver__delegate")
            .first()
        )
        if approval is None or not permissions.can_decide(request.user, approval, sr):
            raise PermissionDenied
        services.approval_decide(
            approval=approval, by=request.user, approve=approve, comment=data["comment"]
        )

    return run


REQUEST_ACTIONS: dict[str, Action] = {
    "reply": Action(ReplyForm, _reply, "reply", "Reply added."),
    "assign": Action(AssignForm, _assign, "assign", "Assignment changed."),
    "take": Action(VersionedForm, _take, "assign", "Assigned to you."),
    "cancel": Action(ReasonForm, _cancel, "cancel", "Request cancelled."),
    "close": Action(VersionedForm, _close, "cancel", "Request closed."),
    # Approvers decide with their own predicate: they need not work the request.
    "approve": Action(DecisionForm, _decide(True), "decision", "Approved.", predicate=anyone),
    "reject": Action(DecisionForm, _decide(False), "decision", "Rejected.", predicate=anyone),
}


@require_POST
def request_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    return run_action(
        request,
        actions=REQUEST_ACTIONS,
        action=action,
        load=lambda: _request(request, pk),
        can=permissions.can_work,
        render=_render_request,
        panel="#request-panel",
    )


# ------------------------------------------------------------------ tasks
class TaskListView(FilteredListView):
    """Fulfilment tasks of the agent's teams (and assigned to them): open ones by default,
    FulfilmentTaskFilterSet shared with the API."""

    template_name = "desk/requests/tasks.html"
    filterset_class = FulfilmentTaskFilterSet
    sort_fields = {
        "number": "ticket__number",
        "priority": "ticket__priority",
        "age": "-ticket__created_at",
        "updated": "ticket__updated_at",
    }
    default_sort = "priority"

    def get_base_queryset(self) -> QuerySet[FulfilmentTask]:
        queryset = FulfilmentTask.objects.visible_to(self.request.user).for_list()
        if not self.request.GET.get("status"):
            queryset = queryset.open()
        return queryset


def _task(request: HttpRequest, pk: int) -> FulfilmentTask:
    queryset = FulfilmentTask.objects.visible_to(request.user).select_related(
        "ticket__team",
        "ticket__assignee",
        "ticket__requester",
        "request__ticket__team",
        "request__requested_for",
    )
    return get_object_or_404(queryset, pk=pk)


def _render_task(
    request: HttpRequest,
    task: FulfilmentTask,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
    stale: Stale | None = None,
) -> HttpResponse:
    ticket = task.ticket
    sr = task.request
    version = {"version": ticket.version}
    forms_ = {
        "reply": ReplyForm(initial={**version, "public": False}),
        "assign": AssignForm.for_ticket(ticket, version),
        "transition": TaskTransitionForm(initial=version),
        **(bound or {}),
    }
    siblings = list(
        sr.tasks.select_related("ticket__team", "ticket__assignee").order_by("order", "pk")
    )
    context = {
        "stale": stale,
        "task": task,
        "ticket": ticket,
        "sr": sr,
        "siblings": siblings,
        "answers": answers_display(sr.variables(), sr.answers),
        "timeline": timeline_for(ticket=ticket, viewer=request.user),
        "forms": forms_,
        "can_work": permissions.can_work_task(request.user, task),
        "clocks": _clocks(task.pk),
    }
    template = "desk/requests/_task.html" if request.htmx else "desk/requests/task_detail.html"
    return render(request, template, context, status=status)


def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_task(request, _task(request, pk))


def _task_reply(request: HttpRequest, task: FulfilmentTask, data: dict[str, Any]) -> None:
    services.task_comment(
        task=task,
        by=request.user,
        body=data["body"],
        public=data["public"],
        uploads=data["attachments"],
        time_spent_minutes=data.get("time_spent_minutes"),
    )


def _task_assign(request: HttpRequest, task: FulfilmentTask, data: dict[str, Any]) -> None:
    services.task_assign(
        task=task,
        by=request.user,
        team=data["team"],
        assignee=data["assignee"],
        expected_version=data["version"],
    )


def _task_take(request: HttpRequest, task: FulfilmentTask, data: dict[str, Any]) -> None:
    team = take_team(task.ticket, request.user)
    services.task_assign(
        task=task,
        by=request.user,
        team=team,
        assignee=request.user,
        expected_version=data["version"],
    )


def _task_transition(request: HttpRequest, task: FulfilmentTask, data: dict[str, Any]) -> None:
    services.task_transition(
        task=task,
        by=request.user,
        target=TaskStatus(data["target"]),
        note=data["note"],
        expected_version=data["version"],
    )


TASK_ACTIONS: dict[str, Action] = {
    "reply": Action(ReplyForm, _task_reply, "reply", "Note added."),
    "assign": Action(AssignForm, _task_assign, "assign", "Assignment changed."),
    "take": Action(VersionedForm, _task_take, "assign", "Assigned to you."),
    "transition": Action(TaskTransitionForm, _task_transition, "transition", "Task updated."),
}


@require_POST
def task_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    return run_action(
        request,
        actions=TASK_ACTIONS,
        action=action,
        load=lambda: _task(request, pk),
        can=permissions.can_work_task,
        render=_render_task,
        panel="#task-panel",
    )
