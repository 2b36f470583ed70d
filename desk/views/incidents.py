"""Desk incident pages. GET pages read through visible_to; each POST action validates a form,
checks one predicate and calls one service. With HTMX the incident panel is re-rendered in
place; without JavaScript the page redirects back (PRG)."""

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from core.views import FilteredListView
from incidents import permissions, services
from incidents.choices import Channel
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident
from slas.models import OlaClock, SlaClock
from slas.querysets import clocks_for_display
from tickets.timeline import timeline_for

from ..bulk import take_team
from ..forms import (
    AssignForm,
    IncidentCreateForm,
    IncidentFieldsForm,
    LinkChildForm,
    OutageForm,
    PriorityOverrideForm,
    ReplyForm,
    TransitionForm,
)
from .actions import Action, Stale, run_action


class IncidentListView(FilteredListView):
    """Incident queue: open incidents by default, IncidentFilterSet shared with the API."""

    template_name = "desk/incidents/list.html"
    filterset_class = IncidentFilterSet
    sort_fields = {
        "number": "ticket__number",
        "priority": "ticket__priority",
        "age": "-ticket__created_at",
        "updated": "ticket__updated_at",
    }
    default_sort = "priority"

    def get_base_queryset(self) -> QuerySet[Incident]:
        queryset = Incident.objects.visible_to(self.request.user).for_list()
        if not self.request.GET.get("status"):
            queryset = queryset.open()
        return queryset


def _incident(request: HttpRequest, pk: int) -> Incident:
    queryset = Incident.objects.visible_to(request.user).select_related(
        "ticket__requester__organization",
        "ticket__assignee",
        "ticket__team",
        "ticket__service",
        "category",
        "subcategory",
        "parent__ticket",
    )
    return get_object_or_404(queryset, pk=pk)


def _forms(incident: Incident) -> dict[str, forms.Form]:
    ticket = incident.ticket
    version = {"version": ticket.version}
    return {
        "reply": ReplyForm(initial=version),
        "fields": IncidentFieldsForm(
            initial={
                **version,
                "title": ticket.title,
                "service": ticket.service_id,
                "category": incident.category_id,
                "subcategory": incident.subcategory_id,
                "impact": incident.impact,
                "urgency": incident.urgency,
            }
        ),
        "priority": PriorityOverrideForm(initial={**version, "priority": ticket.priority}),
        "transition": TransitionForm(initial=version),
        "assign": AssignForm.for_ticket(ticket, version),
        "link": LinkChildForm(),
        "outage": OutageForm(initial={"service": ticket.service_id}),
    }


def _render(
    request: HttpRequest,
    incident: Incident,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
    stale: Stale | None = None,
) -> HttpResponse:
    context = {
        "stale": stale,
        "incident": incident,
        "ticket": incident.ticket,
        "timeline": timeline_for(ticket=incident.ticket, viewer=request.user),
        "children": Incident.objects.filter(parent=incident).select_related("ticket"),
        "outages": incident.outages.select_related("service"),
        "forms": {**_forms(incident), **(bound or {})},
        "can_work": permissions.can_work(request.user, incident),
        "clocks": _clocks(incident),
        "olas": _olas(incident),
    }
    template = "desk/incidents/_incident.html" if request.htmx else "desk/incidents/detail.html"
    return render(request, template, context, status=status)


def _clocks(incident: Incident) -> QuerySet[SlaClock]:
    """The ticket's SLA clocks with policy, calendar, segments and events: three queries."""
    return clocks_for_display(SlaClock.objects.filter(ticket_id=incident.pk))


def _olas(incident: Incident) -> list[OlaClock]:
    """The ticket's team OLA clocks in order, with their teams: one query."""
    return list(OlaClock.objects.filter(ticket_id=incident.pk).select_related("team"))


def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, _incident(request, pk))


def incident_sla(request: HttpRequest, pk: int) -> HttpResponse:
    """The SLA card alone, polled by HTMX every minute to correct the countdown."""
    incident = get_object_or_404(Incident.objects.visible_to(request.user), pk=pk)
    context = {"incident": incident, "clocks": _clocks(incident), "olas": _olas(incident)}
    return render(request, "desk/incidents/_sla.html", context)


