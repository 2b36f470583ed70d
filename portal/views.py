"""Portal pages for end users. Every list starts from visible_to(user)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from core.views import FilteredListView
from incidents.choices import Channel
from incidents.models import Incident
from incidents.permissions import can_confirm, can_reopen
from incidents.services import incident_confirm, incident_create, incident_reopen
from tickets.choices import OPEN_STATES, TicketKind
from tickets.models import Notification, Ticket
from tickets.notifications import notifications_read
from tickets.search import search_q
from tickets.services import ticket_reply
from tickets.timeline import timeline_for

from .forms import CommentForm, ReasonForm, ReportProblemForm


class MyTicketsView(FilteredListView):
    """The signed-in user's tickets (and their organisation's, where it shares)."""

    template_name = "portal/home.html"
    sort_fields = {"number": "number", "updated": "updated_at", "created": "created_at"}
    default_sort = "-updated"
    paginate_by = 20

    def get_base_queryset(self) -> QuerySet[Ticket]:
        user = self.request.user
        queryset = (
            Ticket.objects.visible_to(user)
            .filter(
                Q(requester=user)
                | Q(organization__share_tickets=True, organization=user.organization)
            )
            .exclude(kind=TicketKind.TASK)  # fulfilment tasks are followed through their request
        )
        show = self.request.GET.get("show", "open")
        if show == "open":
            queryset = queryset.filter(state__in=OPEN_STATES)
        elif show == "closed":
            queryset = queryset.exclude(state__in=OPEN_STATES)
        text = self.request.GET.get("q", "").strip()
        if text:
            queryset = queryset.filter(search_q(text))  # a number, or ranked full text
        return queryset.select_related("assignee")


def _portal_ticket(request: HttpRequest, number: str) -> Ticket:
    return get_object_or_404(
        Ticket.objects.visible_to(request.user).select_related("requester", "assignee", "service"),
        number=number.upper(),
    )


def _render_ticket(
    request: HttpRequest, ticket: Ticket, form: CommentForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "ticket": ticket,
        "timeline": timeline_for(ticket=ticket, viewer=request.user),
        "form": form or CommentForm(),
        "actions_template": PORTAL_ACTIONS.get(ticket.kind),
    }
    return render(request, "portal/ticket.html", context, status=status)


def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    """The requester's view of a ticket: status in plain words and the public timeline."""
    return _render_ticket(request, _portal_ticket(request, number))


@require_POST
def ticket_comment_view(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _portal_ticket(request, number)
    form = CommentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_ticket(request, ticket, form, status=422)
    try:
        ticket_reply(
            ticket=ticket,
            by=request.user,
            body=form.cleaned_data["body"],
            public=True,
            uploads=form.cleaned_data["attachments"],
        )
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _render_ticket(request, ticket, form, status=422)
    messages.success(request, "Your comment was added.")
    return redirect(ticket.portal_url)


#: Per-kind partial with the requester's actions (reopen, confirm…).
PORTAL_ACTIONS: dict[str, str] = {
    "incident": "portal/_incident_actions.html",
    "request": "portal/requests/_actions.html",
}


def report_problem(request: HttpRequest) -> HttpResponse:
    """ "Report a problem": raises an incident for the signed-in user."""
    form = ReportProblemForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = incident_create(
                requester=request.user,
                by=request.user,
                title=data["title"],
                description=data["description"],
                service=data["service"],
                urgency=data["urgency"],
                channel=Channel.PORTAL,
                uploads=data["attachments"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            number = incident.ticket.number
            messages.success(request, f"Thanks. Your ticket number is {number}.")
            return redirect(incident.ticket.portal_url)
    status = 422 if request.method == "POST" else 200
    return render(request, "portal/report.html", {"form": form}, status=status)


def _own_incident(request: HttpRequest, number: str) -> Incident:
    return get_object_or_404(
        Incident.objects.visible_to(request.user).select_related("ticket"),
        ticket__number=number.upper(),
    )


@require_POST
def incident_reopen_view(request: HttpRequest, number: str) -> HttpResponse:
    incident = _own_incident(request, number)
    if not can_reopen(request.user, incident):
        raise PermissionDenied
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            incident_reopen(incident=incident, by=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Reopened. An agent will look at it again.")
    else:
        messages.error(request, "Tell us what is still wrong.")
    return redirect(incident.ticket.portal_url)


@require_POST
def incident_confirm_view(request: HttpRequest, number: str) -> HttpResponse:
    incident = _own_incident(request, number)
    if not can_confirm(request.user, incident):
        raise PermissionDenied
    incident_confirm(incident=incident, by=request.user)
    messages.success(request, "Thanks for confirming. The ticket is closed.")
    return redirect(incident.ticket.portal_url)


class NotificationListView(FilteredListView):
    """The signed-in user's notifications, newest first (every role has one)."""

    template_name = "portal/notifications.html"
    paginate_by = 30

    def get_base_queryset(self) -> QuerySet[Notification]:
        return Notification.objects.filter(recipient=self.request.user).select_related("ticket")


@require_POST
def notifications_mark_read(request: HttpRequest) -> HttpResponse:
    notifications_read(user=request.user)
    return redirect("portal:notifications")
