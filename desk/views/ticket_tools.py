"""Working tools on any desk ticket page, whatever its kind: tags, watchers, related tickets,
time spent, canned replies and the Markdown preview of the reply editor.

Every endpoint loads the ticket through `Ticket.objects.visible_to` (hidden → 404), needs an
agent, and calls one tickets service. With HTMX the side-panel partial
(templates/desk/_ticket_tools.html) is re-rendered in place; without JavaScript the page
redirects back to the ticket (PRG)."""

import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import DomainError, StaleWrite
from core.markdown import render_markdown
from tickets.models import Ticket, TicketEvent
from tickets.services import (
    ticket_link,
    ticket_set_tags,
    ticket_unlink,
    ticket_watch,
)

from ..canned import canned_render, canned_replies_for
from ..forms import TagsForm, TicketLinkForm, WatchForm
from ..related import RelatedRow, related_for


@dataclass
class TicketTools:
    """What the side panel shows: watchers, related tickets, time spent, and the forms."""

    ticket: Ticket
    watchers: list[Any]
    watching: bool
    related: list[RelatedRow]
    time_spent_minutes: int
    forms: dict[str, Form] = field(default_factory=dict)


def tools_for(*, ticket: Ticket, user: Any, bound: dict[str, Form] | None = None) -> TicketTools:
    """The side panel's data in four queries whatever the ticket's history: watchers, links
    (desk.related) and the time-spent sum."""
    watchers = list(ticket.watchers.order_by("display_name", "username"))
    related = related_for(ticket=ticket, user=user)
    total = TicketEvent.objects.filter(ticket=ticket).aggregate(t=Sum("time_spent_minutes"))["t"]
    default_forms: dict[str, Form] = {
        "tags": TagsForm(initial={"tags": " ".join(ticket.tags), "version": ticket.version}),
        "link": TicketLinkForm(),
    }
    return TicketTools(
        ticket=ticket,
        watchers=watchers,
        watching=any(w.pk == user.pk for w in watchers),
        related=related,
        time_spent_minutes=total or 0,
        forms={**default_forms, **(bound or {})},
    )


def _ticket(request: HttpRequest, pk: int) -> Ticket:
    """The ticket if the user may see it (404 otherwise, never 403: no existence leak), and
    only for agents: these are desk tools."""
    ticket = get_object_or_404(
        Ticket.objects.visible_to(request.user).select_related("team", "requester"), pk=pk
    )
    if not getattr(request.user, "is_agent", False):
        raise PermissionDenied
    return ticket


def _panel(
    request: HttpRequest,
    ticket: Ticket,
    *,
    bound: dict[str, Form] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    context = {"ticket": ticket, "tools": tools_for(ticket=ticket, user=request.user, bound=bound)}
    response = render(request, "desk/_ticket_tools.html", context)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _done(request: HttpRequest, ticket: Ticket, message: str, **kw: Any) -> HttpResponse:
    if not request.htmx:
        messages.success(request, message)
        return redirect(ticket.get_absolute_url())
    return _panel(request, ticket, **kw)


def _failed(
    request: HttpRequest, ticket: Ticket, key: str, form: Form, exc: DomainError | None
) -> HttpResponse:
    if exc is not None:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    if not request.htmx:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(ticket.get_absolute_url())
    return _panel(request, ticket, bound={key: form})  # htmx swaps only 2xx by default


@require_GET
def ticket_tools_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The side panel alone (for a refresh)."""
    return _panel(request, _ticket(request, pk))


@require_POST
def ticket_tags(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    form = TagsForm(request.POST)
    if not form.is_valid():
        return _failed(request, ticket, "tags", form, None)
    old_version = form.cleaned_data["version"]
    try:
        ticket_set_tags(
            ticket=ticket,
            by=request.user,
            tags=form.cleaned_data["tags"],
            expected_version=old_version,
        )
    except StaleWrite as exc:
        ticket.refresh_from_db()
        return _failed(request, ticket, "tags", TagsForm(request.POST), exc)
    except DomainError as exc:
        return _failed(request, ticket, "tags", form, exc)
    # The rest of the page carries the version it was rendered with; tell it the new one so
    # the agent's next action there is not refused as stale because of their own tag edit.
    trigger = {"ticket-version": {"old": old_version, "new": ticket.version}}
    return _done(request, ticket, "Tags saved.", headers={"HX-Trigger": json.dumps(trigger)})


@require_POST
def ticket_watch_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    form = WatchForm(request.POST)
    form.is_valid()  # a lone optional checkbox: always valid
    try:
        watching = ticket_watch(ticket=ticket, by=request.user, watching=form.cleaned_data["watch"])
    except DomainError as exc:
        return _failed(request, ticket, "watch", form, exc)
    message = "You are watching this ticket." if watching else "You stopped watching."
    return _done(request, ticket, message)


@require_POST
def ticket_links(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    form = TicketLinkForm(request.POST)
    if not form.is_valid():
        return _failed(request, ticket, "link", form, None)
    number = form.cleaned_data["number"].strip().upper()
    other = Ticket.objects.visible_to(request.user).filter(number=number).first()
    try:
        if other is None:  # hidden and missing read the same: no existence leak
            raise DomainError("No ticket with that number.", field="number")
        ticket_link(source=ticket, target=other, kind=form.cleaned_data["kind"], by=request.user)
    except DomainError as exc:
        return _failed(request, ticket, "link", form, exc)
    return _done(request, ticket, f"Linked to {other.number}.")


@require_POST
def ticket_unlink_view(request: HttpRequest, pk: int, link_id: int) -> HttpResponse:
    """Remove a related-ticket link (the button asks for confirmation first)."""
    ticket = _ticket(request, pk)
    try:
        link = ticket_unlink(ticket=ticket, link_id=link_id, by=request.user)
    except DomainError as exc:
        if not request.htmx:
            messages.error(request, exc.message)
            return redirect(ticket.get_absolute_url())
        return HttpResponse(exc.message, status=404)
    other = link.target if link.source_id == ticket.pk else link.source
    return _done(request, ticket, f"Link to {other.number} removed.")


@require_GET
def ticket_canned_render(request: HttpRequest, pk: int, reply_id: int) -> HttpResponse:
    """A canned reply filled in for this ticket, as plain text for the reply editor. Someone
    else's personal reply is a 404, like a reply that does not exist."""
    ticket = _ticket(request, pk)
    reply = get_object_or_404(canned_replies_for(request.user), pk=reply_id)
    text = canned_render(body=reply.body, ticket=ticket, agent=request.user)
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


@require_POST
def ticket_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The reply editor's text rendered by the same safe Markdown renderer as the timeline."""
    _ticket(request, pk)
    body = request.POST.get("body", "")
    if not body.strip():
        return HttpResponse('<p class="muted">Nothing to preview yet.</p>')
    return HttpResponse(render_markdown(body, hard_breaks=True))
