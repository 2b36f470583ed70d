"""Desk change pages: the change queue, the change page (plans, risk questionnaire, approvals,
conflicts, timeline), the change calendar (month and week) and its iCalendar feed.

GET pages read through Change.objects.visible_to; each POST action validates a form, checks
one predicate and calls one service. With HTMX the change panel is re-rendered in place;
without JavaScript the page redirects back (PRG). Times are shown and entered in the
viewer's own time zone."""

import calendar as pycalendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Team, User
from catalogue.models import Service
from changes import permissions, services
from changes.calendar import CalendarEntry, calendar_entries
from changes.choices import (
    BAD_OUTCOMES,
    STAGE_CAB,
    ChangeImpact,
    ChangeStatus,
    ChangeType,
    Outcome,
    Risk,
)
from changes.conflicts import Conflicts, conflicts_of, find_conflicts, service_tree_supported
from changes.filtersets import ChangeFilterSet
from changes.ics import ics_feed
from changes.models import Change, StandardChangeTemplate
from changes.rules import approvals_needed
from changes.windows import day_range, local_midnight, zone
from core.exceptions import DomainError
from core.forms import MultipleFileField
from core.views import FilteredListView
from tickets.choices import ApprovalDecision, TicketKind
from tickets.models import Approval, Ticket, TicketLink
from tickets.querysets import visibility_q
from tickets.timeline import timeline_for

from ..bulk import take_team
from ..forms import ReplyForm as DeskReplyForm
from ..forms import TeamAssignForm
from .actions import Action, Stale, run_action

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def in_viewer_zone(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Render and parse times in the viewer's time zone (user.time_zone)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with timezone.override(zone(getattr(request.user, "time_zone", "UTC"))):
            return view(request, *args, **kwargs)

    return wrapper


# ------------------------------------------------------------------ forms
class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class ChangeCreateForm(forms.Form):
    """Draft a normal or emergency change, or a standard one from the catalogue."""

    template = forms.ModelChoiceField(
        StandardChangeTemplate.objects.filter(active=True),
        required=False,
        label="Standard change",
        help_text="Pre-approved: plans and risk come from the template, no CAB.",
    )
    type = forms.ChoiceField(
        choices=[(ChangeType.NORMAL, "Normal"), (ChangeType.EMERGENCY, "Emergency")],
        initial=ChangeType.NORMAL,
        help_text="Ignored for a standard change.",
    )
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    services = forms.ModelMultipleChoiceField(
        Service.objects.filter(active=True), required=False, help_text="Affected services."
    )
    configuration_items = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="One per line."
    )
    impact = forms.ChoiceField(choices=ChangeImpact.choices, initial=ChangeImpact.MEDIUM)
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    implementation_plan = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    backout_plan = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Back-out plan"
    )
    test_plan = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    planned_start = forms.DateTimeField(required=False, widget=DATETIME)
    planned_end = forms.DateTimeField(required=False, widget=DATETIME)
    team = forms.ModelChoiceField(
        Team.objects.all(), required=False, help_text="Empty: the first service's team."
    )


class ChangeFieldsForm(VersionedForm):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    services = forms.ModelMultipleChoiceField(Service.objects.filter(active=True), required=False)
    configuration_items = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    impact = forms.ChoiceField(choices=ChangeImpact.choices)
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    implementation_plan = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    backout_plan = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Back-out plan"
    )
    test_plan = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    planned_start = forms.DateTimeField(required=False, widget=DATETIME)
    planned_end = forms.DateTimeField(required=False, widget=DATETIME)
    override_reason = forms.CharField(
        required=False,
        label="Override reason (change managers)",
        help_text="Only needed to move a scheduled change into a conflict.",
    )