# ------------------------------------------------------------------ actions
def _reply(request: HttpRequest, incident: Incident, data: dict[str, Any]) -> None:
    services.incident_comment(
        incident=incident,
        by=request.user,
        body=data["body"],
        public=data["public"],
        uploads=data["attachments"],
        time_spent_minutes=data.get("time_spent_minutes"),
    )


def _fields(request: HttpRequest, incident: Incident, data: dict[str, Any]) -> None:
    version = data.pop("version")
    services.incident_update(incident=incident, by=request.user, expected_version=version, **data)


def _priority(request: HttpRequest, incident: Incident, data: dict[str, Any]) -> None:
    services.incident_override_priority(
        incident=incident,
        by=request.user,
        priority=data["priority"],
        reason=data["reason"],
        expected_version=data["version"],
    )


def _transition(request: HttpRequest, incident: Incident, data: dict[str, Any]) -> None:
    version = data.pop("version")
    services.incident_transition(
        incident=incident, by=request.user, expected_version=version, **data
    )


def _assign(request: HttpRequest, incident: Incident, data: dict[str, Any]) -> None:
    services.incident_assign(
        incident=incident,
        by=request.user,
        team=data["team"],
        assignee=data["assignee"],
        auto=data["auto"],
        expected_version=data["version"],
    )


def _take(request: HttpRequest, incident: Incident, data: dict[str, Any]) -> None:
    team = take_team(incident.ticket, request.user)
    services.incident_assign(
        incident=incident,
        by=request.user,
        team=team,
        assignee=request.user,
        expected_version=data["version"],
    )


def _major(request: HttpRequest, incident: Incident, data: dict[str, Any]) -> None:
    services.incident_mark_major(
        incident=incident,
        by=request.user,
        major=not incident.is_major,
        expected_version=data["version"],
    )


def _link(request: HttpRequest, incident: Incident, data: dict[str, Any]) -> None:
    child = (
        Incident.objects.visible_to(request.user)
        .filter(ticket__number=data["child"].strip().upper())
        .first()
    )
    if child is None:
        raise DomainError("No incident with that number.", field="child")
    services.incident_link_child(parent=incident, child=child, by=request.user)


class VersionOnlyForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


def _outage(request: HttpRequest, incident: Incident, data: dict[str, Any]) -> None:
    services.incident_outage_record(incident=incident, by=request.user, **data)


ACTIONS: dict[str, Action] = {
    "reply": Action(ReplyForm, _reply, "reply", "Reply added."),
    "fields": Action(IncidentFieldsForm, _fields, "fields", "Incident updated."),
    "priority": Action(PriorityOverrideForm, _priority, "priority", "Priority changed."),
    "transition": Action(TransitionForm, _transition, "transition", "Status changed."),
    "assign": Action(AssignForm, _assign, "assign", "Assignment changed."),
    "take": Action(VersionOnlyForm, _take, "assign", "Assigned to you."),
    "major": Action(VersionOnlyForm, _major, "transition", "Major incident flag changed."),
    "link": Action(LinkChildForm, _link, "link", "Child incident linked."),
    "outage": Action(OutageForm, _outage, "outage", "Outage recorded."),
}


@require_POST
def incident_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    return run_action(
        request,
        actions=ACTIONS,
        action=action,
        load=lambda: _incident(request, pk),
        can=permissions.can_work,
        render=_render,
        panel="#incident",
    )


def incident_create_view(request: HttpRequest) -> HttpResponse:
    """Raise an incident on behalf of a caller (phone, walk-in)."""
    # ?title=… prefills (e.g. "Raise an incident" from a failed change)
    initial = {"channel": Channel.PHONE, "title": request.GET.get("title", "")[:200]}
    form = IncidentCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_create(by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, f"{incident.ticket.number} raised for {incident.ticket.requester}."
            )
            return redirect(incident.get_absolute_url())
    status = 422 if request.method == "POST" else 200
    return render(request, "desk/incidents/create.html", {"form": form}, status=status)