class RiskForm(VersionedForm):
    """One checkbox per active risk question, named q<pk>."""

    def __init__(self, *args: Any, questions: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[f"q{question.pk}"] = forms.BooleanField(
                required=False,
                label=f"{question.text} (weight {question.weight})",
                help_text=question.help_text,
            )

    def answers(self) -> dict[int, bool]:
        return {q.pk: bool(self.cleaned_data.get(f"q{q.pk}")) for q in self.questions}


class RiskOverrideForm(VersionedForm):
    risk = forms.ChoiceField(choices=Risk.choices)
    reason = forms.CharField(max_length=300)


class TransitionForm(VersionedForm):
    target = forms.ChoiceField(choices=ChangeStatus.choices)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    override_reason = forms.CharField(required=False, label="Override reason")
    emergency_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Why start now"
    )
    outcome = forms.ChoiceField(choices=[("", "—"), *Outcome.choices], required=False)
    actual_start = forms.DateTimeField(required=False, widget=DATETIME)
    actual_end = forms.DateTimeField(required=False, widget=DATETIME)
    review_notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), label="Review notes"
    )


class SendToCabForm(VersionedForm):
    approvers = forms.ModelMultipleChoiceField(
        User.objects.none(), widget=forms.CheckboxSelectMultiple, label="CAB for this change"
    )
    comment = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Your assessment"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["approvers"].queryset = services.cab_candidates()


class DecisionForm(forms.Form):
    approval = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        choices=[(ApprovalDecision.APPROVED, "Approve"), (ApprovalDecision.REJECTED, "Reject")]
    )
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AssignForm(TeamAssignForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].label = "Implementer"


class ReplyForm(VersionedForm):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    public = forms.BooleanField(required=False, initial=True)
    attachments = MultipleFileField(label="Attach files")
    time_spent_minutes = DeskReplyForm.base_fields["time_spent_minutes"]  # one definition


class LinkIncidentForm(forms.Form):
    incident = forms.CharField(label="Incident number", max_length=16)


# ------------------------------------------------------------------ list
class ChangeListView(FilteredListView):
    """Change queue: open changes by default; ChangeFilterSet shared with the API."""

    template_name = "desk/changes/list.html"
    filterset_class = ChangeFilterSet
    sort_fields = {
        "number": "ticket__number",
        "start": "planned_start",
        "risk": "risk",
        "updated": "ticket__updated_at",
    }
    default_sort = "-updated"

    def get_base_queryset(self) -> QuerySet[Change]:
        queryset = Change.objects.visible_to(self.request.user).for_list()
        if not self.request.GET.get("status"):
            queryset = queryset.open()
        return queryset

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with timezone.override(zone(getattr(request.user, "time_zone", "UTC"))):
            return super().get(request, *args, **kwargs).render()


# ------------------------------------------------------------------ detail
def _change(request: HttpRequest, pk: int) -> Change:
    queryset = (
        Change.objects.visible_to(request.user)
        .select_related(
            "ticket__requester__organization",
            "ticket__assignee",
            "ticket__team",
            "ticket__service",
            "template",
        )
        .prefetch_related(Prefetch("services", queryset=Service.objects.order_by("name")))
    )
    return get_object_or_404(queryset, pk=pk)


def _forms(change: Change, user: Any) -> dict[str, forms.Form]:
    ticket = change.ticket
    version = {"version": ticket.version}
    answers = {a["question_id"]: a["answer"] for a in change.risk_answers}
    questions = services.risk_questions()
    now = timezone.now()
    return {
        "reply": ReplyForm(initial=version),
        "fields": ChangeFieldsForm(
            initial={
                **version,
                "title": ticket.title,
                "description": ticket.description,
                "services": [s.pk for s in change.services.all()],
                "configuration_items": change.configuration_items,
                "impact": change.impact,
                "justification": change.justification,
                "implementation_plan": change.implementation_plan,
                "backout_plan": change.backout_plan,
                "test_plan": change.test_plan,
                "planned_start": change.planned_start,
                "planned_end": change.planned_end,
            }
        ),
        "risk": RiskForm(
            initial={**version, **{f"q{pk}": value for pk, value in answers.items()}},
            questions=questions,
        ),
        "risk_override": RiskOverrideForm(initial={**version, "risk": change.risk}),
        "transition": TransitionForm(
            initial={
                **version,
                "actual_start": change.actual_start or now,
                "actual_end": change.actual_end or now,
                "outcome": change.outcome,
                "review_notes": change.review_notes,
            }
        ),
        "send_to_cab": SendToCabForm(
            initial={
                **version,
                # only worth the query when the viewer may send it
                "approvers": [u.pk for u in services.default_approvers(change_type=change.type)]
                if permissions.can_send_to_cab(user, change)
                else [],
            }
        ),
        "assign": AssignForm.for_ticket(ticket, version),
        "link": LinkIncidentForm(),
        "decide": DecisionForm(),
    }


def _approvals(change: Change) -> list[Approval]:
    return list(
        Approval.objects.filter(ticket_id=change.pk)
        .select_related("approver", "approver_team", "decided_by")
        .order_by("stage", "pk")
    )


def _incidents(change: Change, user: Any) -> dict[str, Any]:
    """Incidents this change caused (incidents.Incident.caused_by_change, read through the
    reverse accessor so changes never imports incidents) and incidents it fixes."""
    caused = change.ticket.caused_incidents.select_related("ticket").order_by("pk")
    fixes = TicketLink.objects.filter(source_id=change.pk, kind=services.FIXES).select_related(
        "target"
    )
    q = visibility_q(user, prefix="ticket__")
    if q is not None:
        caused = caused.filter(q)
        target_q = visibility_q(user, prefix="target__")
        fixes = fixes.filter(target_q) if target_q is not None else fixes
    return {"caused": list(caused), "fixes": list(fixes)}


def _context(
    request: HttpRequest, change: Change, bound: dict[str, forms.Form] | None = None
) -> dict[str, Any]:
    user = request.user
    approvals = _approvals(change)
    mine = [a for a in approvals if permissions.can_decide(user, change, a)]
    conflicts = conflicts_of(change) if change.is_open else Conflicts()
    return {
        "change": change,
        "ticket": change.ticket,
        "timeline": timeline_for(ticket=change.ticket, viewer=user),
        "forms": {**_forms(change, user), **(bound or {})},
        "approvals": approvals,
        "my_approvals": mine,
        "conflicts": conflicts,
        "needed": _needed(change, approvals),
        "can_work": permissions.can_work(user, change),
        "can_manage": permissions.can_manage(user, change),
        "can_send_to_cab": permissions.can_send_to_cab(user, change),
        "can_assess_risk": permissions.can_assess_risk(user, change),
        "can_override_risk": permissions.can_override_risk(user, change),
        "bad_outcome": change.outcome in BAD_OUTCOMES,
        "incident_url": _incident_url(change),
        "tree_supported": service_tree_supported(),
        **_incidents(change, user),
    }


def _needed(change: Change, approvals: list[Approval]) -> int:
    seats = [
        a for a in approvals if a.stage == STAGE_CAB and a.decision != ApprovalDecision.CANCELLED
    ]
    if not change.cab_policy or not seats:
        return 0
    return approvals_needed(policy=change.cab_policy, seats=len(seats))


def _incident_url(change: Change) -> str:
    """The desk's incident form, with a title that names the failed change."""
    title = f"Failed change {change.ticket.number}: {change.ticket.title}"[:200]
    return f"{reverse('desk:incident-create')}?{urlencode({'title': title})}"


def _render(
    request: HttpRequest,
    change: Change,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
    stale: Stale | None = None,
) -> HttpResponse:
    template = "desk/changes/_change.html" if request.htmx else "desk/changes/detail.html"
    context = {**_context(request, change, bound), "stale": stale}
    return render(request, template, context, status=status)


@in_viewer_zone
def change_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, _change(request, pk))


# ------------------------------------------------------------------ actions
def _version(data: dict[str, Any]) -> int | None:
    return data.pop("version", None)


def _reply(request: HttpRequest, change: Change, data: dict[str, Any]) -> None:
    services.change_comment(
        change=change,
        by=request.user,
        body=data["body"],
        public=data["public"],
        uploads=data["attachments"],
        time_spent_minutes=data.get("time_spent_minutes"),
    )


def _fields(request: HttpRequest, change: Change, data: dict[str, Any]) -> None:
    version = _version(data)
    override = data.pop("override_reason", "")
    if change.template_id is not None:  # a standard change's plans are the template's
        for name in ("implementation_plan", "backout_plan", "test_plan"):
            data.pop(name, None)
    services.change_update(
        change=change,
        by=request.user,
        expected_version=version,
        override_reason=override,
        **data,
    )


def _risk(request: HttpRequest, change: Change, form: Any) -> None:
    services.change_answer_risk(
        change=change,
        by=request.user,
        answers=form.answers(),
        expected_version=form.cleaned_data["version"],
    )


def _risk_override(request: HttpRequest, change: Change, data: dict[str, Any]) -> None:
    services.change_override_risk(
        change=change,
        by=request.user,
        risk=data["risk"],
        reason=data["reason"],
        expected_version=data["version"],
    )


def _transition(request: HttpRequest, change: Change, data: dict[str, Any]) -> None:
    version = _version(data)
    services.change_transition(change=change, by=request.user, expected_version=version, **data)


def _send_to_cab(request: HttpRequest, change: Change, data: dict[str, Any]) -> None:
    services.change_send_to_cab(
        change=change,
        by=request.user,
        approvers=list(data["approvers"]),
        comment=data["comment"],
        expected_version=data["version"],
    )


def _decide(request: HttpRequest, change: Change, data: dict[str, Any]) -> None:
    approval = Approval.objects.filter(pk=data["approval"], ticket_id=change.pk).first()
    if approval is None or not permissions.can_decide(request.user, change, approval):
        raise PermissionDenied
    services.change_decide(
        change=change,
        approval=approval,
        by=request.user,
        decision=data["decision"],
        comment=data["comment"],
    )


def _assign(request: HttpRequest, change: Change, data: dict[str, Any]) -> None:
    services.change_assign(
        change=change,
        by=request.user,
        team=data["team"],
        assignee=data["assignee"],
        expected_version=data["version"],
    )


def _take(request: HttpRequest, change: Change, data: dict[str, Any]) -> None:
    team = take_team(change.ticket, request.user)
    services.change_assign(
        change=change,
        by=request.user,
        team=team,
        assignee=request.user,
        expected_version=data["version"],
    )


def _link(request: HttpRequest, change: Change, data: dict[str, Any]) -> None:
    incident = (
        Ticket.objects.visible_to(request.user)
        .filter(kind=TicketKind.INCIDENT, number=data["incident"].strip().upper())
        .first()
    )
    if incident is None:
        raise DomainError("No incident with that number.", field="incident")
    services.change_link_incident(change=change, by=request.user, incident=incident)


def _risk_form(data: Any = None, files: Any = None) -> RiskForm:
    """The questionnaire bound to the active questions (they are data, not code)."""
    return RiskForm(data, questions=services.risk_questions())


ACTIONS: dict[str, Action] = {
    "reply": Action(ReplyForm, _reply, "reply", "Reply added."),
    "fields": Action(ChangeFieldsForm, _fields, "fields", "Change updated."),
    "risk": Action(
        _risk_form,
        _risk,
        "risk",
        "Risk assessed.",
        predicate=permissions.can_assess_risk,
        pass_form=True,
    ),
    "risk-override": Action(
        RiskOverrideForm,
        _risk_override,
        "risk_override",
        "Risk set.",
        predicate=permissions.can_override_risk,
    ),
    "transition": Action(TransitionForm, _transition, "transition", "Status changed."),
    "send-to-cab": Action(
        SendToCabForm,
        _send_to_cab,
        "send_to_cab",
        "Sent to the CAB.",
        predicate=permissions.can_send_to_cab,
    ),
    "decide": Action(
        DecisionForm, _decide, "decide", "Decision recorded.", predicate=lambda u, c: True
    ),
    "assign": Action(AssignForm, _assign, "assign", "Assignment changed."),
    "take": Action(VersionedForm, _take, "assign", "Assigned to you."),
    "link": Action(LinkIncidentForm, _link, "link", "Incident linked."),
}


@require_POST
@in_viewer_zone
def change_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    return run_action(
        request,
        actions=ACTIONS,
        action=action,
        load=lambda: _change(request, pk),
        can=permissions.can_work,
        render=_render,
        panel="#change",
    )


@in_viewer_zone
def change_create_view(request: HttpRequest) -> HttpResponse:
    """Draft a change; `?template=<id>` preselects a standard change."""
    initial = {"template": request.GET.get("template"), "title": request.GET.get("title", "")}
    form = ChangeCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            change = services.change_create(by=request.user, **data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"{change.ticket.number} drafted.")
            return redirect(change.get_absolute_url())
    status = 422 if request.method == "POST" else 200
    context = {
        "form": form,
        "templates": StandardChangeTemplate.objects.filter(active=True).prefetch_related(
            "services"
        ),
    }
    return render(request, "desk/changes/create.html", context, status=status)


@in_viewer_zone
def change_conflicts_check(request: HttpRequest) -> HttpResponse:
    """HTMX helper for forms: conflicts of a proposed window (`start`, `end`, `services`,
    `exclude`). Booked changes the viewer may not see are counted, not named."""
    form = forms.Form(request.GET)
    start_field, end_field = forms.DateTimeField(), forms.DateTimeField()
    try:
        start = start_field.clean(request.GET.get("planned_start") or request.GET.get("start"))
        end = end_field.clean(request.GET.get("planned_end") or request.GET.get("end"))
    except forms.ValidationError:
        return render(request, "desk/changes/_conflicts.html", {"conflicts": None, "form": form})
    ids = [int(v) for v in request.GET.getlist("services") if v.isdigit()]
    exclude = request.GET.get("exclude")
    found = (
        find_conflicts(
            start=start,
            end=end,
            service_ids=ids,
            exclude_pk=int(exclude) if exclude and exclude.isdigit() else None,
        )
        if end > start
        else Conflicts()
    )
    visible = set(
        Change.objects.visible_to(request.user)
        .filter(pk__in=[c.pk for c in found.changes])
        .values_list("pk", flat=True)
    )
    hidden = len([c for c in found.changes if c.pk not in visible])
    found.changes = [c for c in found.changes if c.pk in visible]
    context = {"conflicts": found, "hidden": hidden, "checked": True}
    return render(request, "desk/changes/_conflicts.html", context)


# ------------------------------------------------------------------ calendar
@dataclass
class Day:
    day: date
    in_month: bool
    today: bool
    entries: list[CalendarEntry] = field(default_factory=list)


def _parse_day(value: str | None, today: date) -> date:
    try:
        return date.fromisoformat(value) if value else today
    except ValueError:
        return today


def _grid(view: str, anchor: date) -> tuple[date, date]:
    """First and last day shown: whole weeks, Monday first."""
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        return first, first + timedelta(days=6)
    month_first = anchor.replace(day=1)
    month_last = anchor.replace(day=pycalendar.monthrange(anchor.year, anchor.month)[1])
    first = month_first - timedelta(days=month_first.weekday())
    last = month_last + timedelta(days=6 - month_last.weekday())
    return first, last


def _nav(view: str, anchor: date) -> tuple[date, date]:
    if view == "week":
        return anchor - timedelta(days=7), anchor + timedelta(days=7)
    previous = (anchor.replace(day=1) - timedelta(days=1)).replace(day=1)
    following = (anchor.replace(day=28) + timedelta(days=4)).replace(day=1)
    return previous, following


def _bucket(entries: list[CalendarEntry], days: list[Day], tz: Any) -> None:
    """Put each entry on every local day it touches."""
    for day in days:
        start = local_midnight(day.day, tz)
        end = local_midnight(day.day + timedelta(days=1), tz)
        day.entries = [e for e in entries if e.start < end and e.end > start]


@in_viewer_zone
def change_calendar(request: HttpRequest) -> HttpResponse:
    """Month or week view of change windows and blackouts, coloured by risk or state,
    filtered by service and team. Each change links to its page."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    view = "week" if request.GET.get("view") == "week" else "month"
    anchor = _parse_day(request.GET.get("date"), today)
    colour_by = "state" if request.GET.get("colour") == "state" else "risk"
    service = Service.objects.filter(pk=request.GET.get("service") or 0).first()
    team = Team.objects.filter(pk=request.GET.get("team") or 0).first()
    first, last = _grid(view, anchor)
    entries = calendar_entries(
        user=request.user,
        start=local_midnight(first, tz),
        end=local_midnight(last + timedelta(days=1), tz),
        service=service,
        team=team,
        colour_by=colour_by,
    )
    days = [
        Day(day=d, in_month=view == "week" or d.month == anchor.month, today=d == today)
        for d in day_range(first, last)
    ]
    _bucket(entries, days, tz)
    previous, following = _nav(view, anchor)
    params = {
        k: v for k, v in request.GET.items() if k in ("view", "service", "team", "colour") and v
    }
    context = {
        "view": view,
        "anchor": anchor,
        "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
        "days": days,
        "colour_by": colour_by,
        "service": service,
        "team": team,
        "services": Service.objects.filter(active=True).only("pk", "name"),
        "teams": Team.objects.only("pk", "name"),
        "prev_query": urlencode({**params, "date": previous.isoformat()}),
        "next_query": urlencode({**params, "date": following.isoformat()}),
        "today_query": urlencode({**params, "date": today.isoformat()}),
        "week_query": urlencode({**params, "view": "week", "date": anchor.isoformat()}),
        "month_query": urlencode({**params, "view": "month", "date": anchor.isoformat()}),
        "has_feed": hasattr(request.user, "change_feed_token"),
        "entry_count": len(entries),
    }
    return render(request, "desk/changes/calendar.html", context)


@require_POST
def change_calendar_feed_token(request: HttpRequest) -> HttpResponse:
    """Create (or reset) the viewer's secret feed URL and show it once; or switch it off."""
    if request.POST.get("action") == "revoke":
        services.calendar_feed_token_revoke(user=request.user)
        messages.success(request, "Your calendar feed is switched off.")
        return redirect("desk:change-calendar")
    token = services.calendar_feed_token_rotate(user=request.user)
    url = request.build_absolute_uri(reverse("desk:change-calendar-feed", args=[token]))
    return render(request, "desk/changes/feed_created.html", {"feed_url": url})


#: The feed shows this much history and future.
FEED_PAST, FEED_FUTURE = timedelta(days=30), timedelta(days=180)


def change_calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The viewer's iCalendar feed, authenticated by the secret token in the URL (calendar
    apps send no session). Only changes that user may see; unknown tokens are 404."""
    user = services.calendar_feed_user(token=token)
    if user is None or not permissions.can_use_calendar(user):
        raise Http404
    now = timezone.now()
    entries = calendar_entries(user=user, start=now - FEED_PAST, end=now + FEED_FUTURE)

    def url_for(entry: CalendarEntry) -> str:
        return request.build_absolute_uri(reverse("desk:change-detail", args=[entry.id]))

    body = ics_feed(
        entries=entries,
        name=f"Changes ({user})",
        domain=request.get_host().split(":")[0] or "servicedesk",
        url_for=url_for,
        now=now,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="changes.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
